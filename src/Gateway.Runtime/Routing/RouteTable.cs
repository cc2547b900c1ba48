using Gateway.Runtime.Http;

namespace Gateway.Runtime.Routing;

/// <summary>The outcome of matching a request against the route table.</summary>
public enum RouteMatchStatus
{
    Found,
    NotFound,
    MethodNotAllowed,

    /// <summary>A path segment has a malformed percent-escape or is not UTF-8.</summary>
    BadPath,
}

/// <summary>
/// Matches a raw request path against the compiled routes. Segments are compared after percent-decoding each one
/// on its own, so an encoded <c>%2F</c> stays inside its parameter instead of splitting the path.
/// </summary>
public sealed class RouteTable
{
    private const int MaxSegments = 64;

    // Routes indexed by their number of segments: a request can only match routes of its own length.
    private readonly RouteEntry[][] _bySegmentCount;

    public RouteTable(RouteEntry[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Entries = entries;
        int max = 0;
        foreach (RouteEntry entry in entries)
        {
            max = Math.Max(max, entry.Segments.Length);
        }

        // Within a length, a literal segment beats a parameter at the first place two routes differ, as in KrakenD's
        // router: /users/me is chosen over /users/{id}. The sort is stable, so configuration order breaks ties.
        _bySegmentCount = new RouteEntry[max + 1][];
        for (int count = 0; count <= max; count++)
        {
            RouteEntry[] bucket = Array.FindAll(entries, e => e.Segments.Length == count);
            _bySegmentCount[count] = bucket.Select((entry, position) => (entry, position))
                .OrderBy(x => x.entry, Comparer<RouteEntry>.Create(MoreSpecificFirst))
                .ThenBy(x => x.position)
                .Select(x => x.entry)
                .ToArray();
        }
    }

    public IReadOnlyList<RouteEntry> Entries { get; }

    private static int MoreSpecificFirst(RouteEntry a, RouteEntry b)
    {
        for (int i = 0; i < a.Segments.Length; i++)
        {
            if (a.Segments[i].IsParameter != b.Segments[i].IsParameter)
            {
                return a.Segments[i].IsParameter ? 1 : -1;
            }
        }

        return 0;
    }

    /// <param name="method">The request method.</param>
    /// <param name="path">The raw (still percent-encoded) path, starting with '/', without the query.</param>
    /// <param name="entry">The matched route.</param>
    /// <param name="values">Decoded parameter values in path order.</param>
    /// <param name="allowed">For <see cref="RouteMatchStatus.MethodNotAllowed"/>, the methods the path accepts, comma separated.</param>
    public RouteMatchStatus Match(string method, ReadOnlySpan<char> path, out RouteEntry? entry, out string[] values, out string? allowed)
    {
        entry = null;
        values = Array.Empty<string>();
        allowed = null;
        if (path.IsEmpty || path[0] != '/')
        {
            return RouteMatchStatus.NotFound;
        }

        Span<Range> segments = stackalloc Range[MaxSegments + 1];
        int count = path[1..].Split(segments, '/');
        if (count > MaxSegments || count >= _bySegmentCount.Length)
        {
            return RouteMatchStatus.NotFound;
        }

        ReadOnlySpan<char> rest = path[1..];
        RouteEntry? pathMatch = null;
        foreach (RouteEntry candidate in _bySegmentCount[count])
        {
            RouteMatchStatus status = MatchSegments(candidate, rest, segments[..count]);
            if (status == RouteMatchStatus.BadPath)
            {
                return status;
            }

            if (status != RouteMatchStatus.Found)
            {
                continue;
            }

            if (string.Equals(candidate.Method, method, StringComparison.Ordinal))
            {
                entry = candidate;
                return DecodeParameters(candidate, rest, segments[..count], out values) ? RouteMatchStatus.Found : RouteMatchStatus.BadPath;
            }

            if (allowed is null)
            {
                allowed = candidate.Method;
            }
            else if (!allowed.Split(", ").Contains(candidate.Method))
            {
                allowed += ", " + candidate.Method;
            }

            pathMatch = candidate;
        }

        return pathMatch is null ? RouteMatchStatus.NotFound : RouteMatchStatus.MethodNotAllowed;
    }

    /// <summary>
    /// Where KrakenD's router (gin) would redirect a path that matches no route of its method: first the same path with
    /// its trailing slash added or removed (<paramref name="trailingSlash"/>), then the path cleaned of <c>//</c>,
    /// <c>.</c> and <c>..</c> and matched without regard to the case of literal segments (<paramref name="fixedPath"/>,
    /// with the trailing slash toggled too when <paramref name="trailingSlash"/>). Null when none matches. Runs only for
    /// requests that found no route, so it costs a served request nothing.
    /// </summary>
    /// <returns>The path to redirect to: the route's own literal segments, the request's parameter segments as sent.</returns>
    public string? FindRedirect(string method, ReadOnlySpan<char> path, bool trailingSlash, bool fixedPath)
    {
        if (path.Length < 2 || path[0] != '/' || method == "CONNECT")
        {
            return null;
        }

        if (trailingSlash)
        {
            string toggled = path[^1] == '/' ? path[..^1].ToString() : string.Concat(path, "/");
            if (Find(method, toggled, ignoreCase: false) is { } found)
            {
                return found;
            }
        }

        if (!fixedPath)
        {
            return null;
        }

        string cleaned = RoutePaths.Clean(path);
        if (Find(method, cleaned, ignoreCase: true) is { } fixedFound)
        {
            return fixedFound;
        }

        if (trailingSlash && cleaned.Length > 1)
        {
            string toggled = cleaned[^1] == '/' ? cleaned[..^1] : cleaned + "/";
            return Find(method, toggled, ignoreCase: true);
        }

        return null;
    }

    /// <summary>The path a route of <paramref name="method"/> takes for <paramref name="path"/>, spelled as the route spells its literals; null when none.</summary>
    private string? Find(string method, string path, bool ignoreCase)
    {
        if (path.Length == 0 || path[0] != '/' || path.StartsWith("//", StringComparison.Ordinal) || path.StartsWith("/\\", StringComparison.Ordinal))
        {
            // Never a Location that a browser would read as another host (//evil.example, /\evil.example).
            return null;
        }

        ReadOnlySpan<char> rest = path.AsSpan(1);
        Span<Range> segments = stackalloc Range[MaxSegments + 1];
        int count = rest.Split(segments, '/');
        if (count > MaxSegments || count >= _bySegmentCount.Length)
        {
            return null;
        }

        foreach (RouteEntry candidate in _bySegmentCount[count])
        {
            if (!string.Equals(candidate.Method, method, StringComparison.Ordinal))
            {
                continue;
            }

            bool matches = ignoreCase
                ? MatchSegmentsIgnoringCase(candidate, rest, segments[..count])
                : MatchSegments(candidate, rest, segments[..count]) == RouteMatchStatus.Found;
            if (!matches)
            {
                continue;
            }

            var spelled = new System.Text.StringBuilder(path.Length);
            for (int i = 0; i < count; i++)
            {
                spelled.Append('/');
                spelled.Append(candidate.Segments[i].IsParameter ? rest[segments[i]] : Uri.EscapeDataString(candidate.Segments[i].Text));
            }

            // The target goes into a Location header: a path with characters a header cannot carry is not redirected.
            string target = spelled.ToString();
            return Gateway.Http.HttpRules.IsHeaderValue(target) ? target : null;
        }

        return null;
    }

    /// <summary>Like <see cref="MatchSegments"/>, with literal segments compared without regard to case.</summary>
    private static bool MatchSegmentsIgnoringCase(RouteEntry candidate, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments)
    {
        for (int i = 0; i < segments.Length; i++)
        {
            RouteSegment expected = candidate.Segments[i];
            ReadOnlySpan<char> raw = path[segments[i]];
            string decoded = raw.ToString();
            if ((raw.IsEmpty && expected.IsParameter) || (raw.IndexOf('%') >= 0 && !PercentEncoding.TryDecode(raw, out decoded)))
            {
                return false;
            }

            // A parameter's literal affixes (disable_rest) must match as written: the redirect's target then matches exactly.
            bool matches = expected.IsParameter
                ? expected.Capture(decoded) is not null
                : string.Equals(decoded, expected.Text, StringComparison.OrdinalIgnoreCase);
            if (!matches)
            {
                return false;
            }
        }

        return true;
    }

    private static RouteMatchStatus MatchSegments(RouteEntry candidate, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments)
    {
        for (int i = 0; i < segments.Length; i++)
        {
            RouteSegment expected = candidate.Segments[i];
            ReadOnlySpan<char> raw = path[segments[i]];
            if (expected.IsParameter)
            {
                // A parameter captures one non-empty segment (between its literal affixes, with disable_rest).
                if (raw.IsEmpty)
                {
                    return RouteMatchStatus.NotFound;
                }

                if (expected.Prefix.Length > 0 || expected.Suffix.Length > 0)
                {
                    string decodedSegment = raw.ToString();
                    if (raw.IndexOf('%') >= 0 && !PercentEncoding.TryDecode(raw, out decodedSegment))
                    {
                        return RouteMatchStatus.BadPath;
                    }

                    if (expected.Capture(decodedSegment) is null)
                    {
                        return RouteMatchStatus.NotFound;
                    }
                }

                continue;
            }

            if (raw.SequenceEqual(expected.Text))
            {
                continue;
            }

            if (raw.IndexOf('%') < 0)
            {
                return RouteMatchStatus.NotFound;
            }

            if (!PercentEncoding.TryDecode(raw, out string decoded))
            {
                return RouteMatchStatus.BadPath;
            }

            if (!string.Equals(decoded, expected.Text, StringComparison.Ordinal))
            {
                return RouteMatchStatus.NotFound;
            }
        }

        return RouteMatchStatus.Found;
    }

    private static bool DecodeParameters(RouteEntry entry, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments, out string[] values)
    {
        values = entry.ParameterCount == 0 ? Array.Empty<string>() : new string[entry.ParameterCount];
        int next = 0;
        for (int i = 0; i < segments.Length; i++)
        {
            if (!entry.Segments[i].IsParameter)
            {
                continue;
            }

            ReadOnlySpan<char> raw = path[segments[i]];
            string value;
            if (raw.IndexOf('%') < 0)
            {
                value = raw.ToString();
            }
            else if (!PercentEncoding.TryDecode(raw, out value))
            {
                return false;
            }

            string? captured = entry.Segments[i].Capture(value);

            // An (encoded) "." or ".." would become a dot-segment in the backend URL: refuse it here, clearly.
            if (captured is null or "." or "..")
            {
                return false;
            }

            values[next++] = captured;
        }

        return true;
    }
}

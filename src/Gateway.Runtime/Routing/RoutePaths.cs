using System.Text;

namespace Gateway.Runtime.Routing;

/// <summary>
/// Path cleaning as KrakenD's router (gin) does it for <c>remove_extra_slash</c> and fixed-path redirects: repeated
/// slashes become one, <c>.</c> segments go, <c>..</c> removes the segment before it (never above the root), and a
/// trailing slash stays (a path ending in <c>.</c> or <c>..</c> ends with a slash). The path stays percent-encoded: an
/// encoded <c>%2E</c> or <c>%2F</c> is data, not structure.
/// </summary>
public static class RoutePaths
{
    /// <summary>True when <see cref="Clean"/> would change the path.</summary>
    public static bool NeedsCleaning(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty || path[0] != '/')
        {
            return true;
        }

        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] == '/')
            {
                ReadOnlySpan<char> rest = path[(i + 1)..];
                if (rest.StartsWith('/') || IsDotSegment(rest, 1) || IsDotSegment(rest, 2))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The cleaned path, starting with one '/'.</summary>
    public static string Clean(ReadOnlySpan<char> path)
    {
        var kept = new List<Range>();
        bool endsInDots = false;
        int start = 0;
        while (start <= path.Length)
        {
            int slash = path[start..].IndexOf('/');
            int end = slash < 0 ? path.Length : start + slash;
            ReadOnlySpan<char> segment = path[start..end];
            endsInDots = segment is "." or "..";
            if (segment is ".." && kept.Count > 0)
            {
                kept.RemoveAt(kept.Count - 1);
            }
            else if (!segment.IsEmpty && !endsInDots)
            {
                kept.Add(start..end);
            }

            start = end + 1;
        }

        var cleaned = new StringBuilder(path.Length + 1);
        foreach (Range segment in kept)
        {
            cleaned.Append('/').Append(path[segment]);
        }

        if (cleaned.Length == 0 || endsInDots || (path.Length > 0 && path[^1] == '/'))
        {
            cleaned.Append('/');
        }

        return cleaned.ToString();
    }

    /// <summary>True for <c>.</c> (length 1) or <c>..</c> (length 2) as a whole segment at the start of <paramref name="rest"/>.</summary>
    private static bool IsDotSegment(ReadOnlySpan<char> rest, int length) =>
        rest.Length >= length && rest[..length].IndexOfAnyExcept('.') < 0 && (rest.Length == length || rest[length] == '/');
}

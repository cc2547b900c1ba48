namespace Gateway.EndToEnd.Tests;

/// <summary>A request as the strict reading of RFC 9112 sees it: what a gateway may forward of it.</summary>
/// <param name="Method">The method, exactly as sent.</param>
/// <param name="Target">The request target, exactly as sent.</param>
/// <param name="Body">The body once its framing is removed (Latin-1 text, one char per byte).</param>
public sealed record FramedRequest(string Method, string Target, string Body);

/// <summary>How a stream of bytes ends for the strict reader.</summary>
public enum FramingEnd
{
    /// <summary>A request asked for the connection to be closed: the server answers it and closes.</summary>
    Closed,

    /// <summary>A request is malformed or its framing ambiguous: the server answers 400 (or closes) and reads no further.</summary>
    Rejected,

    /// <summary>The bytes stop inside a request (or between requests): the server waits for more.</summary>
    Incomplete,
}

/// <summary>What the strict reader found in a stream: the requests it would pass on, and why it stopped.</summary>
public sealed record Framing(IReadOnlyList<FramedRequest> Requests, FramingEnd End, string Reason);

/// <summary>
/// The request fuzzer's oracle (<see cref="RequestFuzzTests"/>): splits a byte stream into requests as RFC 9112 reads
/// it, strict on everything that decides where a request ends (line endings, obs-fold, <c>Content-Length</c>,
/// <c>Transfer-Encoding</c>, chunk sizes and the lines around them) and lenient on what does not (header values,
/// target characters, chunk extensions' content). A gateway may refuse more than this; it must never pass on a request
/// this reader does not see, nor a body other than the one it sees: that is request smuggling's shape.
/// </summary>
public static class StrictRequestFramer
{
    private const string TokenSymbols = "!#$%&'*+-.^_`|~";

    /// <summary>Reads <paramref name="stream"/> (one char per byte) until a request closes the connection, a request is refused, or the bytes end.</summary>
    public static Framing Read(string stream)
    {
        var requests = new List<FramedRequest>();
        int at = 0;
        while (true)
        {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request line. Kestrel waits on a
            // lone LF there too (for the rest of its line), so these are skipped whatever their order: no request is
            // read from them either way.
            while (at < stream.Length && stream[at] is '\r' or '\n')
            {
                at++;
            }

            if (at == stream.Length)
            {
                return new Framing(requests, FramingEnd.Incomplete, "the bytes end between requests");
            }

            (FramedRequest? request, bool close, FramingEnd? end, string reason) = ReadOne(stream, ref at);
            if (request is null)
            {
                return new Framing(requests, end!.Value, reason);
            }

            requests.Add(request);
            if (close)
            {
                return new Framing(requests, FramingEnd.Closed, "Connection: close");
            }
        }
    }

    private static (FramedRequest? Request, bool Close, FramingEnd? End, string Reason) ReadOne(string s, ref int at)
    {
        if (NextLine(s, ref at, out string line) is { } lineEnd)
        {
            return (null, false, lineEnd, "request line: " + (lineEnd == FramingEnd.Incomplete ? "no CRLF" : "a bare CR or LF"));
        }

        // RFC 9112 §3 allows reading the line on whitespace boundaries; runs of SP and HTAB between the three parts are
        // taken (Kestrel does), nothing else.
        string[] parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (line.Length == 0 || line[0] is ' ' or '\t' || line[^1] is ' ' or '\t')
        {
            return Refused("request line: a space at an end");
        }

        if (parts.Length != 3 || parts[0].Length == 0 || !IsToken(parts[0]) || parts[1].Length == 0 || !IsTarget(parts[1]))
        {
            return Refused("request line: not method SP target SP version");
        }

        bool http10;
        if (parts[2] == "HTTP/1.1")
        {
            http10 = false;
        }
        else if (parts[2] == "HTTP/1.0")
        {
            http10 = true;
        }
        else
        {
            return Refused("version: " + parts[2]);
        }

        var headers = new List<(string Name, string Value)>();
        while (true)
        {
            if (NextLine(s, ref at, out string field) is { } fieldEnd)
            {
                return (null, false, fieldEnd, "header: " + (fieldEnd == FramingEnd.Incomplete ? "no CRLF" : "a bare CR or LF"));
            }

            if (field.Length == 0)
            {
                break;
            }

            // RFC 9112 §5.2: obs-fold in a request is rejected (or replaced); a fold read as a new line would be a header more.
            if (field[0] is ' ' or '\t')
            {
                return Refused("obs-fold");
            }

            int colon = field.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsToken(field[..colon]))
            {
                return Refused("header name");
            }

            string value = field[(colon + 1)..].Trim(' ', '\t');
            if (value.Contains('\0', StringComparison.Ordinal))
            {
                return Refused("NUL in a header value");
            }

            headers.Add((field[..colon], value));
        }

        // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
        int hosts = headers.Count(h => Is(h.Name, "Host"));
        if (hosts > 1 || (hosts == 0 && !http10))
        {
            return Refused(hosts == 0 ? "no Host" : "Host twice");
        }

        string[] connection = Values(headers, "Connection");
        bool close = connection.Any(t => Is(t, "close")) || (http10 && !connection.Any(t => Is(t, "keep-alive")));
        string[] codings = Values(headers, "Transfer-Encoding");
        string[] lengths = Values(headers, "Content-Length");
        bool hasCoding = headers.Any(h => Is(h.Name, "Transfer-Encoding"));
        bool hasLength = headers.Any(h => Is(h.Name, "Content-Length"));
        string body;
        if (hasCoding)
        {
            // RFC 9112 §6.1 and §6.3: Transfer-Encoding with Content-Length, in HTTP/1.0, or not ending in chunked, is
            // faulty framing. Only chunked alone is understood here (a coding before it is not the gateway's to undo).
            if (hasLength)
            {
                return Refused("Transfer-Encoding and Content-Length");
            }

            if (http10)
            {
                return Refused("Transfer-Encoding in HTTP/1.0");
            }

            if (codings.Length != 1 || !Is(codings[0], "chunked"))
            {
                return Refused("Transfer-Encoding: " + string.Join(", ", codings));
            }

            (string? chunked, FramingEnd? chunkEnd, string chunkReason) = ReadChunked(s, ref at);
            if (chunked is null)
            {
                return (null, false, chunkEnd, chunkReason);
            }

            body = chunked;
        }
        else if (hasLength)
        {
            // RFC 9110 §8.6: a list of identical values may be read as one; anything else is faulty framing. A leading
            // "+" is Kestrel's leniency, kept because the gateway cannot see it (docs/reliability.md): read as Kestrel does.
            lengths = lengths.Select(l => l.StartsWith('+') ? l[1..] : l).ToArray();
            if (lengths.Length == 0 || lengths.Any(l => l.Length is 0 or > 15 || !l.All(char.IsAsciiDigit))
                || lengths.Select(l => long.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).Distinct().Count() != 1)
            {
                return Refused("Content-Length: " + string.Join(", ", lengths));
            }

            long length = long.Parse(lengths[0], System.Globalization.CultureInfo.InvariantCulture);
            if (length > s.Length - at)
            {
                return (null, false, FramingEnd.Incomplete, "the body is shorter than its Content-Length");
            }

            body = s.Substring(at, (int)length);
            at += (int)length;
        }
        else
        {
            body = string.Empty;
        }

        return (new FramedRequest(parts[0], parts[1], body), close, null, string.Empty);
    }

    /// <summary>RFC 9112 §7.1: chunk sizes in hex, extensions up to CRLF, CRLF after each chunk's data, trailers, CRLF.</summary>
    private static (string? Body, FramingEnd? End, string Reason) ReadChunked(string s, ref int at)
    {
        var body = new System.Text.StringBuilder();
        while (true)
        {
            if (NextLine(s, ref at, out string sizeLine) is { } sizeEnd)
            {
                return (null, sizeEnd, "chunk size line");
            }

            int digits = 0;
            while (digits < sizeLine.Length && char.IsAsciiHexDigit(sizeLine[digits]))
            {
                digits++;
            }

            string rest = sizeLine[digits..];
            // An extension's content is skipped up to the CRLF (Kestrel does; known, docs/reliability.md): any byte but a
            // bare CR or LF, which NextLine refused already.
            if (digits == 0 || (rest.Length > 0 && rest[0] != ';'))
            {
                return (null, FramingEnd.Rejected, "chunk size: " + sizeLine);
            }

            string hex = sizeLine[..digits].TrimStart('0');
            if (hex.Length > 8 || (hex.Length > 0 && Convert.ToInt64(hex, 16) > int.MaxValue))
            {
                // Larger than anything the gateway accepts (its body limit is 8 MiB): it can only be refused or waited for.
                return (null, FramingEnd.Incomplete, "a chunk larger than 2^31 bytes");
            }

            int size = hex.Length == 0 ? 0 : Convert.ToInt32(hex, 16);
            if (size == 0)
            {
                while (true)
                {
                    if (NextLine(s, ref at, out string trailer) is { } trailerEnd)
                    {
                        return (null, trailerEnd, "trailer");
                    }

                    if (trailer.Length == 0)
                    {
                        return (body.ToString(), null, string.Empty);
                    }

                    // Trailer fields are neither read nor forwarded by the gateway: only what ends them matters
                    // (Kestrel does not check their names; a NUL in one is refused).
                    if (trailer.Contains('\0', StringComparison.Ordinal))
                    {
                        return (null, FramingEnd.Rejected, "trailer field");
                    }
                }
            }

            if (size > s.Length - at)
            {
                return (null, FramingEnd.Incomplete, "chunk data");
            }

            body.Append(s, at, size);
            at += size;
            if (s.Length - at < 2)
            {
                return (null, FramingEnd.Incomplete, "CRLF after chunk data");
            }

            if (s[at] != '\r' || s[at + 1] != '\n')
            {
                return (null, FramingEnd.Rejected, "no CRLF after chunk data");
            }

            at += 2;
        }
    }

    /// <summary>The line at <paramref name="at"/> up to CRLF; null when there is one, else why not (a bare CR or LF refuses).</summary>
    private static FramingEnd? NextLine(string s, ref int at, out string line)
    {
        for (int i = at; i < s.Length; i++)
        {
            if (s[i] == '\n')
            {
                line = string.Empty;
                return FramingEnd.Rejected;
            }

            if (s[i] == '\r')
            {
                if (i + 1 == s.Length)
                {
                    break;
                }

                if (s[i + 1] != '\n')
                {
                    line = string.Empty;
                    return FramingEnd.Rejected;
                }

                line = s[at..i];
                at = i + 2;
                return null;
            }
        }

        line = string.Empty;
        return FramingEnd.Incomplete;
    }

    private static (FramedRequest?, bool, FramingEnd?, string) Refused(string reason) => (null, false, FramingEnd.Rejected, reason);

    private static string[] Values(List<(string Name, string Value)> headers, string name) =>
        headers.Where(h => Is(h.Name, name)).SelectMany(h => h.Value.Split(',')).Select(v => v.Trim(' ', '\t')).Where(v => v.Length > 0).ToArray();

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static bool IsToken(string text) => text.All(c => char.IsAsciiLetterOrDigit(c) || TokenSymbols.Contains(c, StringComparison.Ordinal));

    /// <summary>Lenient: any byte but controls and spaces (which the line's split already took out).</summary>
    private static bool IsTarget(string text) => text.All(c => c > 0x20 && c != 0x7F);
}

using System.Globalization;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>One case of the request fuzzer: the bytes sent on one connection (one char per byte) and how they were made.</summary>
public sealed record RequestFuzzCase(int Number, string Bytes, string Made)
{
    /// <summary>The bytes with controls and bytes past ASCII escaped, shortened, for a failure message.</summary>
    public string Preview()
    {
        var text = new StringBuilder();
        foreach (char c in Bytes.Length > 600 ? Bytes[..600] : Bytes)
        {
            text.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n\n",
                '\t' => "\\t",
                < ' ' or >= '\u007f' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}"),
                _ => c.ToString(),
            });
        }

        return Bytes.Length > 600 ? text + string.Create(CultureInfo.InvariantCulture, $"… ({Bytes.Length} bytes)") : text.ToString();
    }
}

/// <summary>
/// Builds the request fuzzer's cases (<see cref="RequestFuzzTests"/>): a valid seed (a GET, a POST with a length or
/// chunked, a body holding a whole request, two pipelined requests, HTTP/1.0), one to three structured mutations of
/// its request line, headers or body framing, sometimes a byte-level one, then the sentinel: a health request with
/// <c>Connection: close</c>, so that a stream the gateway reads to its end is answered and closed. Case <c>n</c> is
/// built from <c>n</c> alone.
/// </summary>
public static class RequestFuzzCases
{
    /// <summary>The last request of every case: answered by the gateway itself, then the connection closes.</summary>
    public const string Sentinel = "GET /__health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n";

    private static readonly string[] s_methods =
        ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT", "PRI", "get", "Post", "G ET", "GET\0", "", "GE(T", "\u00c9GET", "GET\t", new('G', 300), "M-SEARCH"];

    private static readonly string[] s_versions =
        ["HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/2", "HTTP/0.9", "http/1.1", "HTTP/1.1 ", "", "HTTP/1.10", "HTTP/01.1", "HTTP/1.1\0", "HTTP/1.1 x", "HTTP/1.1\r", "HTTP/1", "HTTP/1.1\t"];

    private static readonly string[] s_targetPieces =
        ["%2e%2e/", "/../", "/./", "//", "/..", "%2F", "%2f..%2f", "%00", "%zz", "%", "%C0%AE", "%E2%80", "%FF", "%25", "#frag", "?", "??x=1", "&", ";p=1", "\\", "..\\", "%5C", "@", ":", "~", "smuggle", "\u00e9", "\u0080", "\u00ff", "\t", "\u007f", "\0", " ", "%0d%0a", "%u002e"];

    private static readonly string[] s_wholeTargets = ["*", "http://gw/f/{m}/abs", "https://gw:443/f/{m}/abs?x=1", "gw:80", "", "/", "//f/{m}/x", "f/{m}/x", "/f/{m}", "/f/{m}/", "/f/{m}/a/b", "/__health", "/__health/../f/{m}/h", "/f/{m}/%2e%2e", "/f/{m}/.", "/f/{m}/.."];

    private static readonly string[] s_lengthValues =
        ["0", "1", "-1", "+5", "0x5", " 5", "5 ", "5,5", "5, 6", "05", "99999999999999999999", "9223372036854775807", "9223372036854775808", "4294967296", "2147483648", "", "five", "5\0", "1e3", "\u0665"];

    private static readonly string[] s_codings =
        ["chunked", "chunked, chunked", "identity, chunked", "chunked, identity", "gzip, chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "xchunked", "chunked\0", "chunked;q=1", "identity", "", "\"chunked\"", "chunk", "chunked,", ",chunked"];

    private static readonly string[] s_chunkSizes =
        ["ffffffff", "80000000", "7fffffff", "100000000", "fffffffffffffffff", "ffffffffffffffffffffffff", "-1", "0x4", "+4", " 4", "4 ", "4\t", "0004", "00000000000000000004", "g", "", "4\0", "1000000", "800001"];

    private static readonly string[] s_chunkExtensions =
        [";a=b", ";", ";a=\"x", ";a=\"x\"", "; a = b", ";a\0", ";a=b\nX", ";a=b\rX", ";" + new string('e', 9000), ";a=\u00ff", ";\"", ";a=b;c"];

    private static readonly string[] s_lineEnds = ["\n", "\r", "\r\r\n", "\n\r", "\r\n\r\n", "", " \r\n", "\0\r\n"];

    /// <summary>Builds case <paramref name="number"/>; <paramref name="marker"/> is the target segment the backend sees it by.</summary>
    public static RequestFuzzCase Build(int number, string marker)
    {
        var random = new Random(unchecked((number * 1_000_003) + 16_04));
        int seed = random.Next(7);
        List<Message> messages = Seed(seed, marker);
        var made = new List<string> { "seed " + seed.ToString(CultureInfo.InvariantCulture) };
        int mutations = 1 + random.Next(3);
        for (int i = 0; i < mutations; i++)
        {
            Message message = messages[random.Next(messages.Count)];
            made.Add(Mutate(message, random, marker));
        }

        string bytes = string.Concat(messages.Select(m => m.Write()));
        if (random.Next(5) == 0)
        {
            (bytes, string how) = MutateBytes(bytes, random);
            made.Add(how);
        }

        return new RequestFuzzCase(number, bytes + Sentinel, string.Join("; ", made));
    }

    private static List<Message> Seed(int seed, string marker)
    {
        string smuggled = $"GET /f/{marker}/smuggle HTTP/1.1\r\nHost: gw\r\nX-Smuggled: 1\r\n\r\n";
        return seed switch
        {
            0 => [Get(marker, "a?q=1&r=%2F")],
            1 => [Post(marker, "b", "{\"a\": 1, \"b\": \"x\"}")],
            2 => [Chunked(marker, "c", "{\"a\": ", "1}")],
            3 => [Post(marker, "d", smuggled)],
            4 => [Chunked(marker, "e", smuggled[..20], smuggled[20..])],
            5 => [Post(marker, "f", "{\"first\": true}"), Get(marker, "g")],
            _ => [Get(marker, "h", "HTTP/1.0")],
        };
    }

    private static Message Get(string marker, string rest, string version = "HTTP/1.1") => new()
    {
        Method = "GET",
        Target = $"/f/{marker}/{rest}",
        Version = version,
        Headers = [new("Host", "gw"), new("X-One", "1"), new("Accept", "*/*")],
    };

    private static Message Post(string marker, string rest, string body) => new()
    {
        Method = "POST",
        Target = $"/f/{marker}/{rest}",
        Headers = [new("Host", "gw"), new("Content-Type", "application/json"), new("Content-Length", body.Length.ToString(CultureInfo.InvariantCulture))],
        Body = body,
    };

    private static Message Chunked(string marker, string rest, params string[] pieces) => new()
    {
        Method = "POST",
        Target = $"/f/{marker}/{rest}",
        Headers = [new("Host", "gw"), new("Transfer-Encoding", "chunked"), new("Content-Type", "application/json")],
        Chunks = [.. pieces.Select(p => new Chunk(p.Length.ToString("x", CultureInfo.InvariantCulture), string.Empty, p, "\r\n"))],
        LastChunk = new Chunk("0", string.Empty, string.Empty, string.Empty),
    };

    /// <summary>One structured mutation of <paramref name="m"/>; returns what it did.</summary>
    private static string Mutate(Message m, Random random, string marker)
    {
        string Pick(string[] from) => from[random.Next(from.Length)];
        switch (random.Next(16))
        {
            case 0:
                m.Method = Pick(s_methods);
                return "method " + m.Method;
            case 1:
            {
                string piece = Pick(s_targetPieces);
                int at = random.Next(m.Target.Length + 1);
                m.Target = m.Target.Insert(at, piece);
                return $"target inserts {piece} at {at}";
            }
            case 2:
                m.Target = Pick(s_wholeTargets).Replace("{m}", marker, StringComparison.Ordinal);
                return "target " + m.Target;
            case 3:
            {
                int length = random.Next(2) == 0 ? random.Next(100, 9000) : 8192 - random.Next(64);
                m.Target += new string('a', length);
                return "target longer by " + length.ToString(CultureInfo.InvariantCulture);
            }
            case 4:
                m.Version = Pick(s_versions);
                return "version " + m.Version;
            case 5:
                (m.BeforeTarget, m.AfterTarget) = random.Next(3) switch { 0 => ("  ", " "), 1 => (" ", "\t"), _ => ("\t", " ") };
                return "request line separators";
            case 6:
                m.Headers.Insert(random.Next(m.Headers.Count + 1), NewHeader(random, marker));
                return "header " + m.Headers.Last().Name;
            case 7:
                if (m.Headers.Count > 0)
                {
                    int at = random.Next(m.Headers.Count);
                    string name = m.Headers[at].Name;
                    m.Headers.RemoveAt(at);
                    return "header removed " + name;
                }

                return "no header to remove";
            case 8:
                if (m.Headers.Count > 0)
                {
                    Header copy = m.Headers[random.Next(m.Headers.Count)];
                    m.Headers.Insert(random.Next(m.Headers.Count + 1), copy with { });
                    return "header twice " + copy.Name;
                }

                return "no header to repeat";
            case 9:
                if (m.Headers.Count > 0)
                {
                    int at = random.Next(m.Headers.Count);
                    m.Headers[at] = m.Headers[at] with { End = Pick(s_lineEnds) };
                    return "header line end " + m.Headers[at].Name;
                }

                m.LineEnd = Pick(s_lineEnds);
                return "request line end";
            case 10:
                m.HeadEnd = Pick(s_lineEnds);
                return "head end";
            case 11:
            {
                string value = Pick(s_lengthValues);
                int at = m.Headers.FindIndex(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
                if (at < 0 || random.Next(3) == 0)
                {
                    m.Headers.Add(new("Content-Length", value));
                }
                else
                {
                    m.Headers[at] = m.Headers[at] with { Value = value };
                }

                return "Content-Length " + value;
            }
            case 12:
            {
                string value = Pick(s_codings);
                m.Headers.Add(new(random.Next(4) == 0 ? "transfer-encoding" : "Transfer-Encoding", value));
                if (m.Chunks is null && random.Next(2) == 0)
                {
                    m.Chunks = [new Chunk(m.Body.Length.ToString("x", CultureInfo.InvariantCulture), string.Empty, m.Body, "\r\n")];
                    m.LastChunk = new Chunk("0", string.Empty, string.Empty, string.Empty);
                    return "Transfer-Encoding " + value + ", body chunked";
                }

                return "Transfer-Encoding " + value;
            }
            case 13 when m.Chunks is { Count: > 0 }:
            {
                int at = random.Next(m.Chunks.Count);
                switch (random.Next(5))
                {
                    case 0:
                        m.Chunks[at] = m.Chunks[at] with { Size = Pick(s_chunkSizes) };
                        return "chunk size " + m.Chunks[at].Size;
                    case 1:
                        m.Chunks[at] = m.Chunks[at] with { Extension = Pick(s_chunkExtensions) };
                        return "chunk extension";
                    case 2:
                        m.Chunks[at] = m.Chunks[at] with { DataEnd = Pick(s_lineEnds) };
                        return "chunk data end";
                    case 3:
                        m.Chunks[at] = m.Chunks[at] with { Data = m.Chunks[at].Data + "xx" };
                        return "chunk data longer than its size";
                    default:
                        m.LastChunk = new Chunk("00", Pick(s_chunkExtensions), string.Empty, string.Empty);
                        return "last chunk extension";
                }
            }

            case 13:
            case 14 when m.Chunks is not null:
                switch (random.Next(4))
                {
                    case 0:
                        m.LastChunk = null;
                        return "no last chunk";
                    case 1:
                        m.Trailers = "X-Trailer: 1\r\n";
                        return "trailer";
                    case 2:
                        m.Trailers = "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n";
                        return "framing trailers";
                    default:
                        m.TrailersEnd = Pick(s_lineEnds);
                        return "trailers end";
                }

            case 14:
                m.Body = random.Next(2) == 0 ? m.Body + "extra" : m.Body[..random.Next(m.Body.Length + 1)];
                return "body length changed";
            default:
                m.Headers.Insert(random.Next(m.Headers.Count + 1), new Header("X-Fold", "a") { End = "\r\n" + (random.Next(2) == 0 ? " " : "\t") + "folded\r\n" });
                return "obs-fold";
        }
    }

    private static Header NewHeader(Random random, string marker)
    {
        string[] values = ["1", "", " spaced ", "a\0b", "a\rb", "a\nb", "a\r\nX-Injected: 1", "\u007f", "\u00e9t\u00e9", "\u00ff\u00fe", "x\tx", new('v', random.Next(100, 40_000))];
        return random.Next(12) switch
        {
            0 => new("Host", random.Next(3) switch { 0 => "gw", 1 => "other.example", _ => string.Empty }),
            1 => new("Host", random.Next(2) == 0 ? "g w" : "a@b:x"),
            2 => new("Expect", random.Next(2) == 0 ? "100-continue" : "teapot"),
            3 => new("Connection", random.Next(3) switch { 0 => "keep-alive", 1 => "close, X-One", _ => "upgrade" }),
            4 => new("Upgrade", random.Next(2) == 0 ? "h2c" : "websocket"),
            5 => new("X One", "1"),
            6 => new("X-One ", "1"),
            7 => new("XOne", "1") { Separator = string.Empty },
            8 => new(string.Empty, "v"),
            9 => new("X-Long", new string('x', random.Next(1000, 40_000))),
            10 => new("X-Marker", $"/f/{marker}/smuggle"),
            _ => new("X-Fuzz", values[random.Next(values.Length)]),
        };
    }

    /// <summary>A byte-level mutation anywhere in the case's requests (the sentinel is left alone).</summary>
    private static (string Bytes, string How) MutateBytes(string bytes, Random random)
    {
        char[] interesting = ['\r', '\n', '\0', ' ', '\t', ':', '%', '/', '.', '\u0080', '\u00ff', ';', '0', 'f'];
        int at = random.Next(bytes.Length);
        char c = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (char)random.Next(256);
        return random.Next(5) switch
        {
            0 => (bytes.Remove(at, 1).Insert(at, c.ToString()), "byte replaced"),
            1 => (bytes.Remove(at, 1), "byte removed"),
            2 => (bytes.Insert(at, c.ToString()), "byte inserted"),
            3 => (bytes[..at], "cut short"),
            _ => (bytes.Insert(at, bytes.Substring(at, Math.Min(random.Next(1, 64), bytes.Length - at))), "range repeated"),
        };
    }

    private sealed record Header(string Name, string Value)
    {
        public string Separator { get; init; } = ": ";

        public string End { get; init; } = "\r\n";
    }

    private sealed record Chunk(string Size, string Extension, string Data, string DataEnd);

    /// <summary>A request before it is written: each part separately mutable.</summary>
    private sealed class Message
    {
        public string Method { get; set; } = "GET";

        public string BeforeTarget { get; set; } = " ";

        public string Target { get; set; } = "/";

        public string AfterTarget { get; set; } = " ";

        public string Version { get; set; } = "HTTP/1.1";

        public string LineEnd { get; set; } = "\r\n";

        public List<Header> Headers { get; init; } = [];

        public string HeadEnd { get; set; } = "\r\n";

        public string Body { get; set; } = string.Empty;

        public List<Chunk>? Chunks { get; set; }

        public Chunk? LastChunk { get; set; }

        public string Trailers { get; set; } = string.Empty;

        public string TrailersEnd { get; set; } = "\r\n";

        public string Write()
        {
            var text = new StringBuilder();
            text.Append(Method).Append(BeforeTarget).Append(Target).Append(AfterTarget).Append(Version).Append(LineEnd);
            foreach (Header header in Headers)
            {
                text.Append(header.Name).Append(header.Separator).Append(header.Value).Append(header.End);
            }

            text.Append(HeadEnd);
            if (Chunks is null)
            {
                return text.Append(Body).ToString();
            }

            foreach (Chunk chunk in Chunks)
            {
                text.Append(chunk.Size).Append(chunk.Extension).Append("\r\n").Append(chunk.Data).Append(chunk.DataEnd);
            }

            if (LastChunk is { } last)
            {
                text.Append(last.Size).Append(last.Extension).Append("\r\n").Append(Trailers).Append(TrailersEnd);
            }

            return text.ToString();
        }
    }
}

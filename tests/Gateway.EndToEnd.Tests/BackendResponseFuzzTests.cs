using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Runtime.Forwarding;
using Xunit.Abstractions;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The response side of the gateway's own HTTP/1.1 client under fuzzing, end to end on loopback sockets: a
/// <see cref="RawBackend"/> answers each call of <c>/get/f{n}</c> (Configs/conformance.json) with case <c>n</c> of
/// <see cref="ResponseFuzzCases"/> (a valid JSON answer framed by length or chunks, with one to three mutations of its
/// head, framing and delivery), then the next call, <c>/get/m{n}</c>, with a clean answer of its own. For every case:
/// the gateway answers within <see cref="s_bound"/>; only a complete 200 or the failed step's 500 (no other 5xx); a
/// complete 200 carries exactly the body a strict RFC 9112 reading of the bytes gives (<see cref="StrictResponseReader"/>),
/// and none when that reading refuses them; and the next call gets its own answer, never bytes left over from the case
/// on a reused connection. Each case is then relayed by <c>/noop/f{n}</c> (no-op: the answer streamed as it comes) and
/// checked the same way (<see cref="CheckRelayed"/>), followed by its own clean call. CI runs <see cref="CiCases"/>; <c>GATEWAY_RESPONSE_FUZZ_CASES</c> sets the count,
/// <c>GATEWAY_RESPONSE_FUZZ_CASE</c> runs one case with what was sent and answered in the test's output. Case <c>n</c>
/// is built from the seed <c>n</c> alone.
/// </summary>
public sealed class BackendResponseFuzzTests(ITestOutputHelper output)
{
    private const int CiCases = 300;

    private const string Completed = "X-KrakenD-Completed";

    /// <summary>
    /// Cases CI leaves out because they fail on a known defect that is not fixed yet (each with its reason); a count
    /// set by <c>GATEWAY_RESPONSE_FUZZ_CASES</c> runs them.
    /// </summary>
    private static readonly Dictionary<int, string> s_knownFailing = new()
    {
        // None now. Both defects this fuzzer found are fixed: bytes after a Content-Length body read as the next call's
        // answer (seeds 122, 218: every reused connection is checked for unsolicited bytes first) and codings before
        // a final chunked ignored (seeds 95, 99, 261: a Transfer-Encoding other than one "chunked" fails the step).
    };

    /// <summary>How long one call may take: past the endpoint's 3 s timeout, so that only a hang reaches it.</summary>
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(5);

    private int _traced = -1;

    [Fact]
    public async Task MutatedResponses_BoundedAnswersStrictBodiesAndNoLeftoversOnTheNextCall()
    {
        (int first, int count, bool all) = Range();
        var cases = new ConcurrentDictionary<int, ResponseFuzzCase>();
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            string mode = head.Split(' ')[1].Split('/')[2];
            int number = int.Parse(mode.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);
            if (mode[0] == 'm')
            {
                // The clean answer of the call after a case: a body no case's bytes hold.
                string marker = MarkerJson(number);
                await RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {marker.Length}\r\n\r\n{marker}");
                return true;
            }

            // A call sent again (after a reused connection closed before its answer) gets the same bytes.
            ResponseFuzzCase fuzz = cases.GetOrAdd(number, ResponseFuzzCases.Build);
            int at = 0;
            foreach (int split in fuzz.Splits.Append(fuzz.Bytes.Length))
            {
                if (at > 0)
                {
                    // Pieces apart in time, so that the client reads the head and the body in separate receives.
                    await Task.Delay(1);
                }

                await stream.WriteAsync(fuzz.Bytes.AsMemory(at, split - at));
                at = split;
            }

            return !fuzz.CloseAfter;
        });
        await using GatewayUnderTest gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Conformance.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://raw.test:8080"] = raw.BaseUrl },
            options => options.Backend.HttpClient = BackendHttpClient.Gateway);

        var failures = new List<string>();
        var failing = new List<int>();
        var outcomes = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        int run = 0;
        for (int n = first; n < first + count; n++)
        {
            if (!all && s_knownFailing.ContainsKey(n))
            {
                continue;
            }

            run++;
            ResponseFuzzCase fuzz = cases.GetOrAdd(n, ResponseFuzzCases.Build);
            StrictReading strict = StrictResponseReader.Read(fuzz.Bytes, fuzz.CloseAfter);
            Answer? answer = await CallAsync(gateway, string.Create(CultureInfo.InvariantCulture, $"/get/f{n}"));
            Answer? next = await CallAsync(gateway, string.Create(CultureInfo.InvariantCulture, $"/get/m{n}"));
            string outcome = answer is null ? "no answer" : answer.Status == 200 && answer.Completed == "true" ? "200" : string.Create(CultureInfo.InvariantCulture, $"{answer.Status}");
            outcomes[$"strict {strict.End}, gateway {outcome}"] = outcomes.GetValueOrDefault($"strict {strict.End}, gateway {outcome}") + 1;
            if (n == _traced)
            {
                output.WriteLine($"{fuzz.Describe()}\nstrict reading: {strict}\nanswered: {answer}\nnext call answered: {next}\nbackend saw: {string.Join(", ", raw.Received.Select(r => r.Connection + " " + r.Head.Split("\r\n")[0]))}");
            }

            Answer? relayed = await CallAsync(gateway, string.Create(CultureInfo.InvariantCulture, $"/noop/f{n}"), bytes: true);
            Answer? relayedNext = await CallAsync(gateway, string.Create(CultureInfo.InvariantCulture, $"/get/m{n}"));
            string relayedOutcome = relayed is null ? "no answer" : relayed.BrokenOff ? "broken off" : relayed.Status == 500 && relayed.Body.Length == 0 ? "failed" : "relayed";
            outcomes[$"strict {strict.End}, no-op {relayedOutcome}"] = outcomes.GetValueOrDefault($"strict {strict.End}, no-op {relayedOutcome}") + 1;
            if (n == _traced)
            {
                output.WriteLine($"no-op answered: {relayed}\nnext call answered: {relayedNext}");
            }

            if ((Check(answer, strict, "the case's call") ?? CheckNext(next, n) ?? CheckRelayed(relayed, strict) ?? CheckNext(relayedNext, n)) is { } failure)
            {
                failing.Add(n);
                failures.Add($"{failure}\n  {fuzz.Describe()}\n  strict reading: {strict}");
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{run} cases from {first} in {clock.Elapsed.TotalSeconds:F1} s, {raw.Connections} backend connections; {string.Join("; ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}: {o.Value}"))}; {failures.Count} failures"));
        Assert.True(failures.Count == 0, $"{failures.Count} failing cases: {string.Join(",", failing)}\n\n{string.Join("\n\n", failures.Take(10))}");
    }

    private (int First, int Count, bool All) Range()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_RESPONSE_FUZZ_CASE"), NumberStyles.None, CultureInfo.InvariantCulture, out int single))
        {
            // One case, with what was sent and answered in the test's output.
            _traced = single;
            return (single, 1, true);
        }

        return int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_RESPONSE_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? (0, n, true)
            : (0, CiCases, false);
    }

    /// <summary>
    /// The answer to a case: within the bound; a complete 200 only when the strict reading accepts the bytes, with its
    /// body; otherwise the failed step (500, incomplete, the reason <c>return_error_msg</c> shows). Null when it passes.
    /// </summary>
    private static string? Check(Answer? answer, StrictReading strict, string call)
    {
        if (answer is null)
        {
            return $"{call}: no answer within {s_bound.TotalSeconds} s";
        }

        if (answer.Status == 200 && answer.Completed == "true")
        {
            if (strict.End != StrictEnd.Complete)
            {
                return $"{call}: a complete 200 for bytes the strict reading refuses: {Shorten(answer.Body)}";
            }

            if (strict.Status is not (200 or 201))
            {
                return $"{call}: a complete 200 for a backend status {strict.Status}: {Shorten(answer.Body)}";
            }

            // The gateway reads the first JSON value and ignores bytes after it, as KrakenD does (JsonObjectBody).
            if (!TryParseFirst(strict.Body, out JsonNode? expected))
            {
                return $"{call}: a complete 200 for a body that is not JSON in the strict reading: {Shorten(answer.Body)}";
            }

            return TryParse(answer.Body, out JsonNode? actual) && JsonNode.DeepEquals(expected, actual)
                ? null
                : $"{call}: a complete 200 whose body is not the strict reading's: {Shorten(answer.Body)}";
        }

        // Anything else but a 5xx is no failure of the client (a JSON decoder's choice, say); a 5xx is the failed step only.
        return answer.Status < 500 || (answer.Status == 500 && answer.Completed == "false" && answer.Body.StartsWith("backend 0: ", StringComparison.Ordinal))
            ? null
            : $"{call}: answered {answer.Status} (completed {answer.Completed ?? "absent"}), not a complete 200 nor the failed step: {Shorten(answer.Body)}";
    }

    /// <summary>
    /// The no-op relay of a case: within the bound. A relayed answer (neither the failed step's empty 500 nor broken off)
    /// only for bytes the strict reading accepts, with their status and exactly their body. Broken off (the client's
    /// connection aborted: the relay had begun when the bytes turned out cut or malformed) or the failed step are
    /// always allowed: never a whole answer with other bytes.
    /// </summary>
    private static string? CheckRelayed(Answer? answer, StrictReading strict)
    {
        if (answer is null)
        {
            return $"the no-op call: no answer within {s_bound.TotalSeconds} s";
        }

        bool exact = strict.End == StrictEnd.Complete && answer.Status == strict.Status
            && (answer.Body == strict.Body || strict.Status is 204 or 304 && answer.Body.Length == 0);
        if (answer.BrokenOff || exact || (answer.Status == 500 && answer.Body.Length == 0))
        {
            return null;
        }

        return strict.End == StrictEnd.Complete
            ? $"the no-op call: relayed {answer.Status} with {answer.Body.Length} bytes, not the strict reading's {strict.Status} with {strict.Body.Length}: {Shorten(answer.Body)}"
            : $"the no-op call: relayed {answer.Status} whole for bytes the strict reading refuses ({strict}): {Shorten(answer.Body)}";
    }

    /// <summary>The call after a case: its own answer, whatever the case left on the connection.</summary>
    private static string? CheckNext(Answer? next, int number)
    {
        if (next is null)
        {
            return $"the next call: no answer within {s_bound.TotalSeconds} s";
        }

        return next.Status == 200 && next.Completed == "true" && TryParse(next.Body, out JsonNode? body) && JsonNode.DeepEquals(JsonNode.Parse(MarkerJson(number)), body)
            ? null
            : $"the next call: answered {next.Status} (completed {next.Completed ?? "absent"}) {Shorten(next.Body)}, not its own answer {MarkerJson(number)}";
    }

    private static bool TryParse(string json, out JsonNode? node)
    {
        try
        {
            node = JsonNode.Parse(json);
            return true;
        }
        catch (JsonException)
        {
            node = null;
            return false;
        }
    }

    /// <summary>The first JSON value of a body read as bytes (one char per byte), whatever follows it.</summary>
    private static bool TryParseFirst(string latin1, out JsonNode? node)
    {
        var reader = new Utf8JsonReader(Encoding.Latin1.GetBytes(latin1), new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            node = JsonNode.Parse(ref reader);
            return true;
        }
        catch (JsonException)
        {
            node = null;
            return false;
        }
    }

    private static string MarkerJson(int number) => string.Create(CultureInfo.InvariantCulture, $$"""{"marker":{{number}}}""");

    /// <summary>
    /// A GET bounded by <see cref="s_bound"/>; null when the gateway did not answer within it. With <paramref name="bytes"/>
    /// the body is read as bytes (one char per byte, as the strict reading's), and an answer whose connection broke off
    /// is returned as such.
    /// </summary>
    private static async Task<Answer?> CallAsync(GatewayUnderTest gateway, string path, bool bytes = false)
    {
        using var bound = new CancellationTokenSource(s_bound);
        int status = 0;
        try
        {
            using HttpResponseMessage response = await gateway.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, bound.Token);
            status = (int)response.StatusCode;
            string? completed = response.Headers.TryGetValues(Completed, out IEnumerable<string>? values) ? values.Single() : null;
            string body = bytes
                ? Encoding.Latin1.GetString(await response.Content.ReadAsByteArrayAsync(bound.Token))
                : await response.Content.ReadAsStringAsync(bound.Token);
            return new Answer(status, completed, body);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e) when (bytes && e is HttpRequestException or IOException)
        {
            // The gateway aborted the client's connection: before its head reached the client (status 0), or mid-body.
            return new Answer(status, null, string.Empty, BrokenOff: true);
        }
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + string.Create(CultureInfo.InvariantCulture, $"… ({text.Length} chars)") : text;

    /// <summary>What the gateway's client received.</summary>
    private sealed record Answer(int Status, string? Completed, string Body, bool BrokenOff = false);
}

/// <summary>
/// One case of the response fuzzer: the bytes the backend writes (in pieces split at <see cref="Splits"/>), whether it
/// closes the connection after them, and how they were made.
/// </summary>
public sealed record ResponseFuzzCase(int Number, byte[] Bytes, int[] Splits, bool CloseAfter, string Made)
{
    /// <summary>The case for a failure message: its seed, mutations and bytes (controls and bytes past ASCII escaped, shortened).</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        int shown = Math.Min(Bytes.Length, 800);
        foreach (byte b in Bytes.AsSpan(0, shown))
        {
            text.Append(b switch
            {
                (byte)'\r' => "\\r",
                (byte)'\n' => "\\n",
                (byte)'\\' => "\\\\",
                < (byte)' ' or >= 0x7f => string.Create(CultureInfo.InvariantCulture, $"\\x{b:X2}"),
                _ => ((char)b).ToString(),
            });
        }

        string more = shown < Bytes.Length ? string.Create(CultureInfo.InvariantCulture, $"… ({Bytes.Length} bytes)") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"case {Number} (seed {Number}; GATEWAY_RESPONSE_FUZZ_CASE={Number} replays it): {Made}; written in {Splits.Length + 1} pieces (split at {string.Join(",", Splits)}), then {(CloseAfter ? "closed" : "kept open")}\n  bytes: \"{text}{more}\"");
    }
}

/// <summary>
/// Builds the response fuzzer's cases (<see cref="BackendResponseFuzzTests"/>): a valid 200 with a small JSON object,
/// framed by <c>Content-Length</c> or chunked, then one to three mutations: of the framing headers (duplicated, dropped,
/// wrong, badly written, both at once), of chunk sizes and chunk syntax, of header lines (folded, NUL/CR/LF in values,
/// thousands of them), interim answers before it, status lines, bytes flipped, inserted or deleted in the head, line
/// ends lost, the answer cut and the connection closed, junk or a whole second answer right after it. Mutations of the
/// message come first, then those of its bytes, then what follows it.
/// </summary>
public static class ResponseFuzzCases
{
    private delegate string Mutation(Draft draft, Random random);

    private static readonly (string Name, Mutation Apply)[] s_messageMutations =
    [
        ("duplicate-length", DuplicateLength),
        ("drop-framing", (d, _) =>
        {
            d.Headers.RemoveAll(h => IsNamed(h, "Content-Length") || IsNamed(h, "Transfer-Encoding"));
            return "drop-framing";
        }),
        ("wrong-length", WrongLength),
        ("length-syntax", LengthSyntax),
        ("transfer-coding", TransferCoding),
        ("chunk-size", ChunkSize),
        ("chunk-extension", ChunkExtension),
        ("trailers", Trailers),
        ("obs-fold", ObsFold),
        ("value-byte", ValueByte),
        ("many-headers", ManyHeaders),
        ("interim", Interim),
        ("status-line", StatusLine),
        ("connection", (d, r) =>
        {
            string value = Pick(r, ["close", "keep-alive", "Close", "upgrade", "close, keep-alive"]);
            d.Headers.Insert(r.Next(d.Headers.Count + 1), "Connection: " + value);
            return "connection " + value;
        }),
        ("not-an-object", (d, r) =>
        {
            d.Body = Pick(r, ["[1,2]", "\"s\"", "null", string.Empty, "{\"a\":", "{} {}"]);
            d.Rechunk(r);
            d.SetLength(d.Body.Length);
            return "body " + d.Body;
        }),
    ];

    private static readonly string[] s_statusLines =
    [
        "HTTP/1.1 201 Created", "HTTP/1.0 200 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified", "HTTP/1.1 404 Not Found",
        "HTTP/1.1 500 Internal Server Error", "HTTP/1.1 200", "HTTP/1.1 200 ", "HTTP/1.2 200 OK", "HTTP/2 200", "http/1.1 200 OK",
        "HTTP/1.1  200 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 X", "HTTP/1.1 20 OK", "HTTP/1.1 200 O\0K", "HTTP/1.1 200\tOK", "HTTP/1.1 2x0 OK",
        " HTTP/1.1 200 OK", "HTTP/1.1 200 \u00e9t\u00e9", "HTTP/1.1 302 Found", "ICY 200 OK",
    ];

    private static readonly string[] s_interims =
    [
        "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", "HTTP/1.1 102 Processing\r\n\r\n",
        "HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n",
        "HTTP/1.1 199 Whatever\r\nX-A: 1\r\n\r\n", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n",
    ];

    private static readonly string[] s_lengthValues =
        ["+{0}", " {0} ", "0{0}", "{0},{0}", "{0}, {0}", "0x{0}", string.Empty, "-1", "{0}.0", "{0}\t", "1e2", "\u00b9", "{0} {0}", "00000000000000000{0}", "99999999999999999999", "{0};", "\"{0}\""];

    private static readonly string[] s_codings =
        ["chunked, chunked", "gzip, chunked", "Chunked", "CHUNKED", "chunked,", ",chunked", " chunked ", "chunked;q=1", "identity", "gzip", "chunked\v", "xchunked", "chunked, gzip", "identity, chunked"];

    private static readonly string[] s_chunkSizes =
        ["FFFFFFFFFFFFFFFF", "7fffffff", "ffffffff", "100000000", "0", "-1", "g", string.Empty, " {0}", "{0} ", "{0}\t", "0x{0}", "000{0}", "0000000000000000{0}", "{0}\0", "+{0}"];

    private static readonly string[] s_extensions =
        [";ext", "; ext=1", " ;ext", "\t;ext=\"q\"", ";ext=\"a\\\"b\"", "ext", " x", ";", ";" + new string('e', 9000), ";a\0b", ";a\rb"];

    private static readonly string[] s_trailers =
        ["X-Trailer: 1", "X-Trailer: a\0b", "not a field", " folded", "X-Trailer:", ": no name", "X-Trailer: " + new string('t', 70 * 1024)];

    private static readonly byte[] s_interestingBytes = [0, (byte)' ', (byte)'\t', (byte)'\r', (byte)'\n', (byte)':', (byte)',', (byte)';', (byte)'0', (byte)'9', (byte)'a', 0x7f, 0x80, 0xff, 0x0b];

    /// <summary>Case <paramref name="number"/>, built from the seed <paramref name="number"/> alone.</summary>
    public static ResponseFuzzCase Build(int number)
    {
        var random = new Random(number);
        var draft = new Draft(number, random);
        int count = 1 + random.Next(3);
        var made = new List<string> { draft.Chunked ? "chunked" : "length" };

        // Kinds drawn first, then applied in phases: the message, its bytes, what follows it.
        int[] kinds = [.. Enumerable.Range(0, count).Select(_ => random.Next(s_messageMutations.Length + 6)).Order()];
        foreach (int kind in kinds.Where(k => k < s_messageMutations.Length))
        {
            made.Add(s_messageMutations[kind].Apply(draft, random));
        }

        var bytes = new List<byte>(Encoding.Latin1.GetBytes(draft.Serialize(out int headStart, out int headEnd)));
        bool closeAfter = false;
        int messageEnd = -1;
        foreach (int kind in kinds.Where(k => k >= s_messageMutations.Length))
        {
            // A byte inserted or deleted, or a line end lost, moves the head's end: kept within the bytes.
            headEnd = Math.Min(headEnd, bytes.Count - 1);
            switch (kind - s_messageMutations.Length)
            {
                case 0:
                    int at = random.Next(headStart, headEnd);
                    byte flipped = random.Next(2) == 0 ? Pick(random, s_interestingBytes) : (byte)random.Next(256);
                    made.Add(string.Create(CultureInfo.InvariantCulture, $"head byte {at} 0x{bytes[at]:X2}->0x{flipped:X2}"));
                    bytes[at] = flipped;
                    break;
                case 1:
                    int into = random.Next(headStart, headEnd + 1);
                    byte inserted = random.Next(2) == 0 ? Pick(random, s_interestingBytes) : (byte)random.Next(256);
                    made.Add(string.Create(CultureInfo.InvariantCulture, $"head byte 0x{inserted:X2} inserted at {into}"));
                    bytes.Insert(into, inserted);
                    break;
                case 2:
                    int from = random.Next(headStart, headEnd);
                    made.Add(string.Create(CultureInfo.InvariantCulture, $"head byte {from} 0x{bytes[from]:X2} deleted"));
                    bytes.RemoveAt(from);
                    break;
                case 3:
                    made.Add(LoseLineEnd(bytes, random));
                    break;
                case 4:
                    int cut = random.Next(bytes.Count);
                    made.Add(string.Create(CultureInfo.InvariantCulture, $"cut at {cut} of {bytes.Count}, closed"));
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    closeAfter = true;
                    break;
                default:
                    // After the answer, in the same write as its last bytes: junk, or a whole second answer.
                    if (closeAfter)
                    {
                        break;
                    }

                    string after = random.Next(3) switch
                    {
                        0 => string.Create(CultureInfo.InvariantCulture, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{{\"glued\":{number % 10}}}  "),
                        1 => Pick(random, ["\r\n", "\r\n\r\n", "0\r\n\r\n", "HTTP/1.1 200 OK\r\n", "{\"junk\":1}", "\0", " "]),
                        _ => new string([.. Enumerable.Range(0, 1 + random.Next(40)).Select(_ => (char)random.Next(256))]),
                    };
                    made.Add("then " + Quote(after));
                    messageEnd = messageEnd < 0 ? bytes.Count : messageEnd;
                    bytes.AddRange(Encoding.Latin1.GetBytes(after));
                    break;
            }
        }

        // The message's own bytes in one to three writes; bytes after it go with its last piece (what a server that
        // writes them at once does), so that they are on the connection when the answer has been read.
        messageEnd = messageEnd < 0 ? bytes.Count : messageEnd;
        int[] splits = messageEnd < 2 || random.Next(3) == 0
            ? []
            : [.. Enumerable.Range(0, 1 + random.Next(2)).Select(_ => 1 + random.Next(messageEnd - 1)).Distinct().Order()];

        byte[] written = [.. bytes];
        if (!closeAfter)
        {
            // A backend closes after bytes the strict reading cannot finish, as a broken server soon would; one case in
            // a hundred keeps the connection, so that only the endpoint's timeout ends the call. One complete answer in
            // ten is followed by a close too.
            closeAfter = StrictResponseReader.Read(written, closed: false).End == StrictEnd.Complete
                ? random.Next(10) == 0
                : random.Next(100) != 0;
        }

        return new ResponseFuzzCase(number, written, splits, closeAfter, string.Join(", ", made));
    }

    private static string DuplicateLength(Draft d, Random r)
    {
        int length = d.Body.Length;
        string value = r.Next(3) switch
        {
            0 => length.ToString(CultureInfo.InvariantCulture),
            1 => (length + 1 + r.Next(5)).ToString(CultureInfo.InvariantCulture),
            _ => Math.Max(0, length - 1 - r.Next(5)).ToString(CultureInfo.InvariantCulture),
        };
        d.Headers.Insert(r.Next(d.Headers.Count + 1), "Content-Length: " + value);
        return "another Content-Length " + value;
    }

    private static string WrongLength(Draft d, Random r)
    {
        int length = d.Body.Length;
        long value = r.Next(4) switch
        {
            0 => length + 1 + r.Next(8),
            1 => Math.Max(0, length - 1 - r.Next(8)),
            2 => 0,
            _ => 99_999_999,
        };
        d.Chunked = false;
        d.Headers.RemoveAll(h => IsNamed(h, "Transfer-Encoding") || IsNamed(h, "Content-Length"));
        d.Headers.Insert(r.Next(d.Headers.Count + 1), string.Create(CultureInfo.InvariantCulture, $"Content-Length: {value}"));
        return string.Create(CultureInfo.InvariantCulture, $"Content-Length {value} for {length}");
    }

    private static string LengthSyntax(Draft d, Random r)
    {
        string value = string.Format(CultureInfo.InvariantCulture, Pick(r, s_lengthValues), d.Body.Length);
        d.Chunked = false;
        d.Headers.RemoveAll(h => IsNamed(h, "Transfer-Encoding") || IsNamed(h, "Content-Length"));
        d.Headers.Insert(r.Next(d.Headers.Count + 1), "Content-Length: " + value);
        return "Content-Length " + Quote(value);
    }

    private static string TransferCoding(Draft d, Random r)
    {
        string value = Pick(r, s_codings);
        // Kept or replaced, and the body chunked either way: a length left in place makes both framings at once.
        d.Chunked = true;
        d.Headers.RemoveAll(h => IsNamed(h, "Transfer-Encoding"));
        d.Headers.Insert(r.Next(d.Headers.Count + 1), "Transfer-Encoding: " + value);
        if (r.Next(3) == 0)
        {
            d.Headers.Insert(r.Next(d.Headers.Count + 1), "Transfer-Encoding: " + Pick(r, ["chunked", "gzip", "identity"]));
        }

        return "Transfer-Encoding " + Quote(value) + (d.Headers.Count(h => IsNamed(h, "Transfer-Encoding")) > 1 ? " twice" : string.Empty);
    }

    private static string ChunkSize(Draft d, Random r)
    {
        d.MakeChunked();
        if (d.Chunks.Count == 0)
        {
            return "no chunk to size";
        }

        int i = r.Next(d.Chunks.Count);
        int size = d.Chunks[i].Data.Length;
        string line = r.Next(3) == 0
            ? (size + (r.Next(2) == 0 ? 1 : -1)).ToString("x", CultureInfo.InvariantCulture)
            : string.Format(CultureInfo.InvariantCulture, Pick(r, s_chunkSizes), size.ToString("x", CultureInfo.InvariantCulture));
        d.Chunks[i] = d.Chunks[i] with { SizeLine = line };
        return string.Create(CultureInfo.InvariantCulture, $"chunk {i} of {size} sized {Quote(line)}");
    }

    private static string ChunkExtension(Draft d, Random r)
    {
        d.MakeChunked();
        int i = r.Next(d.Chunks.Count + 1);
        string extension = Pick(r, s_extensions);
        if (i == d.Chunks.Count)
        {
            d.LastChunk += extension;
        }
        else
        {
            d.Chunks[i] = d.Chunks[i] with { SizeLine = d.Chunks[i].SizeLine + extension };
        }

        return string.Create(CultureInfo.InvariantCulture, $"chunk {i} extension {Quote(extension.Length > 40 ? extension[..40] + "…" : extension)}");
    }

    private static string Trailers(Draft d, Random r)
    {
        d.MakeChunked();
        string trailer = Pick(r, s_trailers);
        d.Trailers.Add(trailer);
        return "trailer " + Quote(trailer.Length > 40 ? trailer[..40] + "…" : trailer);
    }

    private static string ObsFold(Draft d, Random r)
    {
        int after = r.Next(d.Headers.Count);
        string fold = Pick(r, [" folded", "\tfolded", " 5", " chunked", "  "]);
        d.Headers.Insert(after + 1, fold);
        return "folded line " + Quote(fold) + " after " + d.Headers[after].Split(':')[0];
    }

    private static string ValueByte(Draft d, Random r)
    {
        int i = r.Next(d.Headers.Count);
        string header = d.Headers[i];
        int colon = header.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return "no value to change";
        }

        int at = colon + 1 + r.Next(header.Length - colon);
        char c = Pick(r, ['\0', '\r', '\n', '\u0001', '\u007f', '\u00ff', '\t', '\v']);
        d.Headers[i] = header.Insert(at, c.ToString());
        return string.Create(CultureInfo.InvariantCulture, $"0x{(int)c:X2} in {header.Split(':')[0]}'s value");
    }

    private static string ManyHeaders(Draft d, Random r)
    {
        if (r.Next(4) == 0)
        {
            int size = Pick(r, [60 * 1024, 63 * 1024, 65 * 1024, 100 * 1024]);
            d.Headers.Insert(r.Next(d.Headers.Count + 1), "X-Large: " + new string('v', size));
            return string.Create(CultureInfo.InvariantCulture, $"one header of {size} bytes");
        }

        // 40 bytes a line: 1,600 of them stay under 64 KiB with the rest of the head, 1,700 do not.
        int count = Pick(r, [100, 1000, 1600, 1700, 3000]);
        int where = r.Next(d.Headers.Count + 1);
        d.Headers.InsertRange(where, Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"X-F{i:D5}: {new string('v', 28)}")));
        return string.Create(CultureInfo.InvariantCulture, $"{count} more headers");
    }

    private static string Interim(Draft d, Random r)
    {
        int count = 1 + r.Next(3);
        for (int i = 0; i < count; i++)
        {
            d.Interims.Add(Pick(r, s_interims));
        }

        return string.Create(CultureInfo.InvariantCulture, $"interim answers {string.Join(" + ", d.Interims.Select(a => a.Length >= 12 ? a[9..12] : "empty line"))}");
    }

    private static string StatusLine(Draft d, Random r)
    {
        d.Status = Pick(r, s_statusLines);
        if (r.Next(4) == 0)
        {
            d.Interims.Insert(0, "\r\n");
            return "an empty line, then " + Quote(d.Status);
        }

        return "status line " + Quote(d.Status);
    }

    private static string LoseLineEnd(List<byte> bytes, Random r)
    {
        var ends = new List<int>();
        for (int i = 0; i + 1 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n')
            {
                ends.Add(i);
            }
        }

        if (ends.Count == 0)
        {
            return "no line end to lose";
        }

        int at = Pick(r, [.. ends]);
        switch (r.Next(3))
        {
            case 0:
                bytes.RemoveRange(at, 2);
                return string.Create(CultureInfo.InvariantCulture, $"CRLF at {at} lost");
            case 1:
                bytes.RemoveAt(at);
                return string.Create(CultureInfo.InvariantCulture, $"CR at {at} lost (a bare LF)");
            default:
                bytes.RemoveAt(at + 1);
                return string.Create(CultureInfo.InvariantCulture, $"LF at {at + 1} lost (a bare CR)");
        }
    }

    private static bool IsNamed(string header, string name) => header.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase);

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

    private static string Quote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (char c in text.Length > 60 ? text[..60] : text)
        {
            quoted.Append(c is < ' ' or >= '\u007f' ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}") : c.ToString());
        }

        return quoted.Append(text.Length > 60 ? "…\"" : "\"").ToString();
    }

    /// <summary>A chunk: its size line as written (size and extensions) and its data.</summary>
    private sealed record Chunk(string SizeLine, string Data);

    /// <summary>The answer being built: interim answers, status line, header lines, the JSON body and how it is framed.</summary>
    private sealed class Draft
    {
        public Draft(int number, Random random)
        {
            Body = string.Create(CultureInfo.InvariantCulture, $$"""{"case":{{number}},"s":"{{new string([.. Enumerable.Range(0, random.Next(40)).Select(_ => (char)('a' + random.Next(26)))])}}","a":[1,2,{"b":null}]}""");
            Headers.Add("Content-Type: application/json");
            Headers.Add(string.Create(CultureInfo.InvariantCulture, $"X-Case: {number}"));
            if (random.Next(2) == 0)
            {
                Headers.Insert(0, "Date: Mon, 01 Jan 2024 00:00:00 GMT");
            }

            // Chunks are cut whatever the framing: a mutation may make the body chunked.
            Rechunk(random);
            Chunked = random.Next(2) == 0;
            if (Chunked)
            {
                Headers.Insert(random.Next(Headers.Count + 1), "Transfer-Encoding: chunked");
            }
            else
            {
                Headers.Insert(random.Next(Headers.Count + 1), string.Create(CultureInfo.InvariantCulture, $"Content-Length: {Body.Length}"));
            }
        }

        public List<string> Interims { get; } = [];

        public string Status { get; set; } = "HTTP/1.1 200 OK";

        public List<string> Headers { get; } = [];

        public string Body { get; set; }

        public bool Chunked { get; set; }

        public List<Chunk> Chunks { get; } = [];

        public string LastChunk { get; set; } = "0";

        public List<string> Trailers { get; } = [];

        /// <summary>The body cut into one to three chunks, sizes in lower or upper case hex.</summary>
        public void Rechunk(Random random)
        {
            Chunks.Clear();
            int at = 0;
            int pieces = 1 + random.Next(3);
            bool upper = random.Next(2) == 0;
            for (int i = 0; i < pieces && at < Body.Length; i++)
            {
                int size = i == pieces - 1 ? Body.Length - at : 1 + random.Next(Body.Length - at);
                Chunks.Add(new Chunk(size.ToString(upper ? "X" : "x", CultureInfo.InvariantCulture), Body.Substring(at, size)));
                at += size;
            }
        }

        /// <summary>A body framed by length becomes chunked (its length line gives way to <c>Transfer-Encoding</c>).</summary>
        public void MakeChunked()
        {
            if (Chunked)
            {
                return;
            }

            Chunked = true;
            int at = Headers.FindIndex(h => IsNamed(h, "Content-Length"));
            Headers.RemoveAll(h => IsNamed(h, "Content-Length"));
            Headers.Insert(at < 0 ? Headers.Count : at, "Transfer-Encoding: chunked");
        }

        public void SetLength(int length)
        {
            int at = Headers.FindIndex(h => IsNamed(h, "Content-Length"));
            if (at >= 0)
            {
                Headers[at] = string.Create(CultureInfo.InvariantCulture, $"Content-Length: {length}");
            }
        }

        /// <summary>The whole answer; where the final answer's head starts and ends (after its empty line).</summary>
        public string Serialize(out int headStart, out int headEnd)
        {
            var text = new StringBuilder();
            foreach (string interim in Interims)
            {
                text.Append(interim);
            }

            headStart = text.Length;
            text.Append(Status).Append("\r\n");
            foreach (string header in Headers)
            {
                text.Append(header).Append("\r\n");
            }

            text.Append("\r\n");
            headEnd = text.Length;
            if (Chunked)
            {
                foreach (Chunk chunk in Chunks)
                {
                    text.Append(chunk.SizeLine).Append("\r\n").Append(chunk.Data).Append("\r\n");
                }

                text.Append(LastChunk).Append("\r\n");
                foreach (string trailer in Trailers)
                {
                    text.Append(trailer).Append("\r\n");
                }

                text.Append("\r\n");
            }
            else
            {
                text.Append(Body);
            }

            return text.ToString();
        }
    }
}

/// <summary>How the strict reading of a case's bytes ends.</summary>
public enum StrictEnd
{
    /// <summary>A final answer read whole: its status and body.</summary>
    Complete,

    /// <summary>The bytes stop inside the answer (or a close-delimited body on a connection kept open).</summary>
    Incomplete,

    /// <summary>Bytes RFC 9112 does not let a client read as an answer.</summary>
    Refused,
}

/// <summary>The strict reading of a case: how it ends, why, and for a complete answer its status and body.</summary>
public sealed record StrictReading(StrictEnd End, string Reason, int Status = 0, string Body = "")
{
    public override string ToString() => End == StrictEnd.Complete
        ? string.Create(CultureInfo.InvariantCulture, $"complete, status {Status}, body of {Body.Length} bytes")
        : $"{End}: {Reason}";
}

/// <summary>
/// A strict reading of a backend's answer (RFC 9112), independent of the gateway's: interim 1xx answers skipped (101
/// refused), then one final answer framed by exactly one of a <c>Content-Length</c> of digits only (repeated only with
/// the same value, RFC 9110 §8.6), <c>Transfer-Encoding: chunked</c> alone, or the connection's close; a head within
/// 64 KiB of CRLF-ended lines, header names that are tokens, values without NUL, CR or LF (RFC 9110 §5.5 lets other
/// controls through), no folded line; chunk sizes in hex followed by nothing or <c>;</c> extensions (ignored, RFC 9112
/// §7.1.1), each chunk's data followed by CRLF, a trailer section of lines up to an empty one (dropped unread). The
/// reason phrase is not read (RFC 9112 §4: a client should ignore it; a bare CR in it may be read as a space, §2.2).
/// </summary>
public static class StrictResponseReader
{
    private const int MaxHeadBytes = 64 * 1024;

    /// <param name="bytes">All the backend writes.</param>
    /// <param name="closed">Whether the backend closes the connection after them: only then does a close-delimited body end.</param>
    public static StrictReading Read(ReadOnlySpan<byte> bytes, bool closed)
    {
        int at = 0;
        while (true)
        {
            int headEnd = bytes[at..].IndexOf("\r\n\r\n"u8);
            if (headEnd < 0 || headEnd + 4 > MaxHeadBytes)
            {
                return bytes.Length - at >= MaxHeadBytes || (headEnd >= 0 && headEnd + 4 > MaxHeadBytes)
                    ? new(StrictEnd.Refused, "a head over 64 KiB")
                    : new(StrictEnd.Incomplete, "the head does not end");
            }

            ReadOnlySpan<byte> head = bytes.Slice(at, headEnd + 2);
            at += headEnd + 4;
            if (ReadHead(head, out int status, out List<(string Name, string Value)> fields) is { } refused)
            {
                return new(StrictEnd.Refused, refused);
            }

            if (status == 101)
            {
                return new(StrictEnd.Refused, "101 to a request that asked for no upgrade");
            }

            if (status < 200)
            {
                // An interim answer: no body, the final one follows.
                continue;
            }

            return ReadBody(bytes[at..], status, fields, closed);
        }
    }

    /// <summary>The status line and field lines of a head (each line with its CRLF); the reason it is refused, or null.</summary>
    private static string? ReadHead(ReadOnlySpan<byte> head, out int status, out List<(string Name, string Value)> fields)
    {
        status = 0;
        fields = [];
        bool first = true;
        while (!head.IsEmpty)
        {
            int end = head.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = head[..end];
            head = head[(end + 2)..];
            if (!first && line.ContainsAny((byte)'\r', (byte)'\n'))
            {
                return "a bare CR or LF in a field line";
            }

            if (first)
            {
                first = false;
                // HTTP-version SP 3DIGIT [SP reason-phrase]
                if (line.Length < 12 || !(line.StartsWith("HTTP/1.1 "u8) || line.StartsWith("HTTP/1.0 "u8))
                    || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11])
                    || (line.Length > 12 && line[12] != ' '))
                {
                    return "not a status line";
                }

                status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
                continue;
            }

            if (ReadField(line) is not { } field)
            {
                return "a malformed field line: " + Encoding.Latin1.GetString(line[..Math.Min(line.Length, 60)]);
            }

            fields.Add(field);
        }

        return null;
    }

    /// <summary>name ":" OWS value OWS, the name a token, the value without NUL, CR or LF; null when malformed (a folded line too).</summary>
    private static (string Name, string Value)? ReadField(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0 || line.ContainsAny((byte)0, (byte)'\r', (byte)'\n'))
        {
            return null;
        }

        foreach (byte b in line[..colon])
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b)))
            {
                return null;
            }
        }

        return (Encoding.Latin1.GetString(line[..colon]), Encoding.Latin1.GetString(line[(colon + 1)..].Trim(" \t"u8)));
    }

    private static StrictReading ReadBody(ReadOnlySpan<byte> rest, int status, List<(string Name, string Value)> fields, bool closed)
    {
        string[] lengths = [.. fields.Where(f => f.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(f => f.Value)];
        string[] codings = [.. fields.Where(f => f.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            .SelectMany(f => f.Value.Split(',')).Select(c => c.Trim(' ', '\t')).Where(c => c.Length > 0)];
        bool coded = fields.Any(f => f.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase));
        if (lengths.Any(l => l.Length == 0 || !l.All(char.IsAsciiDigit)))
        {
            return new(StrictEnd.Refused, "a Content-Length that is not digits");
        }

        if (lengths.Select(l => l.TrimStart('0')).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            return new(StrictEnd.Refused, "different Content-Length values");
        }

        if (coded && lengths.Length > 0)
        {
            return new(StrictEnd.Refused, "both Content-Length and Transfer-Encoding");
        }

        if (status is 204 or 304)
        {
            return new(StrictEnd.Complete, "no body", status);
        }

        if (coded)
        {
            return codings.Length == 1 && codings[0].Equals("chunked", StringComparison.OrdinalIgnoreCase)
                ? ReadChunked(rest, status)
                : new(StrictEnd.Refused, "a transfer coding other than chunked alone: " + string.Join(",", codings));
        }

        if (lengths.Length > 0)
        {
            string digits = lengths[0].TrimStart('0');
            if (digits.Length > 9 || (digits.Length > 0 && long.Parse(digits, CultureInfo.InvariantCulture) > rest.Length))
            {
                return new(StrictEnd.Incomplete, "fewer bytes than the Content-Length");
            }

            int length = digits.Length == 0 ? 0 : int.Parse(digits, CultureInfo.InvariantCulture);
            return new(StrictEnd.Complete, "by length", status, Encoding.Latin1.GetString(rest[..length]));
        }

        return closed
            ? new(StrictEnd.Complete, "until the close", status, Encoding.Latin1.GetString(rest))
            : new(StrictEnd.Incomplete, "a close-delimited body on a connection kept open");
    }

    private static StrictReading ReadChunked(ReadOnlySpan<byte> rest, int status)
    {
        var body = new StringBuilder();
        while (true)
        {
            int end = rest.IndexOf("\r\n"u8);
            if (end < 0)
            {
                return new(StrictEnd.Incomplete, "a chunk-size line does not end");
            }

            ReadOnlySpan<byte> line = rest[..end];
            rest = rest[(end + 2)..];
            int digits = 0;
            while (digits < line.Length && char.IsAsciiHexDigit((char)line[digits]))
            {
                digits++;
            }

            ReadOnlySpan<byte> extension = line[digits..].TrimStart(" \t"u8);
            if (digits == 0 || (!extension.IsEmpty && extension[0] != ';') || line.ContainsAny((byte)0, (byte)'\r', (byte)'\n'))
            {
                return new(StrictEnd.Refused, "a malformed chunk-size line");
            }

            ReadOnlySpan<byte> hex = line[..digits].TrimStart("0"u8);
            if (hex.Length > 7 || (hex.Length > 0 && int.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) > rest.Length))
            {
                return new(StrictEnd.Incomplete, "fewer bytes than a chunk's size");
            }

            int size = hex.Length == 0 ? 0 : int.Parse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                break;
            }

            body.Append(Encoding.Latin1.GetString(rest[..size]));
            rest = rest[size..];
            if (rest.Length < 2)
            {
                return new(StrictEnd.Incomplete, "a chunk's data does not end");
            }

            if (!rest.StartsWith("\r\n"u8))
            {
                return new(StrictEnd.Refused, "a chunk's data not followed by CRLF");
            }

            rest = rest[2..];
        }

        // The trailer section: field lines up to an empty line.
        while (true)
        {
            int end = rest.IndexOf("\r\n"u8);
            if (end < 0)
            {
                return new(StrictEnd.Incomplete, "the trailer section does not end");
            }

            ReadOnlySpan<byte> line = rest[..end];
            rest = rest[(end + 2)..];
            if (line.IsEmpty)
            {
                return new(StrictEnd.Complete, "chunked", status, body.ToString());
            }

            // A trailer line's content is not read: every reader drops the section, only its line ends frame it.
        }
    }
}

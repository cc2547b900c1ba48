using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Xunit.Abstractions;

namespace Gateway.EndToEnd.Tests;

/// <summary>The request fuzzer's gateway (Configs/request-fuzz.json) and a backend that records every request it gets, body included.</summary>
public sealed partial class RequestFuzzFixture : IAsyncLifetime
{
    public TestBackend Backend { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    /// <summary>What reached the backend: method, target and body (Latin-1, one char per byte), in arrival order.</summary>
    public ConcurrentQueue<(string Method, string Target, string Body)> Seen { get; } = new();

    public CapturedStream Log { get; } = new();

    public async Task InitializeAsync()
    {
        // Limits above the gateway's, so that whatever the gateway accepts and forwards reaches the handler: a backend
        // refusing a 32 KiB header would make the gateway's documented 500 (its only backend failed).
        Backend = await TestBackend.StartAsync(kestrel =>
        {
            kestrel.Limits.MaxRequestHeadersTotalSize = 1024 * 1024;
            kestrel.Limits.MaxRequestLineSize = 1024 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 1000;
        });
        Backend.On("b", async context =>
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            Seen.Enqueue((context.Request.Method, context.Features.Get<IHttpRequestFeature>()!.RawTarget, Encoding.Latin1.GetString(body.ToArray())));
            await TestBackend.Json(context, """{"ok": true}""");
        });
        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.RequestFuzz.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://fuzz.test:8080"] = Backend.BaseUrl },
            options =>
            {
                options.Telemetry.LogFormat = global::Gateway.Runtime.Telemetry.LogFormat.Json;
                options.Telemetry.LogStream = Log;
            });
    }

    /// <summary>The target segment case <paramref name="number"/> is known by, with a check so that a mutated digit names no other case.</summary>
    public static string Marker(int number) => string.Create(CultureInfo.InvariantCulture, $"k{number}c{number % 89}");

    /// <summary>The case a backend target belongs to; null when its marker was mutated.</summary>
    public static int? CaseOf(string backendTarget)
    {
        Match match = MarkerPattern().Match(backendTarget);
        return match.Success
            && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int number)
            && Marker(number) == match.Value[3..^1]
            ? number
            : null;
    }

    [GeneratedRegex("^/b/k([0-9]+)c[0-9]+/")]
    private static partial Regex MarkerPattern();

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

/// <summary>
/// Issue 16, section 4 (docs/reliability.md, request fuzzing): mutated request lines, headers and body framing sent on
/// raw sockets (<see cref="RequestFuzzCases"/>). Every case must get well-formed answers and a close within a bound
/// (or, when its bytes stop inside a request, well-formed answers so far), never a 5xx, and the backend must see no
/// request and no body that the strict reading of RFC 9112 does not (<see cref="StrictRequestFramer"/>): no smuggled
/// request. The gateway keeps serving: a health request every 100 cases. CI runs <see cref="CiCases"/>;
/// <c>GATEWAY_REQUEST_FUZZ_CASES</c> sets the count, <c>GATEWAY_REQUEST_FUZZ_CASE</c> runs one case.
/// </summary>
public sealed partial class RequestFuzzTests(RequestFuzzFixture fixture, ITestOutputHelper output) : IClassFixture<RequestFuzzFixture>
{
    private const int CiCases = 2_000;

    private int _traced = -1;

    /// <summary>How long a case may take to be answered and closed; far beyond the endpoint's 2 s timeout.</summary>
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    /// <summary>How long a case whose bytes stop inside a request is read after its last answer byte.</summary>
    private static readonly TimeSpan s_idle = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task MutatedRequests_WellFormedAnswersAndNothingSmuggled()
    {
        (int first, int count) = Range();
        var failures = new List<string>();
        var framings = new Dictionary<int, (RequestFuzzCase Case, List<FramedRequest> Unmatched)>();
        var ends = new Dictionary<FramingEnd, int>();
        int forwarded = 0, unattributed = 0;
        var clock = Stopwatch.StartNew();
        for (int n = first; n < first + count && failures.Count < 10; n++)
        {
            RequestFuzzCase fuzz = RequestFuzzCases.Build(n, RequestFuzzFixture.Marker(n));
            Framing framing = StrictRequestFramer.Read(fuzz.Bytes);
            ends[framing.End] = ends.GetValueOrDefault(framing.End) + 1;
            framings[n] = (fuzz, [.. framing.Requests]);
            if (await SendAsync(fuzz, framing) is { } failure)
            {
                failures.Add(Describe(fuzz, framing, failure));
            }

            (int matched, int lost) = MatchBackendRequests(framings, failures);
            forwarded += matched;
            unattributed += lost;
            if (n % 100 == 99)
            {
                using var health = new CancellationTokenSource(s_bound);
                using HttpResponseMessage response = await fixture.Gateway.Client.GetAsync("/__health", health.Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"the health request after case {n} answered {(int)response.StatusCode}");
            }
        }

        // A backend call the gateway gave up on is recorded when its handler ends: give the last ones time to arrive.
        await Task.Delay(200);
        (int late, int lateLost) = MatchBackendRequests(framings, failures);
        forwarded += late;
        unattributed += lateLost;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} cases from {first} in {clock.Elapsed.TotalSeconds:F1} s; strict reading: {string.Join(", ", ends.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}"))}; {forwarded} backend requests, {unattributed} with a mutated marker; {failures.Count} failures"));
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));

        // A client's mistake is never the gateway's error. Kestrel's own line for a body it failed to drain after a
        // malformed trailer is Kestrel's (known, docs/reliability.md).
        string[] errors = fixture.Log.Lines()
            .Where(l => l.Contains("\"level\":\"error\"", StringComparison.Ordinal) || l.Contains("\"level\":\"critical\"", StringComparison.Ordinal))
            .Where(l => !l.Contains("\"event\":\"RequestBodyDrainBodyReaderInvalidState\"", StringComparison.Ordinal))
            .ToArray();
        Assert.True(errors.Length == 0, string.Join('\n', errors.Take(5)));
    }

    private (int First, int Count) Range()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_REQUEST_FUZZ_CASE"), NumberStyles.None, CultureInfo.InvariantCulture, out int single))
        {
            // One case, with what was sent and answered in the test's output.
            _traced = single;
            return (single, 1);
        }

        return (0, int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_REQUEST_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : CiCases);
    }

    /// <summary>Sends one case on a new connection and checks what comes back; null when it passes.</summary>
    private async Task<string?> SendAsync(RequestFuzzCase fuzz, Framing framing)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, fixture.Gateway.Client.BaseAddress!.Port);
        Task sending = SendAllAsync(socket, Encoding.Latin1.GetBytes(fuzz.Bytes));

        // A stream the strict reading ends (a close asked for, or a request refused) must be answered and closed within
        // the bound; one that stops inside a request may be waited on (the endpoint's timeout ends that), so it is read
        // until it falls silent.
        bool closes = framing.End != FramingEnd.Incomplete;
        var answers = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var clock = Stopwatch.StartNew();
        bool closed = false;
        while (clock.Elapsed < s_bound)
        {
            using var wait = new CancellationTokenSource(closes ? s_bound - clock.Elapsed : s_idle);
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException)
            {
                // Reset by the gateway: after a refused request, the bytes it did not read.
                closed = true;
                break;
            }

            if (read == 0)
            {
                closed = true;
                break;
            }

            answers.Write(buffer, 0, read);
        }

        try
        {
            await sending;
        }
        catch (SocketException)
        {
            // The gateway closed the connection before it read everything: it refused a request.
        }

        string text = Encoding.Latin1.GetString(answers.ToArray());
        if (fuzz.Number == _traced)
        {
            output.WriteLine($"case {fuzz.Number} ({fuzz.Made}), closed: {closed}\n--- sent\n{fuzz.Preview()}\n--- answered\n{text}\n--- logged\n{fixture.Log.Text()}");
        }

        if (closes && !closed)
        {
            return $"not closed within {s_bound.TotalSeconds} s, answered {Shorten(text)}";
        }

        return CheckAnswers(text, complete: closed);
    }

    private static async Task SendAllAsync(Socket socket, byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    /// <summary>
    /// The answers must be a run of well-formed HTTP/1.1 responses, none a 5xx (the backend is healthy: nothing here is
    /// a gateway or backend failure). A response may be cut only when the client stopped reading (<paramref name="complete"/> false).
    /// </summary>
    private static string? CheckAnswers(string answers, bool complete)
    {
        int at = 0;
        while (at < answers.Length)
        {
            int headEnd = answers.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (headEnd < 0)
            {
                return complete ? $"an answer cut inside its head: {Shorten(answers[at..])}" : null;
            }

            string[] lines = answers[at..headEnd].Split("\r\n");
            Match status = StatusLine().Match(lines[0]);
            if (!status.Success)
            {
                return $"not a status line: {Shorten(lines[0])}";
            }

            int code = int.Parse(status.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            // 505 is Kestrel's answer to a version it does not speak (HTTP/1.2, HTTP/2.0 in a request line).
            if (code >= 500 && code != 505)
            {
                return $"answered {code}: {Shorten(answers[at..])}";
            }

            long? length = null;
            bool chunked = false;
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || line[..colon].Any(c => c <= ' ' || c >= '\u007f'))
                {
                    return $"not a header line: {Shorten(line)}";
                }

                string value = line[(colon + 1)..].Trim();
                if (line[..colon].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    length = long.Parse(value, CultureInfo.InvariantCulture);
                }
                else if (line[..colon].Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    chunked = value.Equals("chunked", StringComparison.OrdinalIgnoreCase);
                }
            }

            at = headEnd + 4;
            if (code < 200 || code is 204 or 304 || answers.AsSpan(at).StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || (at == answers.Length && complete && length > 0))
            {
                // No body: an interim answer, a status without one, or the answer to a HEAD (its length, not its body).
                continue;
            }

            if (chunked)
            {
                int last = answers.IndexOf("\r\n0\r\n\r\n", at - 2, StringComparison.Ordinal);
                if (last < 0)
                {
                    return complete ? "a chunked answer without its last chunk" : null;
                }

                at = last + 7;
            }
            else if (length is { } declared)
            {
                if (answers.Length - at < declared)
                {
                    return complete ? $"an answer shorter than its Content-Length {declared}" : null;
                }

                at += (int)declared;
            }
            else
            {
                return $"an answer with neither Content-Length nor chunked: {Shorten(answers[..headEnd])}";
            }
        }

        return null;
    }

    /// <summary>
    /// Takes what reached the backend since the last call and matches each request to one the strict reading found in
    /// its case (same method, and for a POST the same body). A request that matches none was smuggled, or its body
    /// changed on the way. Returns the requests matched and those whose marker was mutated (counted, not matched).
    /// </summary>
    private (int Matched, int Unattributed) MatchBackendRequests(Dictionary<int, (RequestFuzzCase Case, List<FramedRequest> Unmatched)> framings, List<string> failures)
    {
        int matched = 0, unattributed = 0;
        while (fixture.Seen.TryDequeue(out (string Method, string Target, string Body) seen))
        {
            if (RequestFuzzFixture.CaseOf(seen.Target) is not { } number || !framings.TryGetValue(number, out (RequestFuzzCase Case, List<FramedRequest> Unmatched) framing))
            {
                unattributed++;
                continue;
            }

            bool smuggledTarget = seen.Target.Contains("smuggle", StringComparison.Ordinal);
            int at = framing.Unmatched.FindIndex(r =>
                (r.Method == seen.Method || (r.Method == "HEAD" && seen.Method == "GET"))
                && (seen.Method != "POST" || r.Body == seen.Body)
                && (!smuggledTarget || r.Target.Contains("smuggle", StringComparison.Ordinal)));
            if (at < 0)
            {
                failures.Add(Describe(framing.Case, StrictRequestFramer.Read(framing.Case.Bytes), $"the backend got {seen.Method} {Shorten(seen.Target)} with body {Shorten(seen.Body)}, which the strict reading has no request for"));
                continue;
            }

            framing.Unmatched.RemoveAt(at);
            matched++;
        }

        return (matched, unattributed);
    }

    private static string Describe(RequestFuzzCase fuzz, Framing framing, string failure) =>
        $"case {fuzz.Number} ({fuzz.Made}): {failure}\n  strict reading: {framing.Requests.Count} requests, then {framing.End} ({framing.Reason})\n  sent: {fuzz.Preview()}";

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + string.Create(CultureInfo.InvariantCulture, $"… ({text.Length} chars)") : text;

    [GeneratedRegex("^HTTP/1\\.1 ([0-9]{3}) [^\\r\\n]*$")]
    private static partial Regex StatusLine();
}

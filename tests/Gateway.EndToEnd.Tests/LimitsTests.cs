using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Gateway.Runtime.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The limits of docs/reliability.md over real sockets (Configs/limits.json): <c>gateway/limits</c>'s requests in flight
/// per endpoint, and the command-line limits (connections per backend host, JSON depth, backend response size, request
/// header count, request line length), each set through the same argument parser the executable uses. Two gateways
/// share one backend: one with the defaults, one with every limit lowered.
/// </summary>
public sealed class LimitsTests : IAsyncLifetime
{
    /// <summary>The lowered limits, as an operator writes them.</summary>
    private static readonly string[] s_loweredLimits =
    [
        "--max-backend-connections", "2", "--max-json-depth", "8", "--max-backend-response-bytes", "1KiB",
        "--max-request-headers", "10", "--max-request-line-bytes", "2KiB",
    ];

    private readonly HeldCalls _held = new();
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;
    private GatewayUnderTest _lowered = null!;

    public CapturingLoggerProvider Log { get; } = new();

    public CapturingLoggerProvider LoweredLog { get; } = new();

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.On("held", _held.HandleAsync);
        _backend.On("nested", context => TestBackend.Json(context, Nested(Levels(context), startWithArray: false)));
        _backend.On("nested-collection", context => TestBackend.Json(context, Nested(Levels(context), startWithArray: true)));
        _backend.On("sized", context => TestBackend.Json(context, Sized(Levels(context))));
        var hosts = new Dictionary<string, string> { ["http://slow.test:8080"] = _backend.BaseUrl };
        _gateway = await GatewayUnderTest.StartAsync(Limits.CompiledGateway.Definition, hosts, options => options.ConfigureLogging = logging => logging.AddProvider(Log));
        _lowered = await GatewayUnderTest.StartAsync(Limits.CompiledGateway.Definition, hosts, options =>
        {
            Assert.Null(GatewayProgram.ReadOptions(s_loweredLimits, _ => null, options, out _));
            options.ConfigureLogging = logging => logging.AddProvider(LoweredLog);
        });
    }

    public async Task DisposeAsync()
    {
        _held.OpenAll();
        await _gateway.DisposeAsync();
        await _lowered.DisposeAsync();
        await _backend.DisposeAsync();
    }

    // ---- gateway/limits.max_concurrent_requests ----

    [Fact]
    public async Task ConcurrencyLimit_Saturated_503WithRetryAfterAtOnceAndTheBackendNotCalled()
    {
        _held.Close("bounded");
        Task<HttpResponseMessage> first = _gateway.Client.GetAsync("/bounded");
        Task<HttpResponseMessage> second = _gateway.Client.GetAsync("/bounded");
        await _held.WaitForInFlightAsync("bounded", 2);

        var clock = Stopwatch.StartNew();
        using HttpResponseMessage refused = await _gateway.Client.GetAsync("/bounded");
        clock.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", Header(refused, "Retry-After"));
        Assert.Equal("false", Header(refused, "X-KrakenD-Completed"));
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());
        // At once: the two held calls are still held, so an answer that waited for a place would not have come.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal(2, _held.Arrived("bounded"));
        Assert.Contains(Log.Lines, l => l.Level == LogLevel.Warning && l.Message.StartsWith("GET /bounded: 2 request(s) in flight, its max_concurrent_requests (gateway/limits); answered 503 to 1 request(s)", StringComparison.Ordinal));

        _held.Open("bounded");
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);

        // The answers are written, so the places are free again.
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/bounded")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/bounded")).StatusCode);
        Assert.Equal(4, _held.Arrived("bounded"));
        Assert.Equal(2, _held.MostInFlight("bounded"));
    }

    [Fact]
    public async Task ConcurrencyLimit_ClientGoesAwayWhileHoldingThePlace_ThePlaceIsFreed()
    {
        _held.Close("one");
        using var gone = new CancellationTokenSource();
        Task<HttpResponseMessage> abandoned = _gateway.Client.GetAsync("/bounded-one", gone.Token);
        await _held.WaitForInFlightAsync("one", 1);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.GetAsync("/bounded-one")).StatusCode);

        await gone.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        // The gateway cancels the backend call when its client goes away, and then gives the place back.
        await _held.WaitForInFlightAsync("one", 0);
        _held.Open("one");

        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        for (var waited = Stopwatch.StartNew(); status == HttpStatusCode.ServiceUnavailable && waited.Elapsed < TimeSpan.FromSeconds(5);)
        {
            status = (await _gateway.Client.GetAsync("/bounded-one")).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task ConcurrencyLimit_Zero_SetsNoBound()
    {
        _held.Close("off");
        Task<HttpResponseMessage>[] calls = [.. Enumerable.Range(0, 5).Select(_ => _gateway.Client.GetAsync("/off"))];
        await _held.WaitForInFlightAsync("off", 5);
        _held.Open("off");

        foreach (Task<HttpResponseMessage> call in calls)
        {
            Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        }
    }

    // ---- --max-backend-connections ----

    [Fact]
    public async Task BackendConnections_Lowered_AtMostThatManyConnectionsToTheHost()
    {
        _held.Close("pooled");
        Task<HttpResponseMessage>[] calls = [.. Enumerable.Range(0, 6).Select(_ => _lowered.Client.GetAsync("/pooled"))];
        await _held.WaitForInFlightAsync("pooled", 2);
        // The other four wait for one of the two connections; given time, none opens a third.
        await Task.Delay(500);
        Assert.Equal(2, _held.InFlight("pooled"));

        _held.Open("pooled");
        foreach (Task<HttpResponseMessage> call in calls)
        {
            Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        }

        Assert.Equal(6, _held.Arrived("pooled"));
        Assert.Equal(2, _held.MostInFlight("pooled"));
        Assert.InRange(_held.Connections("pooled"), 1, 2);
    }

    [Fact]
    public async Task BackendConnections_AllBusy_TheWaitIsBoundedByTheEndpointTimeout()
    {
        _held.Close("pooled");
        Task<HttpResponseMessage>[] holding = [_lowered.Client.GetAsync("/pooled"), _lowered.Client.GetAsync("/pooled")];
        await _held.WaitForInFlightAsync("pooled", 2);

        var clock = Stopwatch.StartNew();
        using HttpResponseMessage waited = await _lowered.Client.GetAsync("/pool-wait");
        clock.Stop();

        // /pool-wait's timeout is 1 s: its call never got a connection, and failed when the budget ran out.
        Assert.Equal(HttpStatusCode.InternalServerError, waited.StatusCode);
        Assert.Equal("false", Header(waited, "X-KrakenD-Completed"));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(4));
        Assert.Equal(0, _held.Arrived("pool-wait"));
        Assert.Contains(LoweredLog.Lines, l => l.Message.StartsWith("GET /pool-wait: backend 0 failed (timeout", StringComparison.Ordinal));

        _held.Open("pooled");
        foreach (Task<HttpResponseMessage> call in holding)
        {
            Assert.Equal(HttpStatusCode.OK, (await call).StatusCode);
        }
    }

    [Fact]
    public void BackendConnections_Default_1024PerHost() =>
        Assert.Equal(1024, GatewayOptions.For(Limits.CompiledGateway.Definition).Backend.MaxConnectionsPerServer);

    // ---- --max-json-depth ----

    [Theory]
    [InlineData("/nested/8", HttpStatusCode.OK)]
    [InlineData("/nested/9", HttpStatusCode.InternalServerError)]
    [InlineData("/nested-collection/8", HttpStatusCode.OK)]
    [InlineData("/nested-collection/9", HttpStatusCode.InternalServerError)]
    public async Task JsonDepth_Lowered_ADeeperBodyFailsTheStep(string path, HttpStatusCode expected)
    {
        using HttpResponseMessage response = await _lowered.Client.GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Contains(LoweredLog.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains(": backend 0 failed (invalid_body, status 200)", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("/nested/9", HttpStatusCode.OK)]
    [InlineData("/nested/64", HttpStatusCode.OK)]
    [InlineData("/nested/65", HttpStatusCode.InternalServerError)]
    [InlineData("/nested-collection/64", HttpStatusCode.OK)]
    [InlineData("/nested-collection/65", HttpStatusCode.InternalServerError)]
    public async Task JsonDepth_Default_64Levels(string path, HttpStatusCode expected) =>
        Assert.Equal(expected, (await _gateway.Client.GetAsync(path)).StatusCode);

    // ---- --max-backend-response-bytes ----

    [Fact]
    public async Task ResponseSize_Lowered_ALargerBodyFailsTheStepAndIsLogged()
    {
        Assert.Equal(HttpStatusCode.OK, (await _lowered.Client.GetAsync("/sized/1024")).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await _lowered.Client.GetAsync("/sized/1025")).StatusCode);
        Assert.Contains(LoweredLog.Lines, l => l.Message.StartsWith("GET /sized/{bytes}: backend 0 failed (body_too_large, status 200)", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/sized/1025")).StatusCode);
    }

    // ---- --max-request-headers, --max-request-line-bytes ----

    [Fact]
    public async Task RequestHeaders_Lowered_MoreThanTheCountIs431()
    {
        // Host and Connection count too: 2 + 8 = 10 is the limit, 2 + 9 one past it.
        Assert.Equal(StatusCodes.Status200OK, (await _lowered.SendRawAsync("GET", "/echo", Headers(8))).Status);
        Assert.Equal(StatusCodes.Status431RequestHeaderFieldsTooLarge, (await _lowered.SendRawAsync("GET", "/echo", Headers(9))).Status);
        Assert.Equal(StatusCodes.Status200OK, (await _gateway.SendRawAsync("GET", "/echo", Headers(9))).Status);

        // Kestrel answered it before routing; the gateway's log still has a line, naming the setting, not the headers.
        string line = await LineAsync(LoweredLog, "Client refused before routing: max_request_header_count_exceeded");
        Assert.Equal("Client refused before routing: max_request_header_count_exceeded (answered 431; --max-request-headers); 1 connection(s) since the last such line", line);
        Assert.DoesNotContain("X-Extra", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KestrelRefusals_AFloodOfMalformedRequests_AtMostOneLineASecondWithTheCount()
    {
        // 40 request lines Kestrel cannot parse (a method that is not a token), as fast as they come: a line at once, the rest counted into later ones.
        var log = new CapturingLoggerProvider();
        await using GatewayUnderTest gateway = await GatewayUnderTest.StartAsync(Limits.CompiledGateway.Definition, new Dictionary<string, string>(),
            options => options.ConfigureLogging = logging => logging.AddProvider(log));
        const string Start = "Client refused before routing: invalid_request_line";
        var flood = Stopwatch.StartNew();
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal(StatusCodes.Status400BadRequest, (await gateway.SendRawAsync("GE(T", "/echo")).Status);
        }

        double seconds = flood.Elapsed.TotalSeconds;
        Assert.EndsWith("; 1 connection(s) since the last such line", await LineAsync(log, Start), StringComparison.Ordinal);

        // One more after a quiet second: its line carries whatever the flood left uncounted.
        await Task.Delay(1100);
        int before = (await LinesAsync(log, Start, 1)).Length;
        Assert.Equal(StatusCodes.Status400BadRequest, (await gateway.SendRawAsync("GE(T", "/echo")).Status);
        string[] lines = await LinesAsync(log, Start, before + 1);
        Assert.Equal(41, lines.Sum(Count));
        Assert.InRange(lines.Length, 2, (int)Math.Ceiling(seconds) + 2);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("/echo", StringComparison.Ordinal));

        static int Count(string line) =>
            int.Parse(line[(line.LastIndexOf("; ", StringComparison.Ordinal) + 2)..line.IndexOf(" connection(s)", StringComparison.Ordinal)], CultureInfo.InvariantCulture);
    }

    /// <summary>The first line starting with <paramref name="start"/>; the connection's end is measured a moment after the answer.</summary>
    private static async Task<string> LineAsync(CapturingLoggerProvider log, string start) => (await LinesAsync(log, start, 1))[0];

    private static async Task<string[]> LinesAsync(CapturingLoggerProvider log, string start, int count)
    {
        for (int tries = 0; ; tries++)
        {
            string[] lines = [.. log.Lines.Where(l => l.Level == LogLevel.Warning && l.Message.StartsWith(start, StringComparison.Ordinal)).Select(l => l.Message)];
            if (lines.Length >= count || tries == 100)
            {
                return lines;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task RequestLine_Lowered_ALongerLineIs414()
    {
        // "GET " + target + " HTTP/1.1" and its CRLF: 2 KiB is the whole line.
        string fits = "/echo?q=" + new string('a', 2048 - "GET /echo?q= HTTP/1.1\r\n".Length);
        Assert.Equal(StatusCodes.Status200OK, (await _lowered.SendRawAsync("GET", fits)).Status);
        Assert.Equal(StatusCodes.Status414UriTooLong, (await _lowered.SendRawAsync("GET", fits + "a")).Status);
        Assert.Equal(StatusCodes.Status200OK, (await _gateway.SendRawAsync("GET", fits + "a")).Status);
        Assert.StartsWith("Client refused before routing: invalid_request_line (answered 400 or 414;",
            await LineAsync(LoweredLog, "Client refused before routing: invalid_request_line"), StringComparison.Ordinal);
    }

    private static string Headers(int count) => string.Concat(Enumerable.Range(0, count).Select(i => $"X-Extra-{i}: {i}\r\n"));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(",", values) : null;

    /// <summary>The number in the path's last segment.</summary>
    private static int Levels(HttpContext context) =>
        int.Parse(context.Request.Path.Value![(context.Request.Path.Value!.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>JSON <paramref name="levels"/> containers deep, objects and arrays alternating, from an object or an array.</summary>
    private static string Nested(int levels, bool startWithArray)
    {
        var text = new StringBuilder();
        for (int level = 0; level < levels; level++)
        {
            text.Append((level % 2 == 0) != startWithArray ? "{\"a\":" : "[");
        }

        text.Append('1');
        for (int level = levels - 1; level >= 0; level--)
        {
            text.Append((level % 2 == 0) != startWithArray ? '}' : ']');
        }

        return text.ToString();
    }

    /// <summary>A JSON object of exactly <paramref name="bytes"/> bytes (at least 8).</summary>
    private static string Sized(int bytes) => "{\"p\":\"" + new string('x', bytes - 8) + "\"}";

    /// <summary>
    /// The backend's <c>/held/NAME</c> calls: each is held while NAME's gate is closed (or until the gateway gives up on
    /// it), and counted: calls arrived, in flight now and at most, and the connections they came on.
    /// </summary>
    private sealed class HeldCalls
    {
        private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);

        public void Close(string name) => Of(name).Close();

        public void Open(string name) => Of(name).Open();

        public void OpenAll()
        {
            foreach (Gate gate in _gates.Values)
            {
                gate.Open();
            }
        }

        public int Arrived(string name) => Of(name).Arrived;

        public int InFlight(string name) => Of(name).InFlight;

        public int MostInFlight(string name) => Of(name).MostInFlight;

        public int Connections(string name) => Of(name).ConnectionIds.Count;

        public async Task WaitForInFlightAsync(string name, int count)
        {
            Gate gate = Of(name);
            for (var waited = Stopwatch.StartNew(); gate.InFlight != count; await Task.Delay(10))
            {
                if (waited.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new TimeoutException($"{gate.InFlight} calls to /held/{name} in flight, not {count}");
                }
            }
        }

        public async Task HandleAsync(HttpContext context)
        {
            Gate gate = Of(context.Request.Path.Value!["/held/".Length..]);
            gate.Enter(context.Connection.Id);
            try
            {
                await gate.Opened.WaitAsync(context.RequestAborted);
                await TestBackend.Json(context, """{"held": true}""");
            }
            catch (OperationCanceledException)
            {
                // The gateway gave up on the call.
            }
            finally
            {
                gate.Leave();
            }
        }

        private Gate Of(string name) => _gates.GetOrAdd(name, _ => new Gate());

        private sealed class Gate
        {
            private TaskCompletionSource _opened = NewOpened();
            private int _arrived;
            private int _inFlight;
            private int _most;

            public Gate() => _opened.SetResult();

            public Task Opened => Volatile.Read(ref _opened).Task;

            public int Arrived => Volatile.Read(ref _arrived);

            public int InFlight => Volatile.Read(ref _inFlight);

            public int MostInFlight => Volatile.Read(ref _most);

            public ConcurrentDictionary<string, bool> ConnectionIds { get; } = new(StringComparer.Ordinal);

            public void Close() => Volatile.Write(ref _opened, NewOpened());

            public void Open() => Volatile.Read(ref _opened).TrySetResult();

            public void Enter(string connection)
            {
                Interlocked.Increment(ref _arrived);
                ConnectionIds[connection] = true;
                int now = Interlocked.Increment(ref _inFlight);
                for (int most = Volatile.Read(ref _most); now > most; most = Volatile.Read(ref _most))
                {
                    Interlocked.CompareExchange(ref _most, now, most);
                }
            }

            public void Leave() => Interlocked.Decrement(ref _inFlight);

            private static TaskCompletionSource NewOpened() => new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Forwarding;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>Fault tests load the machine (4 MiB bodies in a loop) and hold backend connections open: they run alone.</summary>
[CollectionDefinition(nameof(FaultTests), DisableParallelization = true)]
public sealed class FaultTestsCollection
{
}

/// <summary>
/// The findings of the black-box security probe (issue 10), each reproduced against the in-process gateway on
/// loopback: a failing step must not release buffers another call still reads, a step that throws is a failed step,
/// POSTs are never re-sent, the timeout bounds no-op bodies, bodies cannot take unbounded memory, and bad header text
/// gets a defined answer.
/// </summary>
[Collection(nameof(FaultTests))]
public sealed class FaultTests : IClassFixture<FaultFixture>
{
    private const string Completed = "X-KrakenD-Completed";

    private readonly FaultFixture _f;

    public FaultTests(FaultFixture fixture)
    {
        _f = fixture;
        _f.Heal();
        _f.Log.Clear();
    }

    // ---- 1. A step's failure cannot hand the client's body to another request ----

    [Fact]
    public async Task ParallelStep_SiblingFailsWhileBodyIsSent_BackendGetsOnlyThisClientsBytes()
    {
        // Large enough that loopback socket buffers cannot take the whole body, so the slow backend's call is still
        // sending it when its sibling fails (smaller bodies are covered by SharedBodyTests).
        const int size = 4 * 1024 * 1024;        var received = new System.Collections.Concurrent.ConcurrentQueue<byte[]>();

        // Backend 0 answers at once with a redirect whose Location is not a URL; backend 1 reads the body slowly.
        _f.Raw.On("bad-redirect", async (stream, head) =>
        {
            await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head));
            await RawBackend.WriteAsync(stream, "HTTP/1.1 302 Found\r\nLocation: //127.0.0.1:99999/x\r\nContent-Length: 0\r\n\r\n");
        });
        _f.Raw.On("slow-read", async (stream, head) =>
        {
            received.Enqueue(await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head), 256 * 1024, TimeSpan.FromMilliseconds(25)));
            await FaultFixture.WriteJsonAsync(stream, """{"read": true}""");
        });
        _f.Raw.On("sink", async (stream, head) =>
        {
            await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head));
            await FaultFixture.WriteJsonAsync(stream, "{}");
        });

        for (int round = 0; round < 6; round++)
        {
            byte[] mine = Filled(size, (byte)('a' + round));
            Task<HttpResponseMessage> victim = _f.Gateway.Client.PostAsync("/leak", new ByteArrayContent(mine));

            // Meanwhile other clients send bodies of the same size with other bytes, renting and filling pooled arrays.
            using var others = new CancellationTokenSource();
            Task[] fillers = Enumerable.Range(0, 2).Select(i => Task.Run(async () =>
            {
                byte[] theirs = Filled(size, (byte)('0' + i));
                while (!others.IsCancellationRequested)
                {
                    using HttpResponseMessage answer = await _f.Gateway.Client.PostAsync("/filler", new ByteArrayContent(theirs));
                }
            })).ToArray();

            using HttpResponseMessage response = await victim;
            await others.CancelAsync();
            await Task.WhenAll(fillers);

            // The sibling's failure is a partial answer, not an error; the slow backend got exactly this client's bytes.
            string answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"round {round}: {(int)response.StatusCode} {answer}");
            Assert.Equal("false", response.Headers.GetValues(Completed).Single());
            JsonAssert.Equivalent("""{"b": {"read": true}}""", answer);
            Assert.True(received.TryDequeue(out byte[]? got));
            Assert.True(mine.AsSpan().SequenceEqual(got), $"round {round}: backend 1 received bytes that are not this client's");
        }
    }

    // ---- 1b. An exception in any stage of a step fails that step only ----

    public static TheoryData<StepStage> Stages => new(Enum.GetValues<StepStage>());

    [Fact]
    public async Task ParallelEndpoint_NoFault_MergesBothBackends()
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/stages/parallel");
        Assert.Equal("true", response.Headers.GetValues(Completed).Single());
        JsonAssert.Equivalent("""{"a": {"a": 1}, "b": {"b": 2}}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public async Task ParallelStep_ThrowsAtStage_SiblingDataKeptAndStepLogged(StepStage stage)
    {
        _f.Break(stage);
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/stages/parallel");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        JsonAssert.Equivalent("""{"b": {"b": 2}}""", await response.Content.ReadAsStringAsync());
        (string _, LogLevel level, string message, Exception? exception) = Assert.Single(_f.Log.Lines, l => l.Category == "Gateway");
        Assert.Equal(LogLevel.Error, level);
        Assert.Contains("GET /stages/parallel: backend 0 failed inside the gateway", message, StringComparison.Ordinal);
        Assert.Equal($"injected fault at {stage}", exception?.Message);
    }

    [Theory]
    [MemberData(nameof(Stages))]
    public async Task SequentialStep_ThrowsAtStage_LaterStepsNotCalled(StepStage stage)
    {
        _f.Break(stage);
        int before = _f.B.ReceivedWith("/ok").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/stages/sequence");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        JsonAssert.Equivalent("""{"first": {"b": 2}}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(before + 1, _f.B.ReceivedWith("/ok").Length);
    }

    [Fact]
    public async Task ProxyChain_ThrowsBeforeBackends_LoggedWellFormed500()
    {
        _f.Break(StepStage.Render);
        int before = _f.B.ReceivedWith("/ok").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.PostAsync("/stages/chain", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(before, _f.B.ReceivedWith("/ok").Length);
        Assert.Contains(_f.Log.Lines, l => l.Message.Contains("POST /stages/chain: unexpected error, answered 500", StringComparison.Ordinal) && l.Exception is InvalidOperationException);
    }

    // ---- 2. No automatic re-sending of a request the gateway did not decide to repeat ----

    [Fact]
    public async Task Post_BackendClosesWithoutAnswer_SentOnce()
    {
        _f.Raw.On("hangup", (_, _) => Task.CompletedTask); // the connection closes without a byte of an answer
        int before = CountRaw("POST /hangup");
        using HttpResponseMessage response = await _f.Gateway.Client.PostAsync("/hangup/post", content: null);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        Assert.Contains("the backend could not be reached", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before + 1, CountRaw("POST /hangup"));
    }

    [Fact]
    public async Task Get_BackendClosesWithoutAnswer_ResentAtMostThreeTimes()
    {
        _f.Raw.On("hangup", (_, _) => Task.CompletedTask);
        int before = CountRaw("GET /hangup");
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/hangup/get");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        int sent = CountRaw("GET /hangup") - before;
        Assert.InRange(sent, 1, 4);
    }

    // ---- 3. The endpoint timeout bounds the whole exchange; 101 and other 1xx are failed steps ----

    [Fact]
    public async Task NoOp_HeadersThenSilence_500AndTheBackendConnectionClosed()
    {
        var released = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.Raw.On("noop", async (stream, head) =>
        {
            if (head.StartsWith("GET /noop/silent ", StringComparison.Ordinal))
            {
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
                released.TrySetResult(await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30)));
            }
        });

        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/noop/silent");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        // The 2 s timeout cut the call short: the gateway closed the connection on a backend still holding its body
        // back (it would hold it for 30 s). The wait bound only keeps a broken gateway from hanging the run.
        Assert.True(await released.Task.WaitAsync(TimeSpan.FromSeconds(40)), "the backend held its body for 30 s and the gateway never closed the connection");
    }

    [Fact]
    public async Task NoOp_BodyDripsOneBytePerSecond_ClientAndBackendConnectionsCutShort()
    {
        var dripped = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.Raw.On("noop", async (stream, _) =>
        {
            int sent = 0;
            try
            {
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 60\r\n\r\n");
                for (; sent < 60; sent++)
                {
                    await RawBackend.WriteAsync(stream, "x");
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
            }
            finally
            {
                dripped.TrySetResult(sent);
            }
        });

        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/noop/drip", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The client's body ends in an error, not in a truncated body that looks complete, and the backend could not
        // finish its 60 bytes: the gateway closed its connection. The wait bound only keeps a broken gateway from
        // hanging the run (the drip takes 60 s).
        await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsByteArrayAsync());
        int sentBytes = await dripped.Task.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(sentBytes < 60, "the backend wrote its whole body: the gateway kept reading past its timeout");
    }

    [Theory]
    [InlineData("/noop/switch")]
    [InlineData("/json/switch")]
    public async Task Backend_Answers101_FailedStepNotRelayedAndTheConnectionClosed(string path)
    {
        var released = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.Raw.On("noop", async (stream, _) =>
        {
            await RawBackend.WriteAsync(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
            released.TrySetResult(await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30)));
        });

        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        Assert.False(response.Headers.Contains("Upgrade"));
        if (path.StartsWith("/json", StringComparison.Ordinal))
        {
            Assert.Equal("backend 0: not a final HTTP response (status 101)", await response.Content.ReadAsStringAsync());
        }

        // The switched connection is neither relayed nor kept: the gateway closed it. The bound only keeps a broken
        // gateway from hanging the run.
        Assert.True(await released.Task.WaitAsync(TimeSpan.FromSeconds(40)), "the gateway kept the switched connection open");
    }

    [Fact]
    public async Task NoOp_EarlyHintsBeforeTheAnswer_AnswerRelayed()
    {
        _f.Raw.On("noop", async (stream, _) =>
        {
            await RawBackend.WriteAsync(stream, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
            await FaultFixture.WriteJsonAsync(stream, """{"final": true}""");
        });

        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/noop/hints");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"final": true}""", await response.Content.ReadAsStringAsync());
    }

    // ---- 4. Response bodies have a bound per body and across requests ----

    [Fact]
    public async Task EndlessChunkedBody_FailsAtTheLimitWithoutBufferingPastIt()
    {
        _f.Raw.On("big", EndlessChunkedAsync);
        using HttpResponseMessage response = await _f.SmallLimits.Client.GetAsync("/big/endless");

        // The small gateway's budget holds one body at the limit, not a buffer that grew past it: past the limit the
        // answer would be "memory ... in use", not "too large".
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("backend 0: the response is too large", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await BudgetSettledAsync(_f.SmallLimits));
    }

    [Fact]
    public async Task SecondLargeBody_WhileFirstIsHeld_FailsOnTheBudgetAndTheBudgetIsReturned()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.Raw.On("big", async (stream, head) =>
        {
            // 768 KiB each, under the body limit; the budget cannot hold two of them at once.
            await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            string chunk = "{\"blob\":\"" + new string('x', (768 * 1024) - 9);
            await RawBackend.WriteAsync(stream, $"{chunk.Length:X}\r\n{chunk}\r\n");
            if (head.StartsWith("GET /big/held ", StringComparison.Ordinal))
            {
                await release.Task.WaitAsync(TimeSpan.FromSeconds(8));
            }

            await RawBackend.WriteAsync(stream, "2\r\n\"}\r\n0\r\n\r\n");
        });

        Task<HttpResponseMessage> held = _f.SmallLimits.Client.GetAsync("/big/held");
        var waited = Stopwatch.StartNew();
        while (BudgetInUse(_f.SmallLimits) < 768 * 1024 && waited.Elapsed < TimeSpan.FromSeconds(8))
        {
            await Task.Delay(10);
        }

        using HttpResponseMessage second = await _f.SmallLimits.Client.GetAsync("/big/second");
        release.SetResult();
        using HttpResponseMessage first = await held;

        Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        Assert.Equal("backend 0: the gateway's memory for response bodies is in use; try again", await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((768 * 1024) + 2, (await first.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(0, await BudgetSettledAsync(_f.SmallLimits));
    }

    // ---- A backend component: the circuit breaker stops calling a backend that keeps failing ----

    [Fact]
    public async Task CircuitBreaker_FailuresOverMaxErrors_BackendNoLongerCalled()
    {
        int before = _f.A.ReceivedWith("/down").Length;
        for (int i = 0; i < 2; i++)
        {
            using HttpResponseMessage failing = await _f.Gateway.Client.GetAsync("/breaker");
            Assert.Equal(HttpStatusCode.InternalServerError, failing.StatusCode);
            Assert.Equal("backend 0: invalid status code 503", await failing.Content.ReadAsStringAsync());
        }

        using HttpResponseMessage open = await _f.Gateway.Client.GetAsync("/breaker");

        Assert.Equal(HttpStatusCode.InternalServerError, open.StatusCode);
        Assert.Equal("false", open.Headers.GetValues(Completed).Single());
        Assert.Equal("backend 0: the circuit breaker is open", await open.Content.ReadAsStringAsync());
        Assert.Equal(before + 2, _f.A.ReceivedWith("/down").Length);
    }

    [Fact]
    public async Task CircuitBreaker_NoOpAnswersRelayed_CountedAsSuccessesAndTheBackendStillCalled()
    {
        // A no-op answer is relayed with its body still on the backend connection: the breaker must see a success,
        // not a result without data, or two relayed answers would open it (max_errors 1).
        int before = _f.A.ReceivedWith("/ok").Length;
        for (int i = 0; i < 4; i++)
        {
            using HttpResponseMessage relayed = await _f.Gateway.Client.GetAsync("/breaker/noop");
            Assert.Equal(HttpStatusCode.OK, relayed.StatusCode);
            Assert.Equal("""{"from_chain": true}""", await relayed.Content.ReadAsStringAsync());
        }

        Assert.Equal(before + 4, _f.A.ReceivedWith("/ok").Length);
    }

    // ---- 5. Header text a header line cannot carry: dropped with a rule, never a 500 ----

    [Fact]
    public async Task ClientHeaderWithNonAscii_ForwardAll_HeaderDroppedOthersForwarded()
    {
        int before = _f.B.ReceivedWith("/echo-headers").Length;
        (int status, string head, _) = await SendRawAsync(_f.Gateway, "GET /headers/all HTTP/1.1\r\nHost: g\r\nX-Name: caf\u00e9\r\nX-Plain: ok\r\nConnection: close\r\n\r\n");

        Assert.True(status == 200, head);
        Assert.Contains("X-KrakenD-Completed: true", head, StringComparison.OrdinalIgnoreCase);
        ReceivedRequest sent = _f.B.ReceivedWith("/echo-headers")[before];
        Assert.Equal("ok", sent.Headers["X-Plain"]);
        Assert.False(sent.Headers.ContainsKey("X-Name"));
    }

    [Fact]
    public async Task NoOp_BackendHeaderWithNonAscii_DroppedRestRelayed()
    {
        _f.Raw.On("noop", (stream, _) => RawBackend.WriteAsync(stream,
            "HTTP/1.1 200 OK\r\nX-Bad: caf\u00e9\r\nX-Good: yes\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"));

        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/noop/latin");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("yes", response.Headers.GetValues("X-Good").Single());
        Assert.False(response.Headers.Contains("X-Bad"));
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoOp_204WithContentLength_204WithoutBody()
    {
        _f.Raw.On("noop", (stream, _) => RawBackend.WriteAsync(stream, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Seen: 1\r\nConnection: close\r\n\r\n"));

        (int status, string head, string body) = await SendRawAsync(_f.Gateway, "GET /noop/empty HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n");

        Assert.Equal(204, status);
        Assert.Contains("X-Seen: 1", head, StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Length", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(string.Empty, body);
    }

    private int CountRaw(string requestLineStart) => _f.Raw.Requests.Count(r => r.StartsWith(requestLineStart, StringComparison.Ordinal));

    private static long BudgetInUse(GatewayUnderTest gateway) => gateway.Services.GetRequiredService<BackendRegistry>().Budget.InUse;

    /// <summary>The budget in use once the gateway has finished with its requests (it releases after the answer is sent).</summary>
    private static async Task<long> BudgetSettledAsync(GatewayUnderTest gateway)
    {
        var waited = Stopwatch.StartNew();
        while (BudgetInUse(gateway) != 0 && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }

        return BudgetInUse(gateway);
    }

    private static byte[] Filled(int size, byte value)
    {
        var bytes = new byte[size];
        Array.Fill(bytes, value);
        return bytes;
    }

    private static async Task EndlessChunkedAsync(NetworkStream stream, string head)
    {
        await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n");
        byte[] chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string(' ', 0x10000)}\r\n");
        for (int i = 0; i < 3200; i++) // 200 MiB if nobody stops reading
        {
            await stream.WriteAsync(chunk);
        }
    }

    /// <summary>Sends bytes exactly as written (Latin-1, so a test can put any byte in a header) and reads the whole answer.</summary>
    private static async Task<(int Status, string Head, string Body)> SendRawAsync(GatewayUnderTest gateway, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.Client.BaseAddress!.Host, gateway.Client.BaseAddress.Port);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request));
        using var reader = new StreamReader(stream);
        string response = await reader.ReadToEndAsync();
        int split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string head = response[..split];
        return (int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), head, response[(split + 4)..]);
    }
}

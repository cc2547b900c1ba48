using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The fault matrix of docs/reliability.md: every backend fault of <see cref="FaultModes"/> in a parallel endpoint
/// (a partial answer), a sequence (later steps not called) and a proxy-chain service (the endpoint's backend not
/// called), then hostile clients. Each row also checks that nothing was left behind: the response-body budget is
/// back to zero and the gateway closed every connection to the faulty backend, including those it gave up on.
/// </summary>
[Collection(nameof(FaultTests))]
public sealed class FaultMatrixTests : IClassFixture<MatrixFixture>
{
    private const string Completed = "X-KrakenD-Completed";

    private readonly MatrixFixture _f;

    public FaultMatrixTests(MatrixFixture fixture) => _f = fixture;

    public static TheoryData<FaultRow> Rows => new(FaultModes.Rows);

    // ---- Backend faults ----

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Parallel_BackendFault_PartialAnswerOrItsData(FaultRow row)
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync($"/parallel/{row.Mode}");
        string body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {Shorten(body)}");
        Assert.Equal(row.Fails ? "false" : "true", response.Headers.GetValues(Completed).Single());
        AssertMerged(body, row, ("healthy", """{"b": 2}"""));
        await AssertNothingLeftAsync();
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task Sequence_BackendFault_LaterStepsNotCalled(FaultRow row)
    {
        int lastBefore = _f.Healthy.ReceivedWith("/last").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync($"/sequence/{row.Mode}");
        string body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {Shorten(body)}");
        Assert.Equal(row.Fails ? "false" : "true", response.Headers.GetValues(Completed).Single());
        if (row.Fails)
        {
            AssertMerged(body, row, ("first", """{"b": 2}"""));
            Assert.Equal(lastBefore, _f.Healthy.ReceivedWith("/last").Length);
        }
        else
        {
            AssertMerged(body, row, ("first", """{"b": 2}"""), ("last", """{"last": true}"""));
            Assert.Equal(lastBefore + 1, _f.Healthy.ReceivedWith("/last").Length);
        }

        await AssertNothingLeftAsync();
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task ProxyChain_ServiceFault_ErrorAnswerAndBackendNotCalled(FaultRow row)
    {
        int lastBefore = _f.Healthy.ReceivedWith("/last").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.PostAsync($"/chain/{row.Mode}", new StringContent("{}", Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == row.ChainStatus, $"{(int)response.StatusCode} {Shorten(body)}");
        if (row.ChainError is null)
        {
            Assert.Equal("true", response.Headers.GetValues(Completed).Single());
            JsonAssert.Equivalent("""{"last": true}""", body);
            Assert.Equal(lastBefore + 1, _f.Healthy.ReceivedWith("/last").Length);
        }
        else
        {
            Assert.Equal("false", response.Headers.GetValues(Completed).Single());
            JsonAssert.Equivalent(JsonSerializer.Serialize(new { error = $"proxy-chain service 1 of 1 {row.ChainError}" }), body);
            Assert.Equal(lastBefore, _f.Healthy.ReceivedWith("/last").Length);
        }

        await AssertNothingLeftAsync();
    }

    [Theory]
    [InlineData("/refused/parallel", """{"healthy": {"b": 2}}""")]
    [InlineData("/refused/sequence", """{"first": {"b": 2}}""")]
    public async Task ConnectionRefused_PartialAnswerAndLaterStepsNotCalled(string path, string expected)
    {
        int lastBefore = _f.Healthy.ReceivedWith("/last").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues(Completed).Single());
        JsonAssert.Equivalent(expected, await response.Content.ReadAsStringAsync());
        Assert.Equal(lastBefore, _f.Healthy.ReceivedWith("/last").Length);
    }

    [Fact]
    public async Task ConnectionRefused_ProxyChainService_502AndBackendNotCalled()
    {
        int lastBefore = _f.Healthy.ReceivedWith("/last").Length;
        using HttpResponseMessage response = await _f.Gateway.Client.PostAsync("/refused/chain", content: null);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        JsonAssert.Equivalent("""{"error": "proxy-chain service 1 of 1 could not be reached"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(lastBefore, _f.Healthy.ReceivedWith("/last").Length);
    }

    /// <summary>
    /// The quick rows, three more times in every shape, after a first round that warmed pools and caches: the test
    /// process's open files and managed memory stay where they were. A leaked socket, buffer or timer per request
    /// would add 150 of them.
    /// </summary>
    [Fact]
    public async Task Matrix_RepeatedThreeTimes_OpenFilesAndMemoryStayFlat()
    {
        await RunQuickRowsAsync();
        (int files, long memory) before = Usage();
        var rounds = new List<long>();
        for (int round = 0; round < 3; round++)
        {
            await RunQuickRowsAsync();
            rounds.Add(Usage().Memory);
        }

        await AssertNothingLeftAsync();
        (int files, long memory) after = Usage();
        Assert.True(after.files <= before.files + 24, $"open files {before.files} -> {after.files}");
        Assert.True(after.memory <= before.memory + (32L * 1024 * 1024), $"managed memory {before.memory} -> {string.Join(", ", rounds)}");
    }

    // ---- Hostile clients ----

    [Theory]
    [InlineData("/held/sequence", "GET", "")]
    [InlineData("/held/chain", "POST", "Content-Length: 2\r\n\r\n{}")]
    public async Task ClientDisconnectsMidChain_BackendCallCancelledAndNothingAfterItCalled(string path, string method, string rest)
    {
        _f.RearmHeld();
        int lastBefore = _f.Healthy.ReceivedWith("/last").Length;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, _f.Gateway.Client.BaseAddress!.Port);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"{method} {path} HTTP/1.1\r\nHost: g\r\n{(rest.Length == 0 ? "\r\n" : rest)}"));
            await _f.HeldArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        // The endpoint's timeout is 20 s and the backend holds for 30 s: only the client's going away can have closed
        // the call (the bound keeps a broken gateway from hanging the run).
        Assert.True(await _f.HeldReleased.Task.WaitAsync(TimeSpan.FromSeconds(15)), "the backend call outlived its client");
        await AssertNothingLeftAsync();
        Assert.Equal(lastBefore, _f.Healthy.ReceivedWith("/last").Length);
    }

    [Fact]
    public async Task Slowloris_HeadersTrickle_408AndClosedByTheHeadersTimeout()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _f.Gateway.Client.BaseAddress!.Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync("GET /echo/slow HTTP/1.1\r\nHost: g\r\n"u8.ToArray());
        Task<string> answer = ReadToEndAsync(stream);
        try
        {
            for (int i = 0; i < 40 && !answer.IsCompleted; i++)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"X-Slow-{i}: 1\r\n"));
                await Task.Delay(250);
            }
        }
        catch (IOException)
        {
            // The gateway closed the connection while the client was still trickling.
        }

        // 1 s headers timeout, checked once a second: cut after 1 to 2 s of the 10 s the client would take.
        string text = await answer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 408 ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenThousandHeaders_431()
    {
        var headers = new StringBuilder();
        for (int i = 0; i < 10_000; i++)
        {
            headers.Append(CultureInvariant($"X-H{i}: v\r\n"));
        }

        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/echo/many", headers.ToString());
        Assert.Equal(431, status);
    }

    [Fact]
    public async Task EightKilobyteUrl_414()
    {
        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/echo/" + new string('a', 8 * 1024));
        Assert.Equal(414, status);
    }

    [Theory]
    [InlineData("/echo/%zz")]
    [InlineData("/echo/%")]
    [InlineData("/echo/%C0%AE%C0%AE")]
    [InlineData("/echo/%2e%2e")]
    [InlineData("/echo/a%00b")]
    [InlineData("/echo/%E2%80")]
    public async Task InvalidPercentEncoding_400AndNoBackendCalled(string target)
    {
        int before = _f.Healthy.ReceivedWith("/echo").Length;
        (int status, _, string body) = await _f.Gateway.SendRawAsync("GET", target);

        Assert.True(status == 400, $"{status} {body}");
        Assert.Equal(before, _f.Healthy.ReceivedWith("/echo").Length);
    }

    [Fact]
    public async Task GetWithBody_BodyNotForwardedAndTheNextRequestOnTheConnectionAnswered()
    {
        string answers = await ExchangeAsync(
            "GET /echo/first HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n\r\nhello" +
            "GET /echo/second HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n");

        string[] bodies = JsonBodies(answers);
        Assert.Equal(2, bodies.Length);
        Assert.Equal("/echo/first", JsonDocument.Parse(bodies[0]).RootElement.GetProperty("target").GetString());
        Assert.Equal(string.Empty, JsonDocument.Parse(bodies[0]).RootElement.GetProperty("body").GetString());
        Assert.Equal("/echo/second", JsonDocument.Parse(bodies[1]).RootElement.GetProperty("target").GetString());
    }

    [Fact]
    public async Task PipelinedRequests_AnsweredInOrder()
    {
        var requests = new StringBuilder();
        for (int i = 0; i < 5; i++)
        {
            requests.Append(CultureInvariant($"GET /echo/p{i} HTTP/1.1\r\nHost: g\r\n{(i == 4 ? "Connection: close\r\n" : string.Empty)}\r\n"));
        }

        string[] bodies = JsonBodies(await ExchangeAsync(requests.ToString()));

        Assert.Equal(["/echo/p0", "/echo/p1", "/echo/p2", "/echo/p3", "/echo/p4"], bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("target").GetString()));
    }

    [Fact]
    public async Task Http10WithoutHost_AnsweredAndClosed()
    {
        string answer = await ExchangeAsync("GET /echo/old HTTP/1.0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Equal("/echo/old", JsonDocument.Parse(JsonBodies(answer).Single()).RootElement.GetProperty("target").GetString());
    }

    // ---- Known risks (issue 16, section 2) ----

    [Fact]
    public async Task SlowUpload_BoundedByTheEndpointTimeout_408AndClosed()
    {
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _f.Gateway.Client.BaseAddress!.Port);
        NetworkStream stream = client.GetStream();

        // 10 of the 1000 bytes announced, then nothing: the body rate check is off in this gateway, so only the
        // endpoint's 2 s timeout can end the request (the bound keeps a gateway without that bound from hanging).
        await stream.WriteAsync("POST /upload HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\": \"xx"u8.ToArray());
        string answer = await ReadToEndAsync(stream).WaitAsync(TimeSpan.FromSeconds(8));

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection: close", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/ok").Length);

        // The client's fault, not the gateway's: no error line for it.
        Assert.DoesNotContain(_f.Log.Lines(), line => line.Contains("\"level\":\"error\"", StringComparison.Ordinal) && line.Contains("/upload", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/held/sequence", "GET", "")]
    [InlineData("/held/chain", "POST", "Content-Length: 2\r\n\r\n{}")]
    public async Task ClientDisconnectsMidChain_RecordedAs499NotAsTimeout(string path, string method, string rest)
    {
        _f.RearmHeld();
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, _f.Gateway.Client.BaseAddress!.Port);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"{method} {path} HTTP/1.1\r\nHost: g\r\n{(rest.Length == 0 ? "\r\n" : rest)}"));
            await _f.HeldArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.True(await _f.HeldReleased.Task.WaitAsync(TimeSpan.FromSeconds(15)), "the backend call outlived its client");

        // The access line is written when the request ends, just after the call is cancelled.
        JsonElement? access = null;
        var waited = Stopwatch.StartNew();
        while (access is null && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
            access = _f.Log.JsonLines().Where(l => l.TryGetProperty("event", out JsonElement e) && e.GetString() == "access" && l.GetProperty("endpoint").GetString() == path).Select(l => (JsonElement?)l).LastOrDefault();
        }

        Assert.NotNull(access);
        Assert.Equal(499, access.Value.GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("GET /echo/lf HTTP/1.1\nHost: g\nX-One: 1\nX-Two: 2\n\n")]
    [InlineData("GET /echo/lf HTTP/1.1\r\nHost: g\r\nX-One: 1\nX-Two: 2\r\n\r\n")]
    public async Task BareLineFeedInTheHeaderBlock_400AndNoBackendCalled(string request)
    {
        int before = _f.Healthy.ReceivedWith("/echo").Length;
        string answer = await ExchangeAsync(request);

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/echo").Length);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")]
    [InlineData("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")]
    public async Task ContentLengthAndTransferEncoding_400AndClosedAndNoBackendCalled(string framing)
    {
        // Found by RequestFuzzTests. Kestrel reads such a body by its chunks and closes the connection after the
        // answer (RFC 9112 §6.3 allows that), but a front proxy that framed it by its length sees another body, and
        // the bytes after it as a request of their own: the request is refused before any backend sees it.
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        string answer = await ExchangeAsync(
            "POST /upload HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\n" + framing + "\r\n2\r\n{}\r\n0\r\n\r\n" +
            "GET /echo/after HTTP/1.1\r\nHost: g\r\n\r\n");

        AssertRefusedAndClosed(answer, before);
    }

    [Theory]
    [InlineData("HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n")]
    [InlineData("HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n")]
    [InlineData("HTTP/1.1", "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("HTTP/1.0", "Transfer-Encoding: chunked\r\n")]
    public async Task TransferEncodingOtherThanChunkedOnceInHttp11_400AndClosedAndNoBackendCalled(string version, string framing)
    {
        // Found by RequestFuzzTests. Kestrel reads any list that ends in chunked as chunked once, and reads chunked in
        // HTTP/1.0; RFC 9112 §6.1 forbids chunked twice and has a 1.0 message with Transfer-Encoding treated as faulty
        // framing. A server in front may read either otherwise: refused before any backend sees it.
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        string answer = await ExchangeAsync(
            "POST /upload " + version + "\r\nHost: g\r\nContent-Type: application/json\r\n" + framing + "\r\n2\r\n{}\r\n0\r\n\r\n" +
            "GET /echo/after HTTP/1.1\r\nHost: g\r\n\r\n");

        AssertRefusedAndClosed(answer, before);
    }

    [Theory]
    [InlineData("/echo/a\tb")]
    [InlineData("/echo/a\u007fb")]
    [InlineData("/echo/a\u0001b")]
    [InlineData("/echo/a?q=\t")]
    public async Task ControlCharacterInTheRequestTarget_400AndNoBackendCalled(string target)
    {
        // Found by RequestFuzzTests: Kestrel took a raw HTAB or DEL in the target and the gateway passed it on
        // percent-encoded. RFC 9112 §3.2 has no such byte in a target, and a server in front that reads the line on
        // whitespace (§3 allows it) would see another target: the request is refused, not repaired.
        int before = _f.Healthy.ReceivedWith("/echo").Length;
        string answer = await ExchangeAsync("GET " + target + " HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/echo").Length);
    }

    [Theory]
    [InlineData("0x5")]
    [InlineData("5,5")]
    [InlineData("5, 5")]
    [InlineData("-5")]
    public async Task ContentLengthNotDigits_400AndClosedAndNoBackendCalled(string length)
    {
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        string answer = await ExchangeAsync(
            "POST /upload HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n{\"a\":1}" +
            "GET /echo/after HTTP/1.1\r\nHost: g\r\n\r\n");

        AssertRefusedAndClosed(answer, before);
    }

    [Fact]
    public async Task ContentLengthWithAPlusSign_ReadAsItsNumber_KnownKestrelLeniency()
    {
        // Found by RequestFuzzTests, kept and documented (docs/reliability.md): Kestrel reads "+7" as 7 and hands the
        // gateway the number, not the text, so the gateway cannot tell it from "7". The body is the 7 bytes, and the
        // request after them is read as the next one; a server in front must have refused "+7" (RFC 9112 §6.3) or read
        // it as 7 too. Fails when Kestrel changes, so that the docs are updated.
        string answer = await ExchangeAsync(
            "POST /echo-post/plus HTTP/1.1\r\nHost: g\r\nContent-Length: +7\r\n\r\n{\"a\":1}" +
            "GET /echo/after HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n");

        string[] bodies = JsonBodies(answer);
        Assert.Equal(2, bodies.Length);
        Assert.Equal("{\"a\":1}", JsonDocument.Parse(bodies[0]).RootElement.GetProperty("body").GetString());
        Assert.Equal("/echo/after", JsonDocument.Parse(bodies[1]).RootElement.GetProperty("target").GetString());
    }

    [Fact]
    public async Task HeaderNameWithAControlByte_400AndNoBackendCalled()
    {
        // Found by RequestFuzzTests: Kestrel took "Content\x01Type" as a header name. RFC 9110 §5.1 has a name be a token.
        int before = _f.Healthy.ReceivedWith("/echo").Length;
        string answer = await ExchangeAsync("GET /echo/name HTTP/1.1\r\nHost: g\r\nX\u0001One: 1\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/echo").Length);
    }

    [Fact]
    public async Task NulInATrailerField_400NotLoggedAsAGatewayError()
    {
        // Found by RequestFuzzTests: Kestrel reports a NUL in a trailer field as an InvalidOperationException while the
        // body is read, and the gateway answered 500 and logged it as its own error.
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        string answer = await ExchangeAsync(
            "POST /upload HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "2\r\n{}\r\n0\r\nX-Trailer-Case: a\0b\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/ok").Length);
        Assert.DoesNotContain(_f.Log.Lines(), line => line.Contains("\"logger\":\"Gateway\"", StringComparison.Ordinal) && line.Contains("Null characters", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://gateway.test/echo/a%00b")]
    [InlineData("http://gateway.test/echo/%zz")]
    [InlineData("http://gateway.test/echo/%C0%AE")]
    public async Task InvalidPercentEncodingInAnAbsoluteFormTarget_400AndNoBackendCalled(string target)
    {
        // Found by RequestFuzzTests (its Host matching the target's authority, which Kestrel requires): an absolute-form target was routed by the path Kestrel had decoded, so "%00" became
        // a NUL in a route value (and was sent on as %00) where the same path in origin form is refused.
        int before = _f.Healthy.ReceivedWith("/echo").Length;
        (int status, _, string body) = await _f.Gateway.SendRawAsync("GET", target);

        Assert.True(status == 400, $"{status} {body}");
        Assert.Equal(before, _f.Healthy.ReceivedWith("/echo").Length);
    }

    [Fact]
    public async Task AbsoluteFormTarget_RoutedByItsPath()
    {
        (int status, _, string body) = await _f.Gateway.SendRawAsync("GET", "http://gateway.test/echo/abs%2Fx?q=1");

        Assert.Equal(200, status);
        Assert.Equal("/echo/abs%2Fx?q=1", JsonDocument.Parse(body).RootElement.GetProperty("target").GetString());
    }

    [Theory]
    [InlineData("80000000")]
    [InlineData("100000000")]
    [InlineData("ffffffffffffffff")]
    public async Task ChunkSizeBeyondTwoToThe31_400AndNotLoggedAsAnError(string size)
    {
        // Found by RequestFuzzTests: Kestrel reports this one malformed chunked body as an IOException (its chunk-size
        // arithmetic overflows) where every other is a BadHttpRequestException, and the gateway answered 500.
        int before = _f.Healthy.ReceivedWith("/ok").Length;
        string answer = await ExchangeAsync(
            "POST /upload HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Chunk-Case: " + size + "\r\n\r\n" +
            "2\r\n{}\r\n" + size + "\r\n{}\r\n0\r\n\r\n");

        AssertRefusedAndClosed(answer, before);
        Assert.DoesNotContain(_f.Log.Lines(), line => line.Contains("\"level\":\"error\"", StringComparison.Ordinal) && line.Contains("Bad chunk size", StringComparison.Ordinal));
    }

    // ---- helpers ----

    /// <summary>
    /// The body budget returns to zero and every connection to the faulty backend is closed: a call the gateway gave
    /// up on (a timeout, a client gone) must not keep its socket. The bound only keeps a broken gateway from hanging.
    /// </summary>
    private async Task AssertNothingLeftAsync()
    {
        var waited = Stopwatch.StartNew();
        while ((_f.BudgetInUse != 0 || _f.Faulty.Open != 0) && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, _f.BudgetInUse);
        Assert.Equal(0, _f.Faulty.Open);
    }

    private static void AssertMerged(string body, FaultRow row, params (string Group, string Json)[] healthy)
    {
        using JsonDocument document = JsonDocument.Parse(body);
        JsonElement root = document.RootElement;
        foreach ((string group, string json) in healthy)
        {
            JsonAssert.Equivalent(json, root.GetProperty(group).GetRawText());
        }

        if (row.Fails)
        {
            Assert.False(root.TryGetProperty("faulty", out _), "a failed step contributed data");
        }
        else if (row.Faulty == FaultModes.BigStringShape)
        {
            Assert.Equal(FaultModes.BigStringLength, root.GetProperty("faulty").GetProperty("s").GetString()!.Length);
        }
        else
        {
            // Compared as text: a body is relayed as the backend wrote it (duplicate keys included), not re-parsed.
            Assert.Equal(row.Faulty!.Replace(" ", "", StringComparison.Ordinal), root.GetProperty("faulty").GetRawText().Replace(" ", "", StringComparison.Ordinal));
        }
    }

    private async Task RunQuickRowsAsync()
    {
        foreach (FaultRow row in FaultModes.Quick)
        {
            (await _f.Gateway.Client.GetAsync($"/parallel/{row.Mode}")).Dispose();
            (await _f.Gateway.Client.GetAsync($"/sequence/{row.Mode}")).Dispose();
            (await _f.Gateway.Client.PostAsync($"/chain/{row.Mode}", new StringContent("{}"))).Dispose();
        }
    }

    /// <summary>The test process's open files and managed heap, without what the healthy backend keeps of its requests (10 MB bodies).</summary>
    private (int Files, long Memory) Usage()
    {
        _f.Healthy.ClearReceived();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return (Directory.GetFiles("/proc/self/fd").Length, GC.GetTotalMemory(forceFullCollection: true));
    }

    /// <summary>
    /// A request refused for its framing: answered <c>400</c> with <c>Connection: close</c>, nothing answered after it
    /// on the connection (the bytes after the refused request are not read as a request of their own), and the
    /// backend's <c>/ok</c> not called since <paramref name="before"/> (its calls counted before the request).
    /// </summary>
    private void AssertRefusedAndClosed(string answer, int before)
    {
        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection: close", answer, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("HTTP/1.1", answer[8..], StringComparison.Ordinal);
        Assert.Equal(before, _f.Healthy.ReceivedWith("/ok").Length);
    }

    /// <summary>Writes <paramref name="requests"/> in one go and reads until the gateway closes the connection.</summary>
    private async Task<string> ExchangeAsync(string requests)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _f.Gateway.Client.BaseAddress!.Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests));
        return await ReadToEndAsync(stream).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                all.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: what was read is the answer.
        }

        return Encoding.UTF8.GetString(all.ToArray());
    }

    /// <summary>The JSON bodies of a run of answers with Content-Length (the echo backend's answers are not chunked by the gateway).</summary>
    private static string[] JsonBodies(string answers)
    {
        var bodies = new List<string>();
        int at = 0;
        while (at < answers.Length)
        {
            int end = answers.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }

            string head = answers[at..end];
            int length = FaultFixture.ContentLength(head);
            bodies.Add(answers.Substring(end + 4, length));
            at = end + 4 + length;
        }

        return [.. bodies];
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}

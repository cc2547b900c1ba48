using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Forwarding;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// HTTP/1.1 as the gateway speaks it to a backend (RFC 9112), run over both backend HTTP clients, so that the gateway's
/// own client is held to what SocketsHttpHandler does wherever that is right: body framing by length, chunks and close;
/// interim answers; bodiless answers on a kept-alive connection; connections the backend ends; response heads too large
/// to read; framings that could desynchronise a pooled connection; and the request head the backend receives. Every
/// test starts its own <see cref="RawBackend"/> and gateway (Configs/conformance.json), so that connection counts are
/// its own: one host list, one pool. What the backend observed (requests, and the connection each came on) is asserted
/// where connection reuse is the point. Where SocketsHttpHandler's choice is debatable, the test asserts the safe
/// property (the step failed, no wrong data, no reuse) and says so.
/// </summary>
public sealed class BackendHttpConformanceTests
{
    private const string Completed = "X-KrakenD-Completed";

    /// <summary>The small answer of <c>/c/ok</c>, the call that checks the gateway goes on serving.</summary>
    private const string Ok = """{"ok":true}""";

    /// <summary>
    /// The bound of one client call: well past the endpoints' 3 s timeout, so that only a gateway that hangs (or a
    /// client that never answers) reaches it.
    /// </summary>
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(15);

    // ---- 1-3. Body framing: Content-Length, chunked, close-delimited ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task ContentLengthBody_LargerThan64KiB_DataIntactAndConnectionReused(BackendHttpClient client)
    {
        string big = BigJson(200 * 1024);
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "big")
            {
                // Written in uneven pieces, so that the body crosses read-buffer boundaries at odd places.
                byte[] bytes = Encoding.UTF8.GetBytes(big);
                await RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n");
                for (int at = 0; at < bytes.Length; at += 7001)
                {
                    await stream.WriteAsync(bytes.AsMemory(at, Math.Min(7001, bytes.Length - at)));
                }

                return true;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/big");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertData(big);
        second.AssertData(Ok);
        AssertOneConnection(raw, 2);
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task ChunkedBody_ExtensionsTrailerAndUppercaseHex_DataIntactAndConnectionReused(BackendHttpClient client)
    {
        // A JSON object cut into chunks of several shapes: a size with an extension (5;ext=1), sizes whose hex has
        // letters written in upper case (1A, and a chunk over 64 KiB), then the last chunk with a trailer section.
        string filler = new('y', 70_000);
        string json = "{\"s\":\"" + "abcdefghijklmnopqrstuvwxyz" + filler + "\",\"n\":12345}";
        string first5 = json[..5];
        string next26 = json.Substring(5, 26);
        string middle = json.Substring(31, filler.Length);
        string rest = json[(31 + filler.Length)..];
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "chunked")
            {
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
                await RawBackend.WriteAsync(stream, $"5;ext=1\r\n{first5}\r\n");
                await RawBackend.WriteAsync(stream, $"1A\r\n{next26}\r\n");
                await RawBackend.WriteAsync(stream, $"{middle.Length:X}\r\n{middle}\r\n");
                await RawBackend.WriteAsync(stream, $"{rest.Length:X}\r\n{rest}\r\n0\r\nX-T: 1\r\n\r\n");
                return true;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/chunked");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertData(json);
        second.AssertData(Ok);
        AssertOneConnection(raw, 2);
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task CloseDelimitedBody_DataIntactAndTheNextCallOnANewConnection(BackendHttpClient client)
    {
        string big = BigJson(100 * 1024);
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "close-delimited")
            {
                // No Content-Length, no Transfer-Encoding: the body ends where the connection does (RFC 9112 §6.3, rule 8).
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
                await stream.WriteAsync(Encoding.UTF8.GetBytes(big));
                return false;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/close-delimited");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertData(big);
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 4. Interim answers ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "HTTP/1.1 100 Continue\r\n\r\n")]
    [InlineData(BackendHttpClient.Sockets, "HTTP/1.1 100 Continue\r\n\r\n")]
    [InlineData(BackendHttpClient.Gateway, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")]
    [InlineData(BackendHttpClient.Sockets, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")]
    public async Task InterimAnswerBeforeTheFinal_FinalAnswerUsedAndConnectionReused(BackendHttpClient client, string interim)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "interim")
            {
                await RawBackend.WriteAsync(stream, interim);
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"final\":true}");
                return true;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/interim");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertData("""{"final":true}""");
        second.AssertData(Ok);
        AssertOneConnection(raw, 2);
    }

    /// <summary>
    /// FaultTests.Backend_Answers101_FailedStepNotRelayedAndTheConnectionClosed pins the answer and the close for the
    /// suite's client; this adds, for both clients, that the switched connection is never used again and the gateway
    /// goes on serving. The backend offers the connection for another request, so a reuse would show.
    /// </summary>
    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task SwitchingProtocolsNeverAskedFor_StepFailsAndTheNextCallOnANewConnection(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", Answering("switch", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/switch");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertFailed("backend 0: not a final HTTP response (status 101)");
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 5. Bodiless answers on a kept-alive connection ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "head")]
    [InlineData(BackendHttpClient.Sockets, "head")]
    [InlineData(BackendHttpClient.Gateway, "204")]
    [InlineData(BackendHttpClient.Sockets, "204")]
    [InlineData(BackendHttpClient.Gateway, "304")]
    [InlineData(BackendHttpClient.Sockets, "304")]
    public async Task BodilessAnswer_NoBodyReadAndTheConnectionReused(BackendHttpClient client, string kind)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            switch (Mode(head))
            {
                case "bodiless" when head.StartsWith("HEAD ", StringComparison.Ordinal):
                    // The length of the body a GET would get (RFC 9110 §9.3.2), and no body.
                    await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n");
                    return true;
                case "bodiless" when kind == "204":
                    await RawBackend.WriteAsync(stream, "HTTP/1.1 204 No Content\r\nX-Seen: 1\r\n\r\n");
                    return true;
                case "bodiless":
                    // A 304 may carry the Content-Length the 200 would have (RFC 9110 §8.6), and never a body.
                    await RawBackend.WriteAsync(stream, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 11\r\n\r\n");
                    return true;
                default:
                    return await WriteOkAsync(stream);
            }
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, kind == "head" ? "/head/bodiless" : "/get/bodiless");
        Answer second = await CallAsync(gateway, "/get/ok");

        // None of them is a JSON object: a failed step, whose reason is the status, or for HEAD the empty body.
        first.AssertFailed(kind == "head" ? "backend 0: the response is not in the backend's encoding" : $"backend 0: invalid status code {kind}");
        second.AssertData(Ok);
        AssertOneConnection(raw, 2);
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task NoContentWithALengthAndBytes_NextCallAnsweredRightOnANewConnection(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        // RFC 9112 §6.3: a 204 ends at its head whatever it says. The 5 bytes are left on the connection, where a client
        // that reused it would read them as the start of the next answer.
        raw.OnKeepAlive("c", Answering("204-with-body", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nabcde"));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/204-with-body");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertFailed("backend 0: invalid status code 204");
        second.AssertData(Ok);

        // SocketsHttpHandler sees bytes it did not expect on the connection and does not put it back in the pool.
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 6-7. Connections the backend ends ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task ConnectionCloseOnA200_NextCallOnANewConnection(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        // The backend says it closes but leaves the socket open and would read another request: only the client's
        // honouring the header keeps the next call off this connection.
        raw.OnKeepAlive("c", Answering("close", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 14\r\n\r\n{\"close\":true}"));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/close");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertData("""{"close":true}""");
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "GET")]
    [InlineData(BackendHttpClient.Sockets, "GET")]
    [InlineData(BackendHttpClient.Gateway, "POST")]
    [InlineData(BackendHttpClient.Sockets, "POST")]
    public async Task BackendClosesTheIdleConnection_NextCallSucceedsAndEachBodyArrivesOnce(BackendHttpClient client, string method)
    {
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            bodies.Enqueue(Encoding.UTF8.GetString(await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head))));

            // Keep-alive semantics (HTTP/1.1, no Connection: close), then the socket closes right after the answer,
            // as a backend whose idle timeout is shorter than the gateway's does.
            await WriteOkAsync(stream);
            return false;
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, method == "GET" ? "/get/first" : "/post/first", method == "GET" ? null : "{\"n\":1}");

        // The connection is idle and closed before the next call (a busy CI host can run the backend's close late:
        // a POST that meets a connection closing at that moment is not sent again, by design).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (raw.Open != 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(5);
        }

        Assert.Equal(0, raw.Open);
        Answer second = await CallAsync(gateway, method == "GET" ? "/get/second" : "/post/second", method == "GET" ? null : "{\"n\":2}");

        first.AssertData(Ok);
        second.AssertData(Ok);

        // Two calls, two requests: the closed connection was not written to in a way that lost or doubled a request,
        // and a POST body, which must not be re-sent, arrived exactly once each.
        Assert.Equal([$"{method} /c/first", $"{method} /c/second"], raw.Received.Select(r => RequestLine(r.Head)));
        Assert.Equal(method == "GET" ? ["", ""] : ["{\"n\":1}", "{\"n\":2}"], bodies);
        Assert.Equal(2, raw.Connections);
    }

    // ---- 8. Response heads too large to read ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "one-large-header")]
    [InlineData(BackendHttpClient.Sockets, "one-large-header")]
    [InlineData(BackendHttpClient.Gateway, "many-headers")]
    [InlineData(BackendHttpClient.Sockets, "many-headers")]
    public async Task OversizeResponseHead_StepFailsAtOnceAndTheGatewayGoesOn(BackendHttpClient client, string shape)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) != shape)
            {
                return await WriteOkAsync(stream);
            }

            var answer = new StringBuilder("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n");
            if (shape == "one-large-header")
            {
                answer.Append("X-Large: ").Append('v', 100 * 1024).Append("\r\n");
            }
            else
            {
                // 2,000 headers of 48 bytes, 96 KiB in all: over SocketsHttpHandler's 64 KiB for a response head (its
                // only bound: it has none on the count, so 2,000 headers in less than 64 KiB are read).
                for (int i = 0; i < 2000; i++)
                {
                    answer.Append(CultureInfo.InvariantCulture, $"X-Header-{i:D4}: {new string('h', 32)}\r\n");
                }
            }

            await RawBackend.WriteAsync(stream, answer.Append("\r\n{}").ToString());
            return true;
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, $"/get/{shape}");
        Answer second = await CallAsync(gateway, "/get/ok");

        // A transport failure when the head passes the bound, not a wait for the endpoint's timeout.
        first.AssertFailed("backend 0: the backend could not be reached");
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 9. Framings that could desynchronise a pooled connection ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "negative-length")]
    [InlineData(BackendHttpClient.Sockets, "negative-length")]
    [InlineData(BackendHttpClient.Gateway, "letters-length")]
    [InlineData(BackendHttpClient.Sockets, "letters-length")]
    [InlineData(BackendHttpClient.Gateway, "chunk-size-not-hex")]
    [InlineData(BackendHttpClient.Sockets, "chunk-size-not-hex")]
    [InlineData(BackendHttpClient.Gateway, "chunk-longer-than-size")]
    [InlineData(BackendHttpClient.Sockets, "chunk-longer-than-size")]
    [InlineData(BackendHttpClient.Gateway, "short-body")]
    [InlineData(BackendHttpClient.Sockets, "short-body")]
    public async Task InvalidFraming_StepFailsAndTheConnectionNotReused(BackendHttpClient client, string shape)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            // The backend keeps each connection for another request (but for the short body): a reuse would show.
            const string Json = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
            switch (Mode(head))
            {
                case "negative-length":
                    await RawBackend.WriteAsync(stream, Json + "Content-Length: -1\r\n\r\n{\"a\":1}");
                    return true;
                case "letters-length":
                    await RawBackend.WriteAsync(stream, Json + "Content-Length: abc\r\n\r\n{\"a\":1}");
                    return true;
                case "chunk-size-not-hex":
                    await RawBackend.WriteAsync(stream, Json + "Transfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\nzz\r\n{}\r\n0\r\n\r\n");
                    return true;
                case "chunk-longer-than-size":
                    // The 7 bytes announced are a whole JSON object; the bytes after them, before the CRLF, are not
                    // the chunk's, so the framing is broken even though what it announced reads well.
                    await RawBackend.WriteAsync(stream, Json + "Transfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}junk\r\n0\r\n\r\n");
                    return true;
                case "short-body":
                    // 7 of the 20 bytes announced, then the connection ends: a complete-looking JSON object, cut.
                    await RawBackend.WriteAsync(stream, Json + "Content-Length: 20\r\n\r\n{\"a\":1}");
                    return false;
                default:
                    return await WriteOkAsync(stream);
            }
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, $"/get/{shape}");
        Answer second = await CallAsync(gateway, "/get/ok");

        if (shape.EndsWith("-length", StringComparison.Ordinal))
        {
            // RFC 9112 §6.3 (rule 5) makes a Content-Length that does not parse an unrecoverable error. SocketsHttpHandler
            // instead reads such an answer as close-delimited, so here (the backend keeps the connection) only the
            // endpoint's timeout ends the step. Debatable, so the safe property is asserted: the step failed, nothing of
            // the body reached the client, the connection was not used again. Failing at once is better.
            first.AssertFailed("backend 0: the backend could not be reached", "backend 0: context deadline exceeded");
        }
        else
        {
            first.AssertFailed("backend 0: the backend could not be reached");
        }

        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    /// <summary>
    /// Two framings in one answer: the backend may mean one and a reader in its place the other, so the bytes after
    /// the body are a matter of opinion, and the connection must not carry another exchange. RFC 9112 §6.3 makes
    /// different Content-Length values an unrecoverable error (rule 5: close the connection, discard the answer, 502 from
    /// a proxy), and calls Content-Length with Transfer-Encoding a smuggling attempt that ought to be one (rule 3). Each
    /// body here reads as a JSON object under either framing, so only failing the step is safe.
    /// </summary>
    [SkippableTheory]
    [InlineData(BackendHttpClient.Gateway, "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n")]
    [InlineData(BackendHttpClient.Sockets, "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n")]
    [InlineData(BackendHttpClient.Gateway, "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n")]
    [InlineData(BackendHttpClient.Sockets, "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n")]
    [InlineData(BackendHttpClient.Gateway, "Content-Length: 8\r\nContent-Length: 7\r\n\r\n{\"a\":1} ")]
    [InlineData(BackendHttpClient.Sockets, "Content-Length: 8\r\nContent-Length: 7\r\n\r\n{\"a\":1} ")]
    [InlineData(BackendHttpClient.Gateway, "Content-Length: 7\r\nContent-Length: 8\r\n\r\n{\"a\":1} ")]
    [InlineData(BackendHttpClient.Sockets, "Content-Length: 7\r\nContent-Length: 8\r\n\r\n{\"a\":1} ")]
    public async Task ConflictingFraming_StepFailsAndTheConnectionNotReused(BackendHttpClient client, string framingAndBody)
    {
        // SocketsHttpHandler reads Transfer-Encoding over Content-Length, and the first of two Content-Length values,
        // answers 200 and puts the connection back in the pool when the body it read ended at the bytes it had (the
        // 8-then-7 and both Transfer-Encoding rows). The gateway's own client must not; .NET's is left as it is.
        Skip.If(client == BackendHttpClient.Sockets, "SocketsHttpHandler accepts conflicting framing (see the comment)");
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", Answering("conflicting", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framingAndBody));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/get/conflicting");
        Answer second = await CallAsync(gateway, "/get/ok");

        first.AssertFailed("backend 0: the backend could not be reached");
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 10. no-op: the backend's answer relayed as it comes, its body streamed ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway, "length")]
    [InlineData(BackendHttpClient.Sockets, "length")]
    [InlineData(BackendHttpClient.Gateway, "chunked")]
    [InlineData(BackendHttpClient.Sockets, "chunked")]
    [InlineData(BackendHttpClient.Gateway, "close")]
    [InlineData(BackendHttpClient.Sockets, "close")]
    public async Task NoOpBody_EachFraming_RelayedByteForByteWithItsHeaders(BackendHttpClient client, string framing)
    {
        // Not JSON, not text, past 64 KiB, written in uneven pieces: no-op relays bytes, whatever they are.
        byte[] body = NoOpBody(150 * 1024);
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) != framing)
            {
                return await WriteOkAsync(stream);
            }

            string common = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Backend: one\r\nX-Backend: two\r\nKeep-Alive: timeout=5\r\n"
                + "Cache-Control: max-age=60,public\r\n";
            switch (framing)
            {
                case "length":
                    await RawBackend.WriteAsync(stream, common + $"Content-Length: {body.Length}\r\n\r\n");
                    await WritePiecesAsync(stream, body);
                    return true;
                case "chunked":
                    await RawBackend.WriteAsync(stream, common + "Transfer-Encoding: chunked\r\n\r\n");
                    for (int at = 0; at < body.Length; at += 9001)
                    {
                        int size = Math.Min(9001, body.Length - at);
                        await RawBackend.WriteAsync(stream, $"{size:x};ext=1\r\n");
                        await stream.WriteAsync(body.AsMemory(at, size));
                        await RawBackend.WriteAsync(stream, "\r\n");
                    }

                    await RawBackend.WriteAsync(stream, "0\r\nX-Trailer: dropped\r\n\r\n");
                    return true;
                default:
                    // Ended by the connection's end (RFC 9112 §6.3, rule 8).
                    await RawBackend.WriteAsync(stream, common + "\r\n");
                    await WritePiecesAsync(stream, body);
                    return false;
            }
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        (HttpResponseMessage first, byte[] relayed) = await GetBytesAsync(gateway, $"/noop/{framing}");
        Answer second = await CallAsync(gateway, "/get/ok");

        using (first)
        {
            Assert.Equal(200, (int)first.StatusCode);
            Assert.True(body.AsSpan().SequenceEqual(relayed), $"{relayed.Length} bytes relayed of {body.Length}, or other bytes");
            Assert.Equal(["one", "two"], first.Headers.GetValues("X-Backend"));
            // As received, not parsed and written again ("max-age=60, public").
            Assert.Equal("max-age=60,public", first.Headers.NonValidated["Cache-Control"].ToString());
            Assert.Equal("application/octet-stream", first.Content.Headers.ContentType?.MediaType);
            Assert.False(first.Headers.Contains("Keep-Alive"), "a hop-by-hop header was relayed");
            Assert.False(first.Headers.Contains("X-Trailer"), "a trailer was relayed as a header");
        }

        second.AssertData(Ok);
        if (framing == "close")
        {
            AssertNewConnectionEach(raw, 2);
        }
        else
        {
            AssertOneConnection(raw, 2);
        }
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task NoOpAnswer_FailureStatus_RelayedWithItsBody(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", Answering("missing", "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot here!"));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/noop/missing");
        Answer second = await CallAsync(gateway, "/get/ok");

        Assert.Equal(new Answer(404, "false", "not here!"), first);
        second.AssertData(Ok);
        AssertOneConnection(raw, 2);
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task NoOpBody_CutShort_TheClientsAnswerBrokenOffNotEnded(BackendHttpClient client)
    {
        // Half of the announced bytes, then the connection ends: relayed bytes may have reached the client, so its
        // answer must break off (its connection aborted), never end as if whole.
        byte[] body = NoOpBody(100 * 1024);
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "cut")
            {
                await RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {body.Length}\r\n\r\n");
                await WritePiecesAsync(stream, body.AsMemory(0, body.Length / 2));
                return false;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        await AssertNoOpAnswerBrokenOffAsync(gateway, raw, "/noop/cut");
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task NoOpBody_ChunkLongerThanItsSize_TheClientsAnswerBrokenOffAndTheConnectionNotReused(BackendHttpClient client)
    {
        // A first chunk of 64 KiB (relayed, so the client's answer has begun), then one whose data runs past its size
        // before the CRLF: the rest cannot be told apart from another message, so the answer breaks off.
        byte[] first = NoOpBody(64 * 1024);
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            if (Mode(head) == "overlong")
            {
                await RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n{first.Length:x}\r\n");
                await WritePiecesAsync(stream, first);
                await RawBackend.WriteAsync(stream, "\r\n3\r\nabcdef\r\n0\r\n\r\n");
                return true;
            }

            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        await AssertNoOpAnswerBrokenOffAsync(gateway, raw, "/noop/overlong");
    }

    /// <summary>
    /// A no-op answer whose backend broke off after relayed bytes may have reached the client: the client's answer must
    /// break off too (its connection aborted), never end as if whole, and the next call goes on a new backend connection.
    /// </summary>
    private static async Task AssertNoOpAnswerBrokenOffAsync(GatewayUnderTest gateway, RawBackend raw, string path)
    {
        Exception? broken = null;
        byte[]? whole = null;
        try
        {
            (HttpResponseMessage answer, whole) = await GetBytesAsync(gateway, path);
            answer.Dispose();
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            broken = e;
        }

        Answer second = await CallAsync(gateway, "/get/ok");

        Assert.True(broken is not null, $"the client's answer ended normally with {whole?.Length} bytes");
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    [SkippableTheory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task NoOpAnswer_ConflictingFraming_NotRelayedAndTheConnectionNotReused(BackendHttpClient client)
    {
        // As ConflictingFraming_StepFailsAndTheConnectionNotReused: SocketsHttpHandler reads Transfer-Encoding over
        // Content-Length and keeps the connection (the client gets a 500 only because the relayed Content-Length does not
        // match the body).
        Skip.If(client == BackendHttpClient.Sockets, "SocketsHttpHandler accepts conflicting framing and keeps the connection");
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", Answering("conflicting", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n"));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer first = await CallAsync(gateway, "/noop/conflicting");
        Answer second = await CallAsync(gateway, "/get/ok");

        Assert.Equal(500, first.Status);
        Assert.DoesNotContain("{\"a\"", first.Body, StringComparison.Ordinal);
        second.AssertData(Ok);
        AssertNewConnectionEach(raw, 2);
    }

    // ---- 11. The request the backend receives ----

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task GetRequest_HostIsTheBackendsAuthorityAndNoBody(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", (stream, _) => WriteOkAsync(stream));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer answer = await CallAsync(gateway, "/get/head");

        answer.AssertData(Ok);
        string head = Assert.Single(raw.Received).Head;
        Assert.Equal("GET /c/head HTTP/1.1", RequestLine(head) + " HTTP/1.1");
        Assert.Equal([new Uri(raw.BaseUrl).Authority], HeaderValues(head, "Host"));
        Assert.Empty(HeaderValues(head, "Transfer-Encoding"));
        Assert.Empty(HeaderValues(head, "Content-Length"));
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task PostRequest_ContentLengthAndTheExactBytes(BackendHttpClient client)
    {
        // Over 64 KiB, with bytes outside ASCII, so that the body crosses buffer boundaries and is counted in bytes.
        string sent = "{\"text\":\"" + string.Concat(Enumerable.Repeat("caf\u00e9 \u2603 ", 8000)) + "\"}";
        byte[] expected = Encoding.UTF8.GetBytes(sent);
        byte[]? received = null;
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", async (stream, head) =>
        {
            received = await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head));
            return await WriteOkAsync(stream);
        });
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer answer = await CallAsync(gateway, "/post/body", sent);

        answer.AssertData(Ok);
        string head = Assert.Single(raw.Received).Head;
        Assert.Equal("POST /c/body", RequestLine(head));
        Assert.Equal([new Uri(raw.BaseUrl).Authority], HeaderValues(head, "Host"));
        Assert.Equal([expected.Length.ToString(CultureInfo.InvariantCulture)], HeaderValues(head, "Content-Length"));
        Assert.Empty(HeaderValues(head, "Transfer-Encoding"));
        Assert.True(expected.AsSpan().SequenceEqual(received), "the backend received other bytes than the client sent");
    }

    [Theory]
    [InlineData(BackendHttpClient.Gateway)]
    [InlineData(BackendHttpClient.Sockets)]
    public async Task PostRequestWithoutBody_ContentLengthZero(BackendHttpClient client)
    {
        await using RawBackend raw = RawBackend.Start();
        raw.OnKeepAlive("c", (stream, _) => WriteOkAsync(stream));
        await using GatewayUnderTest gateway = await StartAsync(raw, client);

        Answer answer = await CallAsync(gateway, "/post/empty", string.Empty);

        answer.AssertData(Ok);
        string head = Assert.Single(raw.Received).Head;
        Assert.Equal("POST /c/empty", RequestLine(head));
        Assert.Equal(["0"], HeaderValues(head, "Content-Length"));
        Assert.Empty(HeaderValues(head, "Transfer-Encoding"));
    }

    // ---- Helpers ----

    private static Task<GatewayUnderTest> StartAsync(RawBackend raw, BackendHttpClient client) =>
        GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Conformance.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://raw.test:8080"] = raw.BaseUrl },
            options => options.Backend.HttpClient = client);

    /// <summary>A GET, or a POST of <paramref name="body"/> when there is one, bounded by <see cref="CallBound"/>.</summary>
    private static async Task<Answer> CallAsync(GatewayUnderTest gateway, string path, string? body = null)
    {
        using var bound = new CancellationTokenSource(CallBound);
        using var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await gateway.Client.SendAsync(request, bound.Token);
        string? completed = response.Headers.TryGetValues(Completed, out IEnumerable<string>? values) ? values.Single() : null;
        return new Answer((int)response.StatusCode, completed, await response.Content.ReadAsStringAsync(bound.Token));
    }

    /// <summary>A GET whose answer's body is read as bytes, bounded by <see cref="CallBound"/>.</summary>
    private static async Task<(HttpResponseMessage Response, byte[] Body)> GetBytesAsync(GatewayUnderTest gateway, string path)
    {
        using var bound = new CancellationTokenSource(CallBound);
        HttpResponseMessage response = await gateway.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, bound.Token);
        try
        {
            return (response, await response.Content.ReadAsByteArrayAsync(bound.Token));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Bytes of every value, CR and LF among them, that no framing could mistake for its own: a fixed seed.</summary>
    private static byte[] NoOpBody(int length)
    {
        byte[] bytes = new byte[length];
        new Random(20261202).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes <paramref name="bytes"/> in uneven pieces, so that they cross read buffers at odd places.</summary>
    private static async Task WritePiecesAsync(NetworkStream stream, ReadOnlyMemory<byte> bytes)
    {
        for (int at = 0; at < bytes.Length; at += 7001)
        {
            await stream.WriteAsync(bytes.Slice(at, Math.Min(7001, bytes.Length - at)));
        }
    }

    /// <summary>The <c>{mode}</c> of <c>/c/{mode}</c> in a request head.</summary>
    private static string Mode(string head) => head.Split(' ')[1].Split('/')[2].Split('?')[0];

    /// <summary>The method and target of a request head (<c>GET /c/ok</c>).</summary>
    private static string RequestLine(string head)
    {
        string[] parts = head.Split("\r\n")[0].Split(' ');
        return parts[0] + " " + parts[1];
    }

    private static string[] HeaderValues(string head, string name) =>
        head.Split("\r\n").Skip(1)
            .Where(line => line.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            .Select(line => line[(name.Length + 1)..].Trim())
            .ToArray();

    /// <summary>The answer of <c>/c/ok</c>, on a connection kept for the next request.</summary>
    private static async Task<bool> WriteOkAsync(NetworkStream stream)
    {
        await RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Ok.Length}\r\n\r\n{Ok}");
        return true;
    }

    /// <summary>
    /// A keep-alive handler that answers the call whose mode is <paramref name="mode"/> with <paramref name="answer"/>, as
    /// written, and keeps the connection for another request; every other call gets <see cref="Ok"/>.
    /// </summary>
    private static Func<NetworkStream, string, Task<bool>> Answering(string mode, string answer) => async (stream, head) =>
    {
        if (Mode(head) == mode)
        {
            await RawBackend.WriteAsync(stream, answer);
            return true;
        }

        return await WriteOkAsync(stream);
    };

    /// <summary>Every request the backend saw came on one connection: the gateway kept it and used it again.</summary>
    private static void AssertOneConnection(RawBackend raw, int requests)
    {
        Assert.Equal(requests, raw.Received.Count);
        Assert.All(raw.Received, r => Assert.Equal(1, r.Connection));
        Assert.Equal(1, raw.Connections);
    }

    /// <summary>Every request the backend saw came on a connection of its own: none was used again.</summary>
    private static void AssertNewConnectionEach(RawBackend raw, int requests)
    {
        Assert.Equal(Enumerable.Range(1, requests), raw.Received.Select(r => r.Connection));
        Assert.Equal(requests, raw.Connections);
    }

    /// <summary>A JSON object of about <paramref name="bytes"/> bytes whose every entry differs, so that a misplaced or lost piece shows.</summary>
    private static string BigJson(int bytes)
    {
        var json = new StringBuilder("{");
        for (int i = 0; json.Length < bytes; i++)
        {
            json.Append(CultureInfo.InvariantCulture, $"\"k{i:D6}\":\"{i * 7919 % 100_003:D6}-{new string((char)('a' + (i % 26)), 40)}\",");
        }

        json.Append("\"end\":true}");
        return json.ToString();
    }

    /// <summary>What the gateway's client received.</summary>
    private sealed record Answer(int Status, string? Completed, string Body)
    {
        /// <summary>A complete 200 whose body is the backend's JSON object, by value.</summary>
        public void AssertData(string json)
        {
            Assert.True(Status == 200, $"{Status} {Body}");
            Assert.Equal("true", Completed);
            JsonAssert.Equivalent(json, Body);
        }

        /// <summary>The single backend's step failed: 500, incomplete, with one of the reasons <c>return_error_msg</c> shows.</summary>
        public void AssertFailed(params string[] reasons)
        {
            Assert.True(Status == 500, $"{Status} {(Body.Length > 200 ? Body[..200] : Body)}");
            Assert.Equal("false", Completed);
            Assert.Contains(Body, reasons);
        }
    }
}

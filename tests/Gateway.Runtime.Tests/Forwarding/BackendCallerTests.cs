using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Forwarding;

/// <summary>
/// One backend call, through a host group whose HTTP handler is an in-memory <see cref="FakeBackend"/>: status rules,
/// error options, redirects, limits, and failures that must come back as values (krakend.md §6.6-§6.7, §9).
/// </summary>
public class BackendCallerTests
{
    private const string Url = "http://backend.test/x";

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    public async Task CallAsync_200Or201WithAnObject_SucceedsWithTheObject(int status)
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("""{"a": 1}""", status));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.True(result.Succeeded);
        Assert.True(result.Complete);
        Assert.Equal(status, result.StatusCode);
        Assert.Equal("""{"a": 1}""", Encoding.UTF8.GetString(result.Body));
    }

    [Theory]
    [InlineData(202)]
    [InlineData(204)]
    [InlineData(300)]
    [InlineData(304)]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task CallAsync_AnyOtherStatus_FailsWithThatStatusAndNoBody(int status)
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("""{"error": "no"}""", status));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Status, result.Failure);
        Assert.Equal(status, result.StatusCode);
        Assert.Null(result.ErrorBody);
        Assert.True(result.Body.IsEmpty);
    }

    [Fact]
    public async Task CallAsync_FailingStatusWithReturnErrorCode_KeepsTheBodyAndContentTypeForTheClient()
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("""{"error": "no 404"}""", 404));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry, returnErrorCode: true));

        Assert.Equal(BackendFailure.Status, result.Failure);
        Assert.Equal(404, result.StatusCode);
        Assert.Equal("""{"error": "no 404"}""", Encoding.UTF8.GetString(result.ErrorBody!.WrittenSpan));
        Assert.Equal("application/json; charset=utf-8", result.ErrorContentType);
    }

    [Fact]
    public async Task CallAsync_FailingStatusWithReturnErrorDetails_BecomesIncompleteDataUnderTheErrorKey()
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("""{"error": "teapot"}""", 418));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry, returnErrorDetails: "pot"));

        Assert.True(result.Succeeded);
        Assert.False(result.Complete);
        Assert.Equal(418, result.StatusCode);
        using JsonDocument data = JsonDocument.Parse(result.BodyMemory);
        JsonElement details = Assert.Single(data.RootElement.EnumerateObject(), p => p.Name == "error_pot").Value;
        Assert.Equal(418, details.GetProperty("http_status_code").GetInt32());
        Assert.Equal("""{"error": "teapot"}""", details.GetProperty("http_body").GetString());
        Assert.Equal("application/json; charset=utf-8", details.GetProperty("http_body_encoding").GetString());
    }

    [Theory]
    [InlineData("/landing", "http://backend.test/landing")]
    [InlineData("http://backend.test/elsewhere?q=1", "http://backend.test/elsewhere?q=1")]
    [InlineData("HTTP://BACKEND.TEST:80/upper", "http://backend.test/upper")]
    public async Task CallAsync_RedirectWithinTheOrigin_FollowedToTheNewLocation(string location, string followed)
    {
        var backend = new FakeBackend(request => request.RequestUri!.AbsolutePath == "/x"
            ? FakeBackend.Redirect(302, location)
            : FakeBackend.Json("""{"landed": true}"""));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.True(result.Succeeded);
        Assert.Equal("""{"landed": true}""", Encoding.UTF8.GetString(result.Body));
        Assert.Equal(new[] { Url, followed }, backend.Sent.Select(s => s.Uri.AbsoluteUri));
    }

    [Theory]
    [InlineData("http://elsewhere.test/secret")]
    [InlineData("https://backend.test/x")]
    [InlineData("http://backend.test:8080/x")]
    [InlineData("//169.254.169.254/latest")]
    public async Task CallAsync_RedirectToAnotherOrigin_NotFollowedAndFailsWithTheRedirectStatus(string location)
    {
        var backend = new FakeBackend(_ => FakeBackend.Redirect(307, location));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Status, result.Failure);
        Assert.Equal(307, result.StatusCode);
        Assert.Single(backend.Sent);
    }

    [Theory]
    [InlineData("//127.0.0.1:99999/x")]
    [InlineData("http://[::1")]
    [InlineData("http://exa mple.test/")]
    public async Task CallAsync_LocationThatIsNotAUrl_NotFollowedAndFailsWithTheRedirectStatus(string location)
    {
        var backend = new FakeBackend(_ => FakeBackend.Redirect(302, location));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Status, result.Failure);
        Assert.Equal(302, result.StatusCode);
        Assert.Single(backend.Sent);
    }

    [Fact]
    public async Task CallAsync_RedirectLoop_StopsAfterTenRedirects()
    {
        var backend = new FakeBackend(_ => FakeBackend.Redirect(302, "/x"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Status, result.Failure);
        Assert.Equal(302, result.StatusCode);
        Assert.Equal(11, backend.Sent.Count); // the request and ten redirects
    }

    [Theory]
    [InlineData(301, "GET", null)]
    [InlineData(302, "GET", null)]
    [InlineData(303, "GET", null)]
    [InlineData(307, "POST", "order 7")]
    [InlineData(308, "POST", "order 7")]
    public async Task CallAsync_PostRedirected_301To303ContinueAsGetWithoutBody307And308RepeatIt(int status, string method, string? body)
    {
        var backend = new FakeBackend(request => request.RequestUri!.AbsolutePath == "/x"
            ? FakeBackend.Redirect(status, "/next")
            : FakeBackend.Json("{}"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry, HttpMethod.Post), ClientWithBody("order 7"));

        Assert.True(result.Succeeded);
        SentRequest followed = backend.Sent[1];
        Assert.Equal(method, followed.Method.Method);
        Assert.Equal(body, followed.Body is null ? null : Encoding.UTF8.GetString(followed.Body));
        Assert.Equal("order 7", Encoding.UTF8.GetString(backend.Sent[0].Body!));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(101)]
    [InlineData(103)]
    public async Task CallAsync_InformationalStatusAsTheAnswer_InvalidResponse(int status)
    {
        var backend = new FakeBackend(_ => new HttpResponseMessage((HttpStatusCode)status));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.InvalidResponse, result.Failure);
        Assert.Equal(status, result.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CallAsync_BodyOverTheLimit_BodyTooLargeAndTheBudgetIsReturned(bool declared)
    {
        string json = "{\"blob\": \"" + new string('x', 2048) + "\"}";
        var backend = new FakeBackend(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new TextContent(json, declared) });
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry), maxBodyBytes: 1024);

        Assert.Equal(BackendFailure.BodyTooLarge, result.Failure);
        Assert.Equal(0, registry.Budget.InUse);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CallAsync_BodyExactlyAtTheLimit_Succeeds(bool declared)
    {
        string json = "{\"blob\": \"" + new string('x', 1024 - 12) + "\"}";
        Assert.Equal(1024, json.Length);
        var backend = new FakeBackend(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new TextContent(json, declared) });
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry), maxBodyBytes: 1024);

        Assert.True(result.Succeeded);
        Assert.Equal(1024, result.Body.Length);
    }

    [Fact]
    public async Task CallAsync_GatewayBudgetCannotHoldTheBody_BufferLimit()
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("{\"blob\": \"" + new string('x', 256) + "\"}"));
        using BackendRegistry registry = backend.Registry(new BackendClientOptions { MaxBufferedResponseBytes = 64 });

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.BufferLimit, result.Failure);
        Assert.Equal(0, registry.Budget.InUse);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{\"a\": ")]
    [InlineData("not json")]
    public async Task CallAsync_SuccessStatusWithoutOneObject_InvalidBody(string body)
    {
        var backend = new FakeBackend(_ => FakeBackend.Json(body));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.InvalidBody, result.Failure);
        Assert.Equal(200, result.StatusCode);
    }

    [Fact]
    public async Task CallAsync_HandlerThrows_InternalFailureKeepingTheExceptionNeverThrown()
    {
        var defect = new InvalidOperationException("a defect in the handler");
        var backend = new FakeBackend(_ => throw defect);
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Internal, result.Failure);
        Assert.Same(defect, result.Exception);
    }

    [Fact]
    public async Task CallAsync_HandlerFailsToConnect_Transport()
    {
        var backend = new FakeBackend(_ => throw new HttpRequestException("connection refused"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry));

        Assert.Equal(BackendFailure.Transport, result.Failure);
        Assert.Null(result.Exception);
    }

    [Theory]
    [InlineData(false, BackendFailure.Timeout)]
    [InlineData(true, BackendFailure.Canceled)]
    public async Task CallAsync_CancelledWhileWaiting_TimeoutOrCanceledWhenTheClientWentAway(bool clientGone, BackendFailure expected)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backend = new FakeBackend(async (_, cancellation) =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellation);
            return FakeBackend.Json("{}");
        });
        using BackendRegistry registry = backend.Registry();
        using var client = new CancellationTokenSource();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(client.Token);
        using ForwardedRequest forwarded = await ForwardAsync(new DefaultHttpContext());

        Task<BackendResult> call = RequestPipeline.CallBackendAsync(forwarded, Define(registry), Url, null, 1024, passThrough: false, client.Token, budget.Token).AsTask();
        await entered.Task;
        await (clientGone ? client : budget).CancelAsync();
        using BackendResult result = await call;

        Assert.Equal(expected, result.Failure);
    }

    [Theory]
    [InlineData("POST", true)]
    [InlineData("PATCH", true)]
    [InlineData("GET", false)]
    [InlineData("PUT", false)]
    [InlineData("DELETE", false)]
    public async Task CallAsync_NoClientBody_OnlyNonIdempotentMethodsCarryAnEmptyBodySoTheyAreNeverResent(string method, bool emptyContent)
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("{}"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry, new HttpMethod(method)));

        SentRequest sent = Assert.Single(backend.Sent);
        Assert.Equal(method, sent.Method.Method);
        if (emptyContent)
        {
            Assert.Equal(Array.Empty<byte>(), sent.Body);
            Assert.Equal(0, sent.ContentLength);
        }
        else
        {
            Assert.Null(sent.Body);
        }
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("http://")]
    [InlineData("")]
    [InlineData("/relative/only")] // a file: URI on Unix
    [InlineData("ftp://h/x")]
    public async Task CallAsync_UrlThatIsNotAbsolute_UnresolvedPlaceholderAndNoCall(string url)
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("{}"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry), url: url);

        Assert.Equal(BackendFailure.UnresolvedPlaceholder, result.Failure);
        Assert.Empty(backend.Sent);
    }

    [Fact]
    public async Task CallAsync_EncodedUrl_SentByteForByte()
    {
        var backend = new FakeBackend(_ => FakeBackend.Json("{}"));
        using BackendRegistry registry = backend.Registry();

        using BackendResult result = await CallAsync(Define(registry), url: "http://backend.test/a%2F..%2Fb/%2E%2E?q=a%26b");

        Assert.Equal("/a%2F..%2Fb/%2E%2E?q=a%26b", Assert.Single(backend.Sent).Uri.PathAndQuery);
    }

    /// <summary>
    /// Socket completions run inline on the I/O thread in the binary (GatewayProgram), so whatever follows the last read
    /// of a body runs there too. A large body's validation and shaping would hold that thread, and every connection it
    /// serves, for milliseconds (docs/reliability.md, I/O threads): from <see cref="RequestPipeline.LargeBodyBytes"/> on,
    /// the call moves to the thread pool first. Small bodies stay where they were read (a hop costs more than their work).
    /// </summary>
    [Theory]
    [InlineData(RequestPipeline.LargeBodyBytes, true)]
    [InlineData(64 * 1024, false)]
    public async Task CallAsync_BodyReadOnAnIoThread_DecodedOnTheThreadPoolOnlyWhenLarge(int size, bool movesToThePool)
    {
        string json = "{\"blob\": \"" + new string('x', size - 12) + "\"}";
        using var reading = new ManualResetEventSlim();
        var backend = new FakeBackend(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new IoThreadContent(json, reading) });
        using BackendRegistry registry = backend.Registry();
        using ForwardedRequest forwarded = await ForwardAsync(new DefaultHttpContext());

        (bool Pool, string? Name)? completedOn = null;
        Task<BackendResult> call = RequestPipeline.CallBackendAsync(forwarded, Define(registry), Url, null, 2 * RequestPipeline.LargeBodyBytes, passThrough: false, CancellationToken.None, CancellationToken.None).AsTask();
        Task observed = call.ContinueWith(_ => completedOn = (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        reading.Set(); // the reads complete only now that the test watches where the call ends
        using BackendResult result = await call;
        await observed;

        Assert.True(result.Succeeded);
        Assert.Equal(json.Length, result.Body.Length);
        Assert.NotNull(completedOn);
        if (movesToThePool)
        {
            Assert.True(completedOn.Value.Pool, $"decoded on the {completedOn.Value.Name}, not on the thread pool");
        }
        else
        {
            Assert.Equal(IoThreadContent.ThreadName, completedOn.Value.Name);
        }
    }

    private static BackendDefinition Define(BackendRegistry registry, HttpMethod? method = null, bool returnErrorCode = false, string? returnErrorDetails = null) =>
        new(0, method ?? HttpMethod.Get, registry.Group(0), returnErrorCode: returnErrorCode, returnErrorDetails: returnErrorDetails);

    private static DefaultHttpContext ClientWithBody(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Request.ContentLength = Encoding.UTF8.GetByteCount(body);
        return context;
    }

    private static async Task<ForwardedRequest> ForwardAsync(DefaultHttpContext client) =>
        (await ForwardedRequest.ReadAsync(client, new EndpointDefinition(TimeSpan.FromSeconds(5)), 1024))!;

    private static async Task<BackendResult> CallAsync(BackendDefinition backend, DefaultHttpContext? client = null, string url = Url, int maxBodyBytes = 64 * 1024)
    {
        using ForwardedRequest forwarded = await ForwardAsync(client ?? new DefaultHttpContext());
        return await RequestPipeline.CallBackendAsync(forwarded, backend, url, null, maxBodyBytes, passThrough: false, CancellationToken.None, CancellationToken.None);
    }

    /// <summary>UTF-8 text whose length is declared in Content-Length, or not (as a chunked body).</summary>
    private sealed class TextContent : HttpContent
    {
        private readonly byte[] _bytes;
        private readonly bool _declared;

        public TextContent(string text, bool declared)
        {
            _bytes = Encoding.UTF8.GetBytes(text);
            _declared = declared;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new MemoryStream(_bytes, writable: false));

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return _declared;
        }
    }

    /// <summary>
    /// A body whose reads complete on a thread of their own, outside the thread pool, continuing the reader there as an
    /// inline socket completion does: the data in one read, then the end of the body.
    /// </summary>
    private sealed class IoThreadContent : HttpContent
    {
        public const string ThreadName = "simulated I/O thread";

        private readonly byte[] _bytes;
        private readonly ManualResetEventSlim _gate;

        public IoThreadContent(string text, ManualResetEventSlim gate)
        {
            _bytes = Encoding.UTF8.GetBytes(text);
            _gate = gate;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new IoThreadStream(_bytes, _gate));

        protected override bool TryComputeLength(out long length)
        {
            length = _bytes.Length;
            return true;
        }
    }

    /// <summary>
    /// Each read completes from a new thread once the reader waits for it (and the gate is open), so the reader's
    /// continuation runs there.
    /// </summary>
    private sealed class IoThreadStream(byte[] bytes, ManualResetEventSlim gate) : Stream, System.Threading.Tasks.Sources.IValueTaskSource<int>
    {
        private System.Threading.Tasks.Sources.ManualResetValueTaskSourceCore<int> _read;
        private int _position;
        private int _pending;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => bytes.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int count = Math.Min(buffer.Length, bytes.Length - _position);
            bytes.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            _pending = count;
            _read.Reset();
            return new ValueTask<int>(this, _read.Version);
        }

        public int GetResult(short token) => _read.GetResult(token);

        public System.Threading.Tasks.Sources.ValueTaskSourceStatus GetStatus(short token) => _read.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, System.Threading.Tasks.Sources.ValueTaskSourceOnCompletedFlags flags)
        {
            _read.OnCompleted(continuation, state, token, flags);
            new Thread(() =>
            {
                gate.Wait();
                _read.SetResult(_pending);
            }) { IsBackground = true, Name = IoThreadContent.ThreadName }.Start();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

using System.Text;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Runtime.Tests.Hosting;

/// <summary>
/// The gateway's only middleware on a <see cref="DefaultHttpContext"/>: built-in endpoints, the route table, 404/405,
/// and the guard that turns a handler's exception into a defined answer.
/// </summary>
public sealed class GatewayDispatcherTests : IDisposable
{
    private readonly FakeBackend _backend = new(_ => FakeBackend.Json("""{"ok": true}"""));
    private readonly BackendRegistry _registry;

    public GatewayDispatcherTests() => _registry = _backend.Registry();

    public void Dispose() => _registry.Dispose();

    [Fact]
    public async Task DispatchAsync_HealthGet_200StatusOk()
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), "GET", "/__health");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.ContentType);
        Assert.Equal("""{"status":"ok"}""", body);
    }

    [Fact]
    public async Task DispatchAsync_ReadyWhileServing_200Ready()
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), "GET", "/__ready");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.ContentType);
        Assert.Equal("""{"status":"ready"}""", body);
    }

    [Fact]
    public async Task DispatchAsync_ReadyOnceDraining_503WhileHealthStays200()
    {
        var readiness = new Readiness();
        GatewayDispatcher dispatcher = Dispatcher(readiness: readiness);
        readiness.StartDraining();

        (HttpResponse ready, string readyBody) = await DispatchAsync(dispatcher, "GET", "/__ready");
        (HttpResponse health, _) = await DispatchAsync(dispatcher, "GET", "/__health");
        (HttpResponse routed, _) = await DispatchAsync(dispatcher, "GET", "/items/7");

        Assert.Equal(503, ready.StatusCode);
        Assert.Equal("""{"status":"draining"}""", readyBody);
        Assert.Equal(200, health.StatusCode);
        Assert.Equal(200, routed.StatusCode); // draining still serves: only the listener's close stops traffic
    }

    [Fact]
    public async Task DispatchAsync_ReadyOtherMethod_405AllowingGet()
    {
        (HttpResponse response, _) = await DispatchAsync(Dispatcher(), "POST", "/__ready");

        Assert.Equal(405, response.StatusCode);
        Assert.Equal("GET", response.Headers.Allow.ToString());
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    public async Task DispatchAsync_HealthOtherMethod_405AllowingGet(string method)
    {
        (HttpResponse response, _) = await DispatchAsync(Dispatcher(), method, "/__health");

        Assert.Equal(405, response.StatusCode);
        Assert.Equal("GET", response.Headers.Allow.ToString());
        Assert.Equal("false", response.Headers[GatewayHeaders.Completed].ToString());
    }

    [Theory]
    [InlineData("/nothing/here")]
    [InlineData("/items/1/extra")]
    [InlineData("/__healthz")]
    public async Task DispatchAsync_UnknownPath_404PageNotFound(string path)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), "GET", path);

        Assert.Equal(404, response.StatusCode);
        Assert.Equal("false", response.Headers[GatewayHeaders.Completed].ToString());
        Assert.Equal("text/plain; charset=utf-8", response.ContentType);
        Assert.Equal("404 page not found", body);
    }

    [Fact]
    public async Task DispatchAsync_KnownPathOtherMethod_405AllowingEveryMethodOfThePath()
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), "PUT", "/items/7");

        Assert.Equal(405, response.StatusCode);
        Assert.Equal("GET, DELETE", response.Headers.Allow.ToString());
        Assert.Equal("false", response.Headers[GatewayHeaders.Completed].ToString());
        Assert.Equal("405 method not allowed", body);
        Assert.Empty(_backend.Sent);
    }

    [Theory]
    [InlineData("/items/%zz")]
    [InlineData("/items/%C3%28")]
    public async Task DispatchAsync_MalformedEscapeInTheRawPath_400(string rawTarget)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), "GET", rawTarget);

        Assert.Equal(400, response.StatusCode);
        Assert.Equal("400 malformed path", body);
        Assert.Empty(_backend.Sent);
    }

    [Fact]
    public async Task DispatchAsync_MatchingRoute_HandlerGetsTheDecodedValueAndAnswers()
    {
        var handler = new CallingHandler(_registry);
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(handler), "GET", "/items/a%2Fb%20c");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal("true", response.Headers[GatewayHeaders.Completed].ToString());
        Assert.Equal("""{"ok": true}""", body);
        Assert.Equal(new[] { "a/b c" }, handler.RouteValues);
        Assert.Single(_backend.Sent);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DispatchAsync_HandlerThrows_500IncompleteWithAnEmptyBody(bool afterAwaiting)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(throwing: new ThrowingHandler(_registry, afterAwaiting)), "GET", "/broken");

        Assert.Equal(500, response.StatusCode);
        Assert.Equal("false", response.Headers[GatewayHeaders.Completed].ToString());
        Assert.Equal(0, response.ContentLength);
        Assert.Equal(string.Empty, body);
    }

    [Theory]
    [InlineData(false, 408)] // a request body slower than the minimum data rate
    [InlineData(true, 400)] // a malformed chunked body
    public async Task DispatchAsync_KestrelRefusesTheRequestWhileItIsRead_ItsStatusNot500(bool afterAwaiting, int status)
    {
        var refused = new BadHttpRequestException("the client's request is bad", status);
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(throwing: new ThrowingHandler(_registry, afterAwaiting, refused)), "GET", "/broken");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("false", response.Headers[GatewayHeaders.Completed].ToString());
        Assert.Equal(string.Empty, body);
    }

    [Theory]
    [InlineData(true, 200)]
    [InlineData(false, 404)]
    public async Task DispatchAsync_DebugEndpoint_PongOnlyWhenEnabled(bool enabled, int status)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(debug: enabled), "GET", "/__debug/anything");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(enabled, body == """{"message":"pong"}""");
    }

    [Theory]
    [InlineData(true, 200)]
    [InlineData(false, 404)]
    public async Task DispatchAsync_EchoEndpoint_DescribesTheRequestOnlyWhenEnabled(bool enabled, int status)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(echo: enabled), "GET", "/__echo/a?x=1");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(enabled, body.Contains("\"req_uri\":\"/__echo/a?x=1\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/__debugger")]
    [InlineData("/__echoes")]
    public async Task DispatchAsync_PathThatOnlyStartsLikeABuiltIn_NotTheBuiltIn(string path)
    {
        (HttpResponse response, _) = await DispatchAsync(Dispatcher(echo: true, debug: true), "GET", path);

        Assert.Equal(404, response.StatusCode);
    }

    private GatewayDispatcher Dispatcher(EndpointHandler? items = null, EndpointHandler? throwing = null, bool echo = false, bool debug = false, IGatewayStage[]? stages = null, Readiness? readiness = null, RouterOptions? router = null)
    {
        EndpointHandler handler = items ?? new CallingHandler(_registry);
        RouteSegment[] itemSegments = [RouteSegment.Literal("items"), RouteSegment.Parameter("id")];
        return new GatewayDispatcher(
            new RouteTable(
            [
                new RouteEntry("GET", "/items/{id}", itemSegments, handler),
                new RouteEntry("DELETE", "/items/{id}", itemSegments, handler),
                new RouteEntry("GET", "/broken", [RouteSegment.Literal("broken")], throwing ?? new ThrowingHandler(_registry, afterAwaiting: false)),
            ]),
            echo,
            debug,
            stages ?? [],
            readiness,
            router: router);
    }

    [Theory]
    [InlineData("GET", "/items/7/", 301, "/items/7")]
    [InlineData("DELETE", "/items/7/", 307, "/items/7")]
    [InlineData("GET", "/ITEMS/Ab", 301, "/items/Ab")]
    [InlineData("GET", "//items//7?x=1&y", 301, "/items/7?x=1&y")]
    public async Task DispatchAsync_PathARouteTakesOnceFixed_RedirectedAsKrakenDDoes(string method, string target, int status, string location)
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(), method, target);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(location, response.Headers.Location.ToString());
        Assert.Equal(string.Empty, body);
        Assert.Empty(_backend.Sent);
    }

    [Fact]
    public async Task DispatchAsync_RedirectsTurnedOff_404()
    {
        GatewayDispatcher dispatcher = Dispatcher(router: new RouterOptions { RedirectTrailingSlash = false, RedirectFixedPath = false });

        (HttpResponse slash, _) = await DispatchAsync(dispatcher, "GET", "/items/7/");
        (HttpResponse upper, _) = await DispatchAsync(dispatcher, "GET", "/ITEMS/7");

        Assert.Equal(404, slash.StatusCode);
        Assert.Equal(404, upper.StatusCode);
    }

    [Fact]
    public async Task DispatchAsync_RemoveExtraSlash_CleanedPathIsRoutedWithoutARedirect()
    {
        var handler = new CallingHandler(_registry);
        GatewayDispatcher dispatcher = Dispatcher(handler, router: new RouterOptions { RemoveExtraSlash = true });

        (HttpResponse response, _) = await DispatchAsync(dispatcher, "GET", "//items///a%2Fb");
        (HttpResponse health, _) = await DispatchAsync(dispatcher, "GET", "/x/..//__health");

        Assert.Equal(200, response.StatusCode);
        Assert.Equal(new[] { "a/b" }, handler.RouteValues);
        Assert.Equal(200, health.StatusCode);
    }

    [Fact]
    public async Task DispatchAsync_AutoOptions_200WithThePathsMethodsSortedAndNoBody()
    {
        GatewayDispatcher dispatcher = Dispatcher(router: new RouterOptions { AutoOptions = true });

        (HttpResponse known, string body) = await DispatchAsync(dispatcher, "OPTIONS", "/items/7");
        (HttpResponse unknown, _) = await DispatchAsync(dispatcher, "OPTIONS", "/nothing");
        (HttpResponse without, _) = await DispatchAsync(Dispatcher(), "OPTIONS", "/items/7");

        Assert.Equal(200, known.StatusCode);
        Assert.Equal("DELETE, GET", known.Headers.Allow.ToString());
        Assert.Equal(string.Empty, body);
        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(405, without.StatusCode);
        Assert.Empty(_backend.Sent);
    }

    [Fact]
    public async Task DispatchAsync_MethodNotAllowedTurnedOff_404()
    {
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(router: new RouterOptions { MethodNotAllowed = false }), "PUT", "/items/7");

        Assert.Equal(404, response.StatusCode);
        Assert.Equal("404 page not found", body);
        Assert.False(response.Headers.ContainsKey("Allow"));
    }

    [Fact]
    public async Task DispatchAsync_ErrorBodies_JsonInsteadOfTheText()
    {
        var router = new RouterOptions { NotFoundBody = Encoding.UTF8.GetBytes("""{"msg":"Unknown endpoint"}"""), MethodNotAllowedBody = Encoding.UTF8.GetBytes("[405]") };
        GatewayDispatcher dispatcher = Dispatcher(router: router);

        (HttpResponse notFound, string notFoundBody) = await DispatchAsync(dispatcher, "GET", "/nothing");
        (HttpResponse notAllowed, string notAllowedBody) = await DispatchAsync(dispatcher, "PUT", "/items/7");

        Assert.Equal((404, "application/json; charset=utf-8", """{"msg":"Unknown endpoint"}"""), (notFound.StatusCode, notFound.ContentType, notFoundBody));
        Assert.Equal((405, "application/json; charset=utf-8", "[405]"), (notAllowed.StatusCode, notAllowed.ContentType, notAllowedBody));
        Assert.Equal("GET, DELETE", notAllowed.Headers.Allow.ToString());
        Assert.Equal("false", notFound.Headers[GatewayHeaders.Completed].ToString());
    }

    [Fact]
    public async Task DispatchAsync_HealthPathMoved_AnswersThereOnly()
    {
        GatewayDispatcher dispatcher = Dispatcher(router: new RouterOptions { HealthPath = "/status/live" });

        (HttpResponse moved, string body) = await DispatchAsync(dispatcher, "GET", "/status/live");
        (HttpResponse old, _) = await DispatchAsync(dispatcher, "GET", "/__health");

        Assert.Equal(200, moved.StatusCode);
        Assert.Equal("""{"status":"ok"}""", body);
        Assert.Equal(404, old.StatusCode);
    }

    [Fact]
    public async Task DispatchAsync_HealthDisabled_404AndReadinessStays()
    {
        GatewayDispatcher dispatcher = Dispatcher(router: new RouterOptions { HealthPath = null });

        (HttpResponse health, _) = await DispatchAsync(dispatcher, "GET", "/__health");
        (HttpResponse ready, _) = await DispatchAsync(dispatcher, "GET", "/__ready");

        Assert.Equal(404, health.StatusCode);
        Assert.Equal(200, ready.StatusCode);
    }

    [Fact]
    public async Task DispatchAsync_RootStageAnswers_NothingElseRuns()
    {
        var first = new RecordingStage(answer: true);
        var second = new RecordingStage(answer: false);
        (HttpResponse response, _) = await DispatchAsync(Dispatcher(stages: [first, second]), "GET", "/__health");

        Assert.Equal(299, response.StatusCode);
        Assert.Equal(1, first.Runs);
        Assert.Equal(0, second.Runs);
    }

    [Fact]
    public async Task DispatchAsync_RootStagesLetTheRequestGoOn_EachRunsOnceInOrderThenRouting()
    {
        var order = new List<RecordingStage>();
        var first = new RecordingStage(answer: false, order);
        var second = new RecordingStage(answer: false, order);
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(stages: [first, second]), "GET", "/__health");

        Assert.Equal([first, second], order);
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", body);
    }

    [Fact]
    public async Task DispatchAsync_RootStageAnswerFails_GuardAnswers500()
    {
        var failing = new RecordingStage(answer: true, fail: true);
        (HttpResponse response, string body) = await DispatchAsync(Dispatcher(stages: [failing]), "GET", "/items/1");

        Assert.Equal(500, response.StatusCode);
        Assert.Equal(string.Empty, body);
    }

    /// <summary>Serves <paramref name="rawTarget"/> (path and query as the client sent them) and reads what was written.</summary>
    private static async Task<(HttpResponse Response, string Body)> DispatchAsync(GatewayDispatcher dispatcher, string method, string rawTarget)
    {
        var context = new DefaultHttpContext();
        int query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        context.Request.Method = method;
        context.Request.Path = query < 0 ? rawTarget : rawTarget[..query];
        context.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(rawTarget[query..]);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        var body = new MemoryStream();
        context.Response.Body = body;

        await dispatcher.DispatchAsync(context);

        return (context.Response, Encoding.UTF8.GetString(body.ToArray()));
    }

    /// <summary>A root stage that answers (status 299) or lets the request go on, and counts its runs.</summary>
    private sealed class RecordingStage(bool answer, List<RecordingStage>? order = null, bool fail = false) : IGatewayStage
    {
        public int Runs { get; private set; }

        public void ConfigureHost(GatewayHost host)
        {
        }

        public Task? TryAnswer(HttpContext context)
        {
            Runs++;
            order?.Add(this);
            if (!answer)
            {
                return null;
            }

            if (fail)
            {
                return Task.FromException(new InvalidOperationException("a defect in a stage"));
            }

            context.Response.StatusCode = 299;
            return Task.CompletedTask;
        }
    }

    /// <summary>One backend, called once; keeps the route values it was given.</summary>
    private sealed class CallingHandler(BackendRegistry registry)
        : EndpointHandler(new EndpointDefinition(TimeSpan.FromSeconds(5)), [new BackendDefinition(0, HttpMethod.Get, registry.Group(0))], registry.Options)
    {
        public string[]? RouteValues { get; private set; }

        protected override Task CallBackendsAsync(ProxyExchange exchange)
        {
            RouteValues = exchange.RouteValues;
            return exchange.SendAsync(Backends[0], "http://backend.test/item");
        }
    }

    /// <summary>Throws, as a defect around the calls would: at once, or after awaiting something.</summary>
    private sealed class ThrowingHandler(BackendRegistry registry, bool afterAwaiting, Exception? exception = null)
        : EndpointHandler(new EndpointDefinition(TimeSpan.FromSeconds(5)), [new BackendDefinition(0, HttpMethod.Get, registry.Group(0))], registry.Options)
    {
        private readonly Exception _exception = exception ?? new InvalidOperationException("a defect");

        protected override Task CallBackendsAsync(ProxyExchange exchange) =>
            afterAwaiting ? ThrowLaterAsync() : throw _exception;

        private async Task ThrowLaterAsync()
        {
            await Task.Yield();
            throw _exception;
        }
    }
}

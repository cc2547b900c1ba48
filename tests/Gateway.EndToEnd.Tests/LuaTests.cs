using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Lua scripting (Configs/lua.json) over real sockets: KrakenD's documented propagate-body example as written, scripts
/// at each level changing requests and responses, custom_error, skip_next, runaway scripts that fail their step while
/// the gateway keeps serving, and many requests through one pooled stage.
/// </summary>
public sealed class LuaTests : IAsyncLifetime
{
    /// <summary>Backend 0's body: spacing, escapes and non-ASCII text that a re-encoding would change.</summary>
    private const string DebugBody = "{ \"message\" : \"pong\",\n  \"unicode\": \"Güell – 東京\", \"escaped\": \"a\\\"b\\\\c\", \"n\": 1.50 }";

    private readonly CapturingLoggerProvider _log = new();
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/__debug").WithJson(DebugBody);
        _backend.Answer("/param_forwarding").WithJson("""{"forwarded": true}""");
        _backend.Answer("/user").WithJson("""{"user": {"name": "ana", "roles": ["admin", "ops"]}}""");
        _backend.Answer("/fields").WithJson("""{"fields": true}""");
        _backend.Answer("/lua/target").WithJson("""{"secret": "s3", "nested": {"n": 1}, "kept": "yes"}""").WithHeader("X-Backend", "b1");
        _backend.Answer("/lua/one").WithJson("""{"one": 1}""");
        _backend.Answer("/lua/two").WithJson("""{"two": 2}""");
        _backend.Answer("/lua/ctx").WithJson("""{"ctx": true}""");
        _backend.Answer("/lua/never").WithJson("""{"called": true}""");
        _backend.Answer("/lua/raw").WithBody("raw text", "text/plain").WithHeader("X-Raw", "r1");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.Lua.CompiledGateway.Definition, new Dictionary<string, string>
        {
            ["http://api.test:8080"] = _backend.BaseUrl,
            ["http://localhost:8080"] = _backend.BaseUrl,
            ["http://127.0.0.1:8081"] = _backend.BaseUrl,
        },
        options => options.ConfigureLogging = logging => logging.AddProvider(_log));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task PropagateBody_KrakenDsDocumentedExample_TheNoOpBodyArrivesByteForByte()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/sequential/propagate-body");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"forwarded":true}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest second = Assert.Single(_backend.ReceivedWith("/param_forwarding"));
        Assert.Equal("GET", second.Method);
        Assert.Equal(DebugBody, second.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(DebugBody).ToString(System.Globalization.CultureInfo.InvariantCulture), second.Headers["Content-Length"]);
    }

    [Fact]
    public async Task PropagateBody_TheGatewayRequestTemplate_SendsTheSameBytes()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/sequential/propagate-body-template");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest second = Assert.Single(_backend.ReceivedWith("/param_forwarding"));
        Assert.Equal(DebugBody, second.Body);
    }

    [Fact]
    public async Task PropagatedFields_AreParamsOfTheNextBackend_NamedAsKrakenDNamesThem()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/lua/propagate-fields/7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest fields = Assert.Single(_backend.ReceivedWith("/fields"));
        // The route parameter, a string field, an array of strings joined by ',', and no whole-body param (not listed).
        Assert.Equal("7|ana|admin,ops|false", fields.Body);
    }

    [Fact]
    public async Task BackendScript_PreChangesTheRequest_PostChangesTheData()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lua/backend?q=1");
        request.Headers.Add("X-Remove", "gone");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, string.Join("\n", _log.Lines.Select(l => l.Message)));
        Assert.Equal(
            """{"nested":{"n":2},"kept":"yes","post":"backend","header_seen":"b1","tagged_by":"tag.lua"}""",
            await response.Content.ReadAsStringAsync());
        ReceivedRequest call = Assert.Single(_backend.ReceivedWith("/lua/target"));
        Assert.Equal("POST", call.Method);
        Assert.Equal("/lua/target?q=1&added=1", call.RawTarget);
        Assert.Equal("backend-pre", call.Headers["X-From-Lua"]);
        Assert.False(call.Headers.ContainsKey("X-Remove"));
        Assert.Equal("on", call.Headers["X-Service-Lua"]); // the service-level script ran first
        Assert.Equal("""{"rewritten":true,"method":"POST"}""", call.Body);
        Assert.Equal("application/json", call.Headers["Content-Type"]);
    }

    [Fact]
    public async Task ProxyScript_PreChangesWhatEveryBackendGets_PostChangesTheMergedAnswer()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/lua/proxy/5?q=client");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("yes", Assert.Single(response.Headers.GetValues("X-Proxy-Post")));
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("X-KrakenD-Completed")));
        Assert.Equal("""{"one":1,"two":{"two":2},"merged_keys":2,"complete_before":true}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest one = Assert.Single(_backend.ReceivedWith("/lua/one"));
        Assert.Equal("/lua/one/rewritten-5?q=from-lua&z=1", one.RawTarget);
        Assert.Equal("proxy-pre", one.Headers["X-From-Proxy"]);
        ReceivedRequest two = Assert.Single(_backend.ReceivedWith("/lua/two"));
        Assert.Equal("proxy-pre", two.Headers["X-From-Proxy"]);
    }

    [Fact]
    public async Task EndpointScript_ChangesTheClientRequest_WhatTheEndpointForwardsFollows()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/lua/endpoint/9");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest call = Assert.Single(_backend.ReceivedWith("/lua/ctx"));
        Assert.Equal("/lua/ctx/from-ctx?added=by-ctx", call.RawTarget);
        Assert.Equal("GET 9", call.Headers["X-From-Ctx"]);
        Assert.Equal("on", call.Headers["X-Service-Lua"]);
    }

    [Theory]
    [InlineData("/lua/custom-error/proxy", 418)]
    [InlineData("/lua/custom-error/no-status", 500)]
    [InlineData("/lua/custom-error/backend", 403)]
    [InlineData("/lua/custom-error/post", 409)]
    public async Task CustomError_AnswersWithItsStatus_ElseWith500(string path, int status)
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync(path);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("false", Assert.Single(response.Headers.GetValues("X-KrakenD-Completed")));
        Assert.Empty(_backend.ReceivedWith("/lua/never"));
    }

    [Fact]
    public async Task CustomError_InABackendPre_TheRequestWithTheTokenGoesThrough()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/lua/custom-error/backend");
        request.Headers.Add("X-Token", "secret");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        // The endpoint forwards no X-Token (input_headers), so the script sees none either: still refused.
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("/lua/skip/backend", """{"skipped":true}""", "true")]
    [InlineData("/lua/skip/proxy", """{"from":"post only"}""", "false")]
    public async Task SkipNext_NoBackendIsCalled_PostWritesTheAnswer(string path, string body, string complete)
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal(complete, Assert.Single(response.Headers.GetValues("X-KrakenD-Completed")));
        Assert.Empty(_backend.ReceivedWith("/lua/never"));
    }

    [Theory]
    [InlineData("/lua/runaway/loop")]
    [InlineData("/lua/runaway/alloc")]
    public async Task RunawayScript_FailsItsStepWithinTheBudget_TheGatewayKeepsServing(string path)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using HttpResponseMessage failed = await _gateway.Client.GetAsync(path);
        TimeSpan took = clock.Elapsed;
        using HttpResponseMessage again = await _gateway.Client.GetAsync(path);
        using HttpResponseMessage other = await _gateway.Client.GetAsync("/lua/skip/backend");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, again.StatusCode);
        Assert.True(took < TimeSpan.FromSeconds(1.5), $"the script ran {took.TotalMilliseconds} ms (the endpoint's timeout is 2 s)");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Empty(_backend.ReceivedWith("/lua/never"));
        Assert.Contains(_log.Lines, line => line.Level == LogLevel.Warning && line.Message.Contains(path, StringComparison.Ordinal)
            && line.Message.Contains("modifier/lua-backend of GET " + path + ", backend 0", StringComparison.Ordinal)
            && (line.Message.Contains("Lua instructions", StringComparison.Ordinal) || line.Message.Contains("bytes", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RunawayScript_OnOneOfTwoBackends_ThePartialAnswerHasTheOther()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/lua/runaway/partial");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Assert.Single(response.Headers.GetValues("X-KrakenD-Completed")));
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.TryGetProperty("ok", out _));
        Assert.False(body.RootElement.TryGetProperty("looped", out _));
    }

    [Fact]
    public async Task NoOp_BackendAndProxyPost_ChangeTheRelayedStatusHeadersAndBody()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/lua/noop");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("proxy", Assert.Single(response.Headers.GetValues("X-Noop")));
        Assert.Equal("r1", Assert.Single(response.Headers.GetValues("X-Backend-Lua")));
        Assert.False(response.Headers.Contains("X-Raw"));
        Assert.Equal("[raw text] + proxy", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ManyRequestsAtOnce_ThroughOnePooledStage_NoStateLeaksBetweenThem()
    {
        const int requests = 200;
        var tasks = new List<Task<(string Id, string Body)>>();
        for (int i = 0; i < requests; i++)
        {
            string id = "client-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            tasks.Add(Task.Run(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/lua/concurrent");
                request.Headers.Add("X-Client-Id", id);
                using HttpResponseMessage response = await _gateway.Client.SendAsync(request);
                return (id, await response.Content.ReadAsStringAsync());
            }));
        }

        foreach ((string id, string body) in await Task.WhenAll(tasks))
        {
            using JsonDocument json = JsonDocument.Parse(body);
            Assert.Equal(id, json.RootElement.GetProperty("client").GetString());
            Assert.Equal(1, json.RootElement.GetProperty("seen").GetInt32()); // a fresh environment for every request
        }
    }
}

using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The gateway compiled from Configs/scenarios.json against real loopback backends: what the backends received,
/// and what the client got (status, X-KrakenD-Completed, body as JSON).
/// </summary>
public class ScenarioTests : IClassFixture<ScenarioFixture>
{
    private readonly ScenarioFixture _f;

    public ScenarioTests(ScenarioFixture fixture)
    {
        _f = fixture;
        _f.Backend.ClearReceived();
    }

    private HttpClient Client => _f.Gateway.Client;

    private static string Completed(HttpResponseMessage response) => string.Join(",", response.Headers.GetValues("X-KrakenD-Completed"));

    [Fact]
    public async Task Parallel_TwoSlowBackends_CallsOverlap()
    {
        using HttpResponseMessage response = await Client.GetAsync("/parallel/slow");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        JsonAssert.Equivalent("""{"a": {"slow": true}, "b": {"slow": true}}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest[] calls = _f.Backend.ReceivedWith("/slow/");
        Assert.Equal(2, calls.Length);
        // Both calls were in flight at the same time (each takes 1 s): each started before the other finished.
        // One after the other, the second would start only once the first had answered.
        Assert.True(calls[0].Started < calls[1].Finished && calls[1].Started < calls[0].Finished, "backends did not overlap");
    }

    [Fact]
    public async Task Parallel_EqualKeys_LaterBackendWinsAndLiteralsAreKept()
    {
        using HttpResponseMessage response = await Client.GetAsync("/parallel/merge");
        string body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        // Keys in order of first appearance; "name" from the later backend; numbers byte for byte.
        Assert.Equal("""{"id":1,"name":"second","price":1.50,"only_first":"kept","big":12345678901234567890123,"exp":1e3,"third":{"nested": {"a": [1, 2, {"b": null}]}}}""", body);
    }

    [Fact]
    public async Task Sequential_ThreeSteps_RunStrictlyInOrderWithEachStepsValue()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/order");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        JsonAssert.Equivalent("""{"step0": true, "step1": true, "step2": true, "next": "from-2"}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest[] calls = _f.Backend.ReceivedWith("/step/").OrderBy(c => c.Started).ToArray();
        // resp0 is backend 0's own response even after backend 1's "next" was merged over it (deviations.md 4).
        Assert.Equal(new[] { "/step/0", "/step/1/from-0", "/step/2/from-1?first=from-0" }, calls.Select(c => c.RawTarget));
        Assert.True(calls[1].Started >= calls[0].Finished && calls[2].Started >= calls[1].Finished, "a step started before the previous one finished");
    }

    [Fact]
    public async Task Sequential_NestedAndArrayReferences_RenderIntoPathAndQuery()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/nested/42");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal("/profile/42", _f.Backend.ReceivedWith("/profile/").Single().RawTarget);
        // user.id "u 1/2" stays one segment; items.1.id is 11; the tags array joins with commas; 1.50 keeps its literal.
        Assert.Equal("/detail/u%201%2F2?item=11&tags=a,b%20c,3&price=1.50", _f.Backend.ReceivedWith("/detail/").Single().RawTarget);
        JsonAssert.Equivalent(
            """{"profile": {"user": {"id": "u 1/2", "tags": ["a", "b c", 3]}, "items": [{"id": 10}, {"id": 11}], "price": 1.50}, "detail": {"ok": true}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Sequential_LegacyNamespace_EnablesTheSequentialProxy()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/legacy/7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/legacy/second/L-1", _f.Backend.ReceivedWith("/legacy/second/").Single().RawTarget);
        JsonAssert.Equivalent("""{"code": "L-1", "second": {"code": "L-1"}}""", await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string> Injections => new()
    {
        // value from backend 0 (JSON) -> request line backend 1 received
        // '/' cannot split a query value, so it may stay as written there.
        { "\"../../admin\"", "/inject/target/..%2F..%2Fadmin?q=../../admin&fixed=1" },
        { "\"a&admin=true\"", "/inject/target/a&admin=true?q=a%26admin%3Dtrue&fixed=1" },
        { "\"x?y#z\"", "/inject/target/x%3Fy%23z?q=x%3Fy%23z&fixed=1" },
        { "\"with space\"", "/inject/target/with%20space?q=with%20space&fixed=1" },
        { "\"line\\r\\nX-Injected: 1\"", "/inject/target/line%0D%0AX-Injected:%201?q=line%0D%0AX-Injected:%201&fixed=1" },
        { "\"caf\u00e9 \u2603\"", "/inject/target/caf%C3%A9%20%E2%98%83?q=caf%C3%A9%20%E2%98%83&fixed=1" },
        { "\"100%\"", "/inject/target/100%25?q=100%25&fixed=1" },
        { "\"a+b;c\"", "/inject/target/a+b%3Bc?q=a%2Bb%3Bc&fixed=1" },
        { "1e3", "/inject/target/1e3?q=1e3&fixed=1" },
        { "true", "/inject/target/true?q=true&fixed=1" },
    };

    [Theory]
    [MemberData(nameof(Injections))]
    public async Task Sequential_HostileValue_StaysInsideItsSegmentAndQueryValue(string value, string expectedTarget)
    {
        _f.InjectSource = $$"""{"value": {{value}}}""";
        using HttpResponseMessage response = await Client.GetAsync("/sequence/inject");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal(expectedTarget, _f.Backend.ReceivedWith("/inject/target/").Single().RawTarget);
    }

    [Theory]
    [InlineData("{\"value\": null}")]
    [InlineData("{\"value\": {\"an\": \"object\"}}")]
    [InlineData("{\"other\": 1}")]
    [InlineData("{\"value\": \"\"}")]
    [InlineData("{\"value\": [1, null]}")]
    [InlineData("{\"value\": \"..\"}")]
    [InlineData("{\"value\": \".\"}")]
    public async Task Sequential_UnresolvableReference_SkipsTheStepAndAnswersPartial(string source)
    {
        _f.InjectSource = source;
        using HttpResponseMessage response = await Client.GetAsync("/sequence/inject");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Empty(_f.Backend.ReceivedWith("/inject/target/"));
        JsonAssert.Equivalent(source, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("..%2F..%2Fadmin", "/route-echo/..%2F..%2Fadmin?q=../../admin")]
    [InlineData("a&admin=true", "/route-echo/a&admin=true?q=a%26admin%3Dtrue")]
    [InlineData("a%20b", "/route-echo/a%20b?q=a%20b")]
    [InlineData("caf%C3%A9", "/route-echo/caf%C3%A9?q=caf%C3%A9")]
    [InlineData("x%3Fy%23z", "/route-echo/x%3Fy%23z?q=x%3Fy%23z")]
    [InlineData("a%0D%0Ab", "/route-echo/a%0D%0Ab?q=a%0D%0Ab")]
    public async Task RouteParameter_IntoPathAndQuery_IsEncodedForWhereItLands(string clientSegment, string expectedTarget)
    {
        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/route/" + clientSegment);

        Assert.Equal(200, status);
        Assert.Equal(expectedTarget, _f.Backend.ReceivedWith("/route-echo/").Single().RawTarget);
    }

    [Theory]
    [InlineData("%2E%2E")]
    [InlineData("%2e")]
    [InlineData("..")]
    [InlineData("%zz")]
    [InlineData("%C3%28")]
    public async Task RouteParameter_DotSegmentOrMalformedEscape_400AndNoBackendCall(string clientSegment)
    {
        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/route/" + clientSegment);

        Assert.Equal(400, status);
        Assert.Empty(_f.Backend.ReceivedWith("/route-echo/"));
    }

    [Fact]
    public async Task Sequential_FirstStepFails_500AndNothingElseIsCalled()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/failing/first");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
        Assert.Equal(new[] { "/fail/0/first" }, _f.Backend.ReceivedWith("/fail/").Select(r => r.RawTarget));
    }

    [Fact]
    public async Task Sequential_LaterStepFails_PartialMergeAnd200()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/failing/second");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent("""{"step0": "ok"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(new[] { "/fail/0/second", "/fail/1/second" }, _f.Backend.ReceivedWith("/fail/").OrderBy(r => r.Started).Select(r => r.RawTarget));
    }

    [Fact]
    public async Task Sequential_LastStepFails_EarlierStepsMerged()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/failing/third");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent("""{"step0": "ok", "one": {"step1": "ok"}}""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("text")]
    [InlineData("array")]
    [InlineData("empty")]
    [InlineData("null")]
    [InlineData("truncated")]
    [InlineData("deep")]
    [InlineData("huge")]
    [InlineData("accepted")]
    [InlineData("missing")]
    public async Task SingleBackend_UnusableResponse_500WithEmptyBody(string kind)
    {
        using HttpResponseMessage response = await Client.GetAsync("/single/" + kind);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal(string.Empty, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("object", """{"ok": true, "text": "café é"}""", "true")]
    [InlineData("created", """{"created": true}""", "true")]
    [InlineData("emptyobject", "{}", "false")]
    public async Task SingleBackend_Success_ObjectPassedThrough(string kind, string expected, string completed)
    {
        using HttpResponseMessage response = await Client.GetAsync("/single/" + kind);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(completed, Completed(response));
        JsonAssert.Equivalent(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Unreachable_SingleBackend_500()
    {
        using HttpResponseMessage response = await Client.GetAsync("/unreachable");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", Completed(response));
    }

    [Fact]
    public async Task Unreachable_OneOfTwoParallelBackends_200Partial()
    {
        using HttpResponseMessage response = await Client.GetAsync("/unreachable/partial");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent("""{"id": 1, "name": "first", "price": 1.50, "only_first": "kept"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Timeout_SlowSingleBackend_500AndTheBackendCallIsAborted()
    {
        using HttpResponseMessage response = await Client.GetAsync("/timeout");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", Completed(response));
        // The 300 ms timeout cut the call short: the backend saw its request aborted during its 10 s delay.
        ReceivedRequest call = Assert.Single(await _f.Backend.WaitForAsync("/slow/forever"));
        Assert.True(call.Aborted, "the backend's 10 s answer was waited for");
    }

    [Fact]
    public async Task Timeout_SlowLaterStep_PartialAndTheSlowStepIsAborted()
    {
        using HttpResponseMessage response = await Client.GetAsync("/timeout/sequence");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent("""{"id": 1, "name": "first", "price": 1.50, "only_first": "kept"}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest late = Assert.Single(await _f.Backend.WaitForAsync("/slow/forever"));
        Assert.True(late.Aborted, "the late step's 10 s answer was waited for");
    }

    [Fact]
    public async Task Routing_UnknownPath_404()
    {
        using HttpResponseMessage response = await Client.GetAsync("/no/such/path");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal("404 page not found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Routing_KnownPathWrongMethod_405WithAllow()
    {
        using HttpResponseMessage response = await Client.GetAsync("/methods");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(new[] { "POST", "DELETE" }, response.Content.Headers.Allow);
    }

    [Fact]
    public async Task Routing_EndpointMethodDiffersFromBackendMethod_BackendGetsItsOwnMethod()
    {
        using HttpResponseMessage response = await Client.DeleteAsync("/methods");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GET", _f.Backend.ReceivedWith("/merge/first").Single().Method);
    }

    [Fact]
    public async Task Health_Get_200Ok()
    {
        using HttpResponseMessage response = await Client.GetAsync("/__health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Forwarding_BackendRequest_CarriesForwardedHeadersAndNoClientHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/parallel/merge");
        request.Headers.Add("X-Secret", "client-only");
        request.Headers.Add("Cookie", "session=1");
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest call = _f.Backend.ReceivedWith("/merge/first").Single();
        Assert.Equal("127.0.0.1", call.Headers["X-Forwarded-For"]);
        Assert.Equal(Client.BaseAddress!.Authority, call.Headers["X-Forwarded-Host"]);
        Assert.False(call.Headers.ContainsKey("X-Secret"));
        Assert.False(call.Headers.ContainsKey("Cookie"));
    }

    [Fact]
    public async Task Balancing_TwoHosts_RequestsReachBoth()
    {
        var seen = new HashSet<string>();
        for (int i = 0; i < 6; i++)
        {
            seen.Add(await Client.GetStringAsync("/balanced"));
        }

        Assert.Equal(2, seen.Count);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>The contract gateway (Configs/contract.json) and its loopback backend.</summary>
public sealed class ContractFixture : IAsyncLifetime
{
    public TestBackend Backend { get; private set; } = null!;

    /// <summary>Another origin, which a backend's redirect must not make the gateway reach.</summary>
    public TestBackend Elsewhere { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public int RacingCalls;

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        Elsewhere = await TestBackend.StartAsync();
        Elsewhere.Answer("/secret").WithJson("""{"internal": true}""");

        // /capture/...: answers with what it received, so tests can also read the backend's view from the response.
        Backend.Answer("/capture").Echo();

        // /status/{kind}: a JSON answer with that status.
        Backend.Answer("/status/ok").WithJson("""{"status": "ok"}""");
        Backend.Answer("/status/empty").WithJson("{}");
        foreach (int status in new[] { 404, 418, 429, 500, 503 })
        {
            Backend.Answer($"/status/{status}").WithStatus(status).WithJson($$"""{"error": "no {{status}}"}""");
        }

        Backend.Answer("/text").WithBody("plain \"text\"\nline two é", "text/plain");
        Backend.Answer("/list").WithJson("""[{"id": 1, "name": "one", "secret": "s1"}, {"id": 2, "name": "two", "secret": "s2"}]""");
        Backend.Answer("/safe/array").WithJson("[1, 2.50]");
        Backend.Answer("/safe/scalar").WithJson("\"just text\"");
        Backend.Answer("/safe").WithJson("""{"an": "object"}""");

        // /raw/{kind}: not JSON, with headers a no-op endpoint relays.
        foreach ((string path, int status, string body) in new[] { ("/raw", 200, "not json at all {"), ("/raw/missing", 404, "404 page not found") })
        {
            Backend.Answer(path).WithStatus(status).WithBody(body, "application/octet-stream")
                .WithHeader("Set-Cookie", "a=1").WithHeader("Set-Cookie", "b=2").WithHeader("X-Backend", "raw");
        }

        // Three copies of each request: the first is slow, one of the others answers first.
        Backend.On("racing", async context =>
        {
            int call = Interlocked.Increment(ref RacingCalls);

            // Wait until the three copies of the request have all arrived, so none is cancelled before it is counted.
            var arrival = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref RacingCalls) % 3 != 0 && arrival.Elapsed < TimeSpan.FromSeconds(2))
            {
                await Task.Delay(5);
            }

            if (call % 3 == 1)
            {
                try
                {
                    await Task.Delay(3000, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await TestBackend.Json(context, $$"""{"call": {{call}}}""");
        });
        Backend.Answer("/api").WithJson("""{"prefixed": true}""");
        Backend.Answer("/moved-away").RedirectTo(Elsewhere.BaseUrl + "/secret", StatusCodes.Status307TemporaryRedirect);
        Backend.Answer("/moved").RedirectTo("/status/ok");
        Backend.Answer("/shapes").WithJson("""{"data": {"a": 1.50, "b": {"c": "keep", "d": "drop"}, "list": [1e3], "z": 0}, "meta": {"page": 1}}""");

        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Contract.CompiledGateway.Definition,
            new Dictionary<string, string>
            {
                ["http://backend.test:8080"] = Backend.BaseUrl,
                ["http://backend.test:8080/api"] = Backend.BaseUrl + "/api",
            },
            options => options.Backend.MaxRequestBodyBytes = 1024);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
        await Elsewhere.DisposeAsync();
    }
}

/// <summary>
/// KrakenD's endpoint and backend contract, key by key (krakend.md §6-§12): what the backend received and what the
/// client got.
/// </summary>
public class ContractTests : IClassFixture<ContractFixture>
{
    private readonly ContractFixture _f;

    public ContractTests(ContractFixture fixture)
    {
        _f = fixture;
        _f.Backend.ClearReceived();
    }

    private HttpClient Client => _f.Gateway.Client;

    private static string Completed(HttpResponseMessage response) => string.Join(",", response.Headers.GetValues("X-KrakenD-Completed"));

    private ReceivedRequest Only(string prefix) => Assert.Single(_f.Backend.ReceivedWith(prefix));

    [Fact]
    public async Task InputQueryStrings_AllowList_ForwardsListedKeysSortedAfterThePatternQuery()
    {
        using HttpResponseMessage response = await Client.GetAsync("/query?c=3&b=2&a=1&b=4&sp%20ace=x%26y");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/capture/query?fixed=1&a=1&b=2&b=4&sp%20ace=x%26y", Only("/capture/query?").RawTarget);
        // The backend-level list narrows what the endpoint forwarded.
        Assert.Equal("/capture/query-b?b=2&b=4", Only("/capture/query-b").RawTarget);
    }

    [Fact]
    public async Task InputQueryStrings_Star_ForwardsEverything()
    {
        using HttpResponseMessage response = await Client.GetAsync("/query/all?z=1&y=&x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/capture/query-all?x=&y=&z=1", Only("/capture/query-all").RawTarget);
    }

    [Fact]
    public async Task InputQueryStrings_Absent_ForwardsNothing()
    {
        using HttpResponseMessage response = await Client.GetAsync("/query/none?secret=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/capture/query-none", Only("/capture/query-none").RawTarget);
    }

    [Fact]
    public async Task InputHeaders_Default_OnlyContentTypeAndTheGatewaysOwn()
    {
        // A tracing listener makes the server start an Activity per request; its context must not reach backends.
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers/default");
        request.Headers.Add("X-Custom", "1");
        request.Headers.Add("Authorization", "Bearer secret");
        request.Headers.UserAgent.ParseAdd("client/1.0");
        using HttpResponseMessage response = await Client.SendAsync(request);

        ReceivedRequest call = Only("/capture/headers-default");
        Assert.False(call.Headers.ContainsKey("X-Custom"));
        Assert.False(call.Headers.ContainsKey("Authorization"));
        Assert.Equal("Gateway/1.0", call.Headers["User-Agent"]);
        Assert.Equal("127.0.0.1", call.Headers["X-Forwarded-For"]);
        Assert.False(call.Headers.ContainsKey("X-Forwarded-Via"));

        // No trace context of the gateway's own making, even while the request runs inside an Activity.
        Assert.False(call.Headers.ContainsKey("traceparent"));
        Assert.False(call.Headers.ContainsKey("Request-Id"));
    }

    [Fact]
    public async Task InputHeaders_Listed_ForwardsThemButNeverHopByHop()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers/listed");
        request.Headers.Add("X-Custom", "1");
        request.Headers.Add("X-Other", "2");
        request.Headers.UserAgent.ParseAdd("client/1.0");
        request.Headers.Connection.Add("X-Custom-Hop");
        using HttpResponseMessage response = await Client.SendAsync(request);

        ReceivedRequest listed = Only("/capture/headers-listed");
        Assert.Equal("1", listed.Headers["X-Custom"]);
        Assert.False(listed.Headers.ContainsKey("X-Other"));
        Assert.Equal("client/1.0", listed.Headers["User-Agent"]);
        Assert.Equal("Gateway/1.0", listed.Headers["X-Forwarded-Via"]);
        Assert.NotEqual("X-Custom-Hop", listed.Headers.GetValueOrDefault("Connection"));

        // A backend-level list keeps only its names: X-Forwarded-For and User-Agent go too.
        ReceivedRequest filtered = Only("/capture/headers-filtered");
        Assert.Equal("1", filtered.Headers["X-Custom"]);
        Assert.False(filtered.Headers.ContainsKey("X-Forwarded-For"));
        Assert.False(filtered.Headers.ContainsKey("User-Agent"));
    }

    [Fact]
    public async Task InputHeaders_DefaultOnABodilessGet_ContentTypeForwardedUnlessTheBackendFiltersIt()
    {
        // A GET with Content-Type and neither Content-Length nor a body, as written on the wire.
        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/headers/content-type", "Content-Type: application/json\r\n");

        Assert.Equal(200, status);

        // KrakenD forwards it; HttpClient sends it as empty content, i.e. "Content-Length: 0" and no body bytes, never a
        // chunked body (docs/compatibility.md, Content-Type without a body).
        ReceivedRequest forwarded = Only("/capture/content-type-default");
        Assert.Equal("GET", forwarded.Method);
        Assert.Equal("application/json", forwarded.Headers.GetValueOrDefault("Content-Type"));
        Assert.Equal("0", forwarded.Headers.GetValueOrDefault("Content-Length"));
        Assert.False(forwarded.Headers.ContainsKey("Transfer-Encoding"));
        Assert.Equal(string.Empty, forwarded.Body);

        // A backend-level list without Content-Type keeps it out, and the GET stays as it was: no content at all.
        ReceivedRequest filtered = Only("/capture/content-type-filtered");
        Assert.False(filtered.Headers.ContainsKey("Content-Type"));
        Assert.False(filtered.Headers.ContainsKey("Content-Length"));
        Assert.False(filtered.Headers.ContainsKey("Transfer-Encoding"));
    }

    [Fact]
    public async Task InputHeaders_Star_ForwardsClientHeadersExceptHopByHopAndHost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers/all");
        request.Headers.Add("X-Custom", "1");
        request.Headers.Add("Keep-Alive", "timeout=5");
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        using HttpResponseMessage response = await Client.SendAsync(request);

        ReceivedRequest call = Only("/capture/headers-all");
        Assert.Equal("1", call.Headers["X-Custom"]);
        Assert.False(call.Headers.ContainsKey("Keep-Alive"));
        Assert.Equal("127.0.0.1", call.Headers["X-Forwarded-For"]);
        Assert.NotEqual(Client.BaseAddress!.Authority, call.Headers["Host"]);
    }

    [Fact]
    public async Task Body_PostEndpoint_PostBackendGetsItWithLengthAndTheGetBackendNever()
    {
        using var content = new StringContent("""{"order": 7}""", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await Client.PostAsync("/body", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // A GET step never carries the client's body (KrakenD sends it; a backend that does not read it leaves the
        // bytes on the pooled connection for the next request to trip over).
        JsonAssert.Equivalent("""{"post": {"body": "{\"order\": 7}"}, "get": {"body": ""}}""", await response.Content.ReadAsStringAsync());
        ReceivedRequest post = Only("/capture/body-post");
        Assert.Equal("POST", post.Method);
        Assert.Equal("12", post.Headers["Content-Length"]);
        Assert.StartsWith("application/json", post.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.False(post.Headers.ContainsKey("Transfer-Encoding"));
        ReceivedRequest get = Only("/capture/body-get");
        Assert.Equal("GET", get.Method);
        Assert.Equal(string.Empty, get.Body);
        Assert.False(get.Headers.ContainsKey("Transfer-Encoding"));
        Assert.True(!get.Headers.TryGetValue("Content-Length", out string? length) || length == "0");
    }

    [Fact]
    public async Task Body_OverTheLimit_413AndNoBackendCall()
    {
        using var content = new StringContent(new string('x', 4096));
        using HttpResponseMessage response = await Client.PostAsync("/body", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_f.Backend.ReceivedWith("/capture/"));
    }

    [Fact]
    public async Task Body_ChunkedOverTheLimit_413()
    {
        using var content = new StreamContent(new MemoryStream(new byte[4096]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/body") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData("ok", "public, max-age=300", "true")]
    [InlineData("503", null, "false")]
    public async Task CacheTtl_OnlyCompleteResponsesAreCacheable(string kind, string? cacheControl, string completed)
    {
        using HttpResponseMessage response = await Client.GetAsync("/cached/" + kind);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(completed, Completed(response));
        Assert.Equal(cacheControl, response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task ReturnErrorCode_SingleBackend_BackendStatusAndBodyWithReturnErrorMsg()
    {
        using HttpResponseMessage response = await Client.GetAsync("/error-code/404");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal("""{"error": "no 404"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ReturnErrorMsg_WithoutErrorCode_500WithAMessageAndNoBackendAddress()
    {
        using HttpResponseMessage response = await Client.GetAsync("/error-message/429");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal("backend 0: invalid status code 429", body);
        Assert.DoesNotContain("127.0.0.1", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReturnErrorDetails_FailingBackend_BecomesDataAndTheAnswerIsIncomplete()
    {
        using HttpResponseMessage response = await Client.GetAsync("/error-details/418");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent(
            """{"fine": {"status": "ok"}, "error_second": {"http_status_code": 418, "http_body": "{\"error\": \"no 418\"}", "http_body_encoding": "application/json"}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReturnErrorDetails_FirstStepOfASequence_MergedAndTheSequenceStops()
    {
        using HttpResponseMessage response = await Client.GetAsync("/error-details/sequence");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        JsonAssert.Equivalent("""{"error_first": {"http_status_code": 418, "http_body": "{\"error\": \"no 418\"}", "http_body_encoding": "application/json"}}""", await response.Content.ReadAsStringAsync());
        Assert.Empty(_f.Backend.ReceivedWith("/capture/after-details"));
    }

    [Theory]
    [InlineData("/static/errored/500", HttpStatusCode.OK, """{"fallback": true, "n": 1.50}""", "false")]
    [InlineData("/static/errored/ok", HttpStatusCode.OK, """{"status": "ok"}""", "true")]
    [InlineData("/static/success/ok", HttpStatusCode.OK, """{"status": "overridden", "extra": [1, 2]}""", "true")]
    [InlineData("/static/success/500", HttpStatusCode.InternalServerError, "", "false")]
    public async Task Static_Strategy_DecidesWhenTheDataIsWrittenOverTheResult(string path, HttpStatusCode status, string body, string completed)
    {
        using HttpResponseMessage response = await Client.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(completed, Completed(response));
        string actual = await response.Content.ReadAsStringAsync();
        if (body.Length == 0)
        {
            Assert.Equal("backend 0: invalid status code 500", actual);
        }
        else
        {
            JsonAssert.Equivalent(body, actual);
        }
    }

    [Fact]
    public async Task Static_NumberLiterals_AreKept()
    {
        using HttpResponseMessage response = await Client.GetAsync("/static/errored/500");
        Assert.Contains("\"n\":1.50", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Static_EndpointFlatmapDeletesOrMovesTheSameKey_StaticKeyIsKept()
    {
        using HttpResponseMessage response = await Client.GetAsync("/static/after-flatmap");

        // As in KrakenD, static data goes over the flattened merge (docs/configuration.md, rendering): the flatmap sees
        // only backend data, so its del of "x" and its move of "status" cannot remove or move the static keys.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        JsonAssert.Equivalent(
            """{"shapes": {"data": {"a": 1.50, "b": {"c": "keep", "d": "drop"}, "list": [1e3], "z": 0}}, "moved": "ok", "x": "static", "status": "static"}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OutputString_WithStringEncoding_ReturnsTheBackendText()
    {
        using HttpResponseMessage response = await Client.GetAsync("/render/string");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("plain \"text\"\nline two é", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OutputJsonCollection_WithIsCollection_ReturnsTheArray()
    {
        using HttpResponseMessage response = await Client.GetAsync("/render/collection");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""[{"id": 1, "name": "one", "secret": "s1"}, {"id": 2, "name": "two", "secret": "s2"}]""", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("array", """{"collection": [1, 2.50]}""")]
    [InlineData("scalar", """{"content": "just text"}""")]
    [InlineData("object", """{"an": "object"}""")]
    public async Task SafeJson_AnyJsonValue_IsWrappedAsKrakenDDoes(string kind, string expected)
    {
        using HttpResponseMessage response = await Client.GetAsync("/decode/safejson/" + kind);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonAssert.Equivalent(expected, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("fine", HttpStatusCode.OK, "not json at all {")]
    [InlineData("missing", HttpStatusCode.NotFound, "404 page not found")]
    public async Task NoOp_StatusHeadersAndBodyPassThrough(string kind, HttpStatusCode status, string body)
    {
        using HttpResponseMessage response = await Client.GetAsync("/noop/" + kind);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal(new[] { "a=1", "b=2" }, response.Headers.GetValues("Set-Cookie"));
        Assert.Equal("raw", response.Headers.GetValues("X-Backend").Single());
        Assert.Null(response.Headers.CacheControl);
    }

    [Fact]
    public async Task ConcurrentCalls_Three_SendsThreeAndTheFastestWins()
    {
        int before = Volatile.Read(ref _f.RacingCalls);
        using HttpResponseMessage response = await Client.GetAsync("/concurrent");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal(3, Volatile.Read(ref _f.RacingCalls) - before);

        // The answer is a fast copy's (the first of each three is the slow one), and the slow copy was not waited for:
        // the backend saw it aborted during its 3 s delay.
        using JsonDocument answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        int winner = answer.RootElement.GetProperty("call").GetInt32();
        Assert.NotEqual(1, winner % 3);
        ReceivedRequest[] copies = await _f.Backend.WaitForAsync("/racing", 3);
        Assert.Equal(3, copies.Length);
        Assert.Contains(copies, c => c.Aborted);
    }

    [Fact]
    public async Task Redirect_FromTheBackend_IsFollowed()
    {
        using HttpResponseMessage response = await Client.GetAsync("/redirected");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonAssert.Equivalent("""{"status": "ok"}""", await response.Content.ReadAsStringAsync());
        Assert.Single(_f.Backend.ReceivedWith("/status/ok"));
    }

    [Fact]
    public async Task Redirect_ToAnotherOrigin_IsNotFollowed()
    {
        using HttpResponseMessage response = await Client.GetAsync("/redirected/away");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(_f.Elsewhere.Received);
    }

    [Fact]
    public async Task DisableHostSanitize_HostWithAPath_IsUsedAsAPrefix()
    {
        using HttpResponseMessage response = await Client.GetAsync("/prefixed");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/api/thing", Only("/api/").RawTarget);
    }

    [Fact]
    public async Task EchoEndpoint_Enabled_DescribesTheRequest()
    {
        using var content = new StringContent("hello");
        using HttpResponseMessage response = await Client.PostAsync("/__echo/a/b?x=1&x=2", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument echo = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("/__echo/a/b?x=1&x=2", echo.RootElement.GetProperty("req_uri").GetString());
        Assert.Equal("POST", echo.RootElement.GetProperty("req_method").GetString());
        Assert.Equal("hello", echo.RootElement.GetProperty("req_body").GetString());
        Assert.Equal(new[] { "1", "2" }, echo.RootElement.GetProperty("req_querystring").GetProperty("x").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(new[] { "req_uri", "req_uri_details", "req_method", "req_querystring", "req_body", "req_headers" }, echo.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task DebugEndpoint_Enabled_Pong()
    {
        Assert.Equal("""{"message":"pong"}""", await Client.GetStringAsync("/__debug/anything"));
    }

    [Fact]
    public async Task Shaping_TargetAllowMapping_AppliedInOrder()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/allow");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"alpha":1.50,"b":{"c":"keep"},"list":[1e3]}""", Minified(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Shaping_DenyThenGroup_RemovesNestedAndTopLevelFields()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/deny");

        JsonAssert.Equivalent("""{"g": {"data": {"a": 1.50, "b": {"c": "keep"}, "list": [1e3], "z": 0}}}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Shaping_IsCollectionWithMapping_RenamesTheArrayKey()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/collection");

        JsonAssert.Equivalent("""{"items": [{"id": 1, "name": "one", "secret": "s1"}, {"id": 2, "name": "two", "secret": "s2"}]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Shaping_Flatmap_MovesAndDeletesUnderWildcards()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/flatmap");

        JsonAssert.Equivalent("""{"collection": [{"id": 1, "title": "one"}, {"id": 2, "title": "two"}]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Shaping_EndpointFlatmap_AppliesToTheMergedAnswer()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/endpoint-flatmap");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        JsonAssert.Equivalent(
            """{"collection": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}], "shapes": {"data": {"b": {"c": "keep", "d": "drop"}, "list": [1e3], "z": 0}}, "first_a": 1.50}""",
            body);
        Assert.Contains("\"first_a\":1.50", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StringEncoding_InASequence_ContentIsInjectable()
    {
        using HttpResponseMessage response = await Client.GetAsync("/sequence/text");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/capture/from-text?body=plain%20%22text%22%0Aline%20two%20%C3%A9", Only("/capture/from-text").RawTarget);
    }

    [Fact]
    public async Task Shaping_SequentialReference_ReadsTheShapedResponse()
    {
        using HttpResponseMessage response = await Client.GetAsync("/shape/sequence/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/capture/shaped/1.50", Only("/capture/shaped/").RawTarget);
    }

    private static string Minified(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement, CaptureJsonElement.Default.JsonElement);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class CaptureJsonElement : System.Text.Json.Serialization.JsonSerializerContext
{
}

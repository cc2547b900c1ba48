using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>The chaining gateway (Configs/chaining.json): request templates and proxy-chain, against loopback backends.</summary>
public sealed class ChainingFixture : IAsyncLifetime
{
    public const string UserJson = """{"user": {"id": 42, "name": "Ana \"A\" é", "score": 1.50, "active": true, "tags": ["a", "b"], "nothing": null}, "token": "tok-123"}""";

    public TestBackend Services { get; private set; } = null!;

    public TestBackend PricingA { get; private set; } = null!;

    public TestBackend PricingB { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Services = await TestBackend.StartAsync();
        PricingA = await TestBackend.StartAsync();
        PricingB = await TestBackend.StartAsync();

        Services.Answer("/users").WithHeader("X-Request-Id", "req-1").WithJson(UserJson);
        Services.Answer("/orders").WithHeader("X-Request-Id", "req 2").WithJson("""{"orders": [{"id": 1, "total": 10.0}, {"id": 2, "total": 20.50}], "currency": "EUR"}""");
        Services.Answer("/text").WithBody("plain \"text\"\nline two é", "text/plain; charset=utf-8");
        Services.Answer("/evil").WithJson("""{"token": "abc\r\nX-Injected: 1"}""");
        Services.Answer("/echo").WithJson("""{"echoed": true}""");

        // The proxy-chain services: the user service, and /api/v1/fail/{kind} failing in the ways a service can.
        Services.Answer("/api/v1/user").WithJson("""{"user_id": 7, "tier": "gold"}""");
        Services.Answer("/api/v1/fail/401").WithStatus(401).WithJson("""{"error": "token expired at http://10.0.0.7/internal"}""");
        Services.Answer("/api/v1/fail/201").WithStatus(201).WithJson("""{"created": true}""");
        Services.Answer("/api/v1/fail/204").WithStatus(204);
        Services.Answer("/api/v1/fail/array").WithJson("[1, 2]");
        Services.Answer("/api/v1/fail").WithBody("<html>oops</html>", "text/html");
        PricingA.Answer("/api").WithJson("""{"price": 9.99, "priced_by": "a"}""");
        PricingB.Answer("/api").WithJson("""{"price": 9.99, "priced_by": "b"}""");

        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Chaining.CompiledGateway.Definition,
            new Dictionary<string, string>
            {
                ["http://svc.test:8080"] = Services.BaseUrl,
                ["http://customer_service"] = Services.BaseUrl,
                ["http://pricing_a"] = PricingA.BaseUrl,
                ["http://pricing_b"] = PricingB.BaseUrl,
            });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Services.DisposeAsync();
        await PricingA.DisposeAsync();
        await PricingB.DisposeAsync();
    }
}

/// <summary>
/// Issue 6: bodies and headers built from earlier steps, typed placeholders, and APISIX proxy-chain configurations —
/// asserted on what the backends received.
/// </summary>
public class ChainingTests : IClassFixture<ChainingFixture>
{
    private readonly ChainingFixture _f;

    public ChainingTests(ChainingFixture fixture)
    {
        _f = fixture;
        _f.Services.ClearReceived();
        _f.PricingA.ClearReceived();
        _f.PricingB.ClearReceived();
    }

    private HttpClient Client => _f.Gateway.Client;

    private static string Completed(HttpResponseMessage response) => string.Join(",", response.Headers.GetValues("X-KrakenD-Completed"));

    private ReceivedRequest Only(string prefix) => Assert.Single(_f.Services.ReceivedWith(prefix));

    [Fact]
    public async Task ThreeSteps_PostBodyBuiltFromTwoEarlierResponses_KeepsEveryValuesType()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/three/42?page=3");
        request.Headers.Add("X-Tenant", "acme");
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal("/orders?user=42", Only("/orders").RawTarget);
        ReceivedRequest created = Only("/echo/create");
        Assert.Equal("POST", created.Method);
        Assert.Equal("/echo/create/42", created.RawTarget);
        Assert.Equal("application/json", created.Headers["Content-Type"]);
        Assert.Equal(Encoding.UTF8.GetByteCount(created.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), created.Headers["Content-Length"]);

        // Exactly these bytes: values copied as the backends wrote them (1.50 and 10.0 stay), text JSON-escaped.
        const string Expected = """{"user_id":42,"name":"Ana \"A\" é","score":1.50,"active":true,"tags":["a", "b"],"nothing":null,"profile":{"id": 42, "name": "Ana \"A\" é", "score": 1.50, "active": true, "tags": ["a", "b"], "nothing": null},"orders":[{"id": 1, "total": 10.0}, {"id": 2, "total": 20.50}],"first_total":10.0,"order_ids":[1,2],"note":"Ana \"A\" é bought 1,2 for EUR","route":"42","page":"3","fixed":[1,true,null,"{not a placeholder}"]}""";
        Assert.Equal(Expected, created.Body);
        using JsonDocument parsed = JsonDocument.Parse(created.Body);
        Assert.Equal(JsonValueKind.Number, parsed.RootElement.GetProperty("user_id").ValueKind);
        Assert.Equal(JsonValueKind.Array, parsed.RootElement.GetProperty("order_ids").ValueKind);

        // A token and a request id carried across steps, a client header, a list in a header.
        Assert.Equal("Bearer tok-123", created.Headers["Authorization"]);
        Assert.Equal("req-1", created.Headers["X-Request-From"]);
        Assert.Equal("acme", created.Headers["X-Tenant"]);
        Assert.Equal("1,2", created.Headers["X-Orders"]);
    }

    [Fact]
    public async Task ThreeSteps_MissingClientHeader_LastStepNotCalled()
    {
        using HttpResponseMessage response = await Client.GetAsync("/three/42?page=3");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Empty(_f.Services.ReceivedWith("/echo/create"));
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.TryGetProperty("orders", out _));
        Assert.False(body.RootElement.TryGetProperty("created", out _));
    }

    [Fact]
    public async Task WholeResponse_AsBody_SendsTheRawBytesWithTheirContentType()
    {
        using HttpResponseMessage response = await Client.GetAsync("/whole/42");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        ReceivedRequest json = Only("/echo/raw-json");
        Assert.Equal("PUT", json.Method);
        Assert.Equal(ChainingFixture.UserJson, json.Body);
        Assert.StartsWith("application/json", json.Headers["Content-Type"], StringComparison.Ordinal);

        // A string-encoded backend's raw body too, whatever its encoding.
        ReceivedRequest text = Only("/echo/raw-text");
        Assert.Equal("plain \"text\"\nline two é", text.Body);
        Assert.Equal("text/plain; charset=utf-8", text.Headers["Content-Type"]);

        // Inside a JSON template: JSON stays JSON, text becomes a JSON string.
        ReceivedRequest wrapped = Only("/echo/wrapped");
        Assert.Equal("{\"json\":" + ChainingFixture.UserJson + ",\"text\":\"plain \\\"text\\\"\\nline two é\",\"inline\":\"raw: plain \\\"text\\\"\\nline two é\"}", wrapped.Body);
    }

    [Fact]
    public async Task UrlValues_WildcardListsClientValuesAndResponseHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/urls/5?q=a%20b%26c");
        request.Headers.Add("X-Tenant", "t/1");
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", Completed(response));
        Assert.Equal("/echo/items/1,2?req=req%202&tenant=t/1&q=a%20b%26c", Only("/echo/items").RawTarget);
    }

    [Fact]
    public async Task HeaderValue_WithCrLfFromABackend_FailsTheStepAndNeverSplitsAHeader()
    {
        using HttpResponseMessage response = await Client.GetAsync("/inject");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Empty(_f.Services.ReceivedWith("/echo/injected"));
        Assert.DoesNotContain(_f.Services.Received, r => r.Headers.ContainsKey("X-Injected"));
    }

    [Fact]
    public async Task BodyValue_Missing_StepNotCalled()
    {
        using HttpResponseMessage response = await Client.GetAsync("/missing");

        Assert.Equal("false", Completed(response));
        Assert.Empty(_f.Services.ReceivedWith("/echo/missing"));
        Assert.Single(_f.Services.ReceivedWith("/users/1"));
    }

    [Fact]
    public async Task Defaults_MissingOrUnusableValues_TakeTheirDefaultsAndTheStepRuns()
    {
        using HttpResponseMessage response = await Client.GetAsync("/defaults");

        Assert.Equal("true", Completed(response));
        ReceivedRequest echo = Only("/echo/defaults");
        // tier is missing, X-Device was not sent, nothing is null: each takes its default, encoded for its place.
        Assert.Equal("/echo/defaults/basic?device=unknown&nothing=none", echo.RawTarget);
        Assert.Equal("unknown", echo.Headers["X-Device"]);
        Assert.Equal("tier-basic", echo.Headers["X-Tier"]);
        // In a JSON body a default keeps its JSON type; a null that is there is a value and stays null.
        Assert.Equal("""{"id":42,"count":0,"vip":false,"label":"n=0","nothing":null}""", echo.Body);
    }

    [Fact]
    public async Task Defaults_ValuesPresent_TheValuesWin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/defaults");
        request.Headers.Add("X-Device", "ios 17");
        using HttpResponseMessage response = await Client.SendAsync(request);

        ReceivedRequest echo = Only("/echo/defaults");
        Assert.Equal("/echo/defaults/basic?device=ios%2017&nothing=none", echo.RawTarget);
        Assert.Equal("ios 17", echo.Headers["X-Device"]);
    }

    [Fact]
    public async Task Required_AnOptionalStepFails_PartialDataAndTheFailedStepNamed()
    {
        using HttpResponseMessage response = await Client.GetAsync("/required/optional-fails");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal("backend 1: invalid status code 401", Header(response, "X-Gateway-Failed-Steps"));
        Assert.Contains("\"user\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_TheRequiredStepFails_TheEndpointFailsWithItsStatus()
    {
        using HttpResponseMessage response = await Client.GetAsync("/required/fails");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal("backend 1: invalid status code 401", Header(response, "X-Gateway-Failed-Steps"));
        Assert.DoesNotContain("user", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Required_TheRequiredStepIsNeverCalled_TheEndpointFailsAndTheHeaderSaysWhy()
    {
        using HttpResponseMessage response = await Client.GetAsync("/required/not-called");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", Completed(response));
        Assert.Equal(
            "backend 1: a value for the URL could not be resolved; backend 2: not called (an earlier step failed)",
            Header(response, "X-Gateway-Failed-Steps"));
        Assert.Empty(_f.Services.ReceivedWith("/echo/audit"));
    }

    [Fact]
    public async Task FailedStepsHeader_CompleteAnswer_HasNone()
    {
        using HttpResponseMessage response = await Client.GetAsync("/defaults");

        Assert.Equal("true", Completed(response));
        Assert.Null(Header(response, "X-Gateway-Failed-Steps"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? string.Join(", ", values) : null;

    [Fact]
    public async Task HeaderTemplate_ClientHeaderOnAParallelEndpoint()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/tenant");
        request.Headers.Add("X-Tenant", "acme");
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tenant-acme", Only("/echo/tenant").Headers["X-Tenant-Id"]);
    }

    [Fact]
    public async Task ProxyChain_DocumentationExample_ServiceGetsBodyAndQueryUpstreamGetsTheMerge()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/checkout?coupon=X&tag=a&tag=b")
        {
            Content = new StringContent("""{"cart": [1, 2], "user_id": "client-sent"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Authorization", "Bearer T0K");
        using HttpResponseMessage response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"echoed": true}""", await response.Content.ReadAsStringAsync());

        ReceivedRequest service = Only("/api/v1/user");
        Assert.Equal("POST", service.Method);
        Assert.Equal("""{"cart":[1, 2],"user_id":"client-sent","coupon":"X","tag":["a","b"]}""", service.Body);
        Assert.Equal("Bearer T0K", service.Headers["Authorization"]);
        Assert.Equal("*/*", service.Headers["Accept"]);
        Assert.Equal("application/json", service.Headers["Content-Type"]);

        // The service's keys win over the client's; the upstream gets the merged object and the token.
        ReceivedRequest upstream = Only("/echo/checkout");
        Assert.Equal("POST", upstream.Method);
        Assert.Equal("""{"cart":[1, 2],"user_id":7,"coupon":"X","tag":["a","b"],"tier":"gold"}""", upstream.Body);
        Assert.Equal("Bearer T0K", upstream.Headers["Authorization"]);
        Assert.StartsWith("application/json", upstream.Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxyChain_QueryWithInvalidUtf8Escapes_IsStillAnObjectNeverA500()
    {
        using HttpResponseMessage response = await Client.PostAsync("/api/v1/checkout?x=%ED%A0%80&y=%FF&z=%22%5C", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest service = Only("/api/v1/user");
        using JsonDocument body = JsonDocument.Parse(service.Body);
        Assert.Equal("\"\\", body.RootElement.GetProperty("z").GetString());
        Assert.Equal(JsonValueKind.String, body.RootElement.GetProperty("x").ValueKind);
    }

    [Fact]
    public async Task ProxyChain_TokenHeader_TwoServicesLoadBalancedAndBearerNeverDoubled()
    {
        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders/9") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Token", "Bearer abc");
            using HttpResponseMessage response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        ReceivedRequest[] first = _f.Services.ReceivedWith("/api/v1/user");
        Assert.Equal(2, first.Length);
        Assert.All(first, r => Assert.Equal("Bearer abc", r.Headers["Authorization"]));

        // Round robin over the two pricing hosts: one call each, PUT with the object so far.
        ReceivedRequest a = Assert.Single(_f.PricingA.ReceivedWith("/api/v1/price/9"));
        ReceivedRequest b = Assert.Single(_f.PricingB.ReceivedWith("/api/v1/price/9"));
        Assert.Equal("PUT", a.Method);
        Assert.Equal("/api/v1/price/9?seen=Bearer%20abc", a.RawTarget);
        Assert.Equal("""{"user_id":7,"tier":"gold"}""", a.Body);
        Assert.Equal(a.Body, b.Body);

        ReceivedRequest[] upstream = _f.Services.ReceivedWith("/echo/order");
        Assert.Equal(2, upstream.Length);
        Assert.Contains(upstream, r => r.Body == """{"user_id":7,"tier":"gold","price":9.99,"priced_by":"a"}""");
        Assert.Contains(upstream, r => r.Body == """{"user_id":7,"tier":"gold","price":9.99,"priced_by":"b"}""");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"a\": 1} trailing")]
    public async Task ProxyChain_ClientBodyNotAJsonObject_Is400AndNoServiceIsCalled(string body)
    {
        using HttpResponseMessage response = await Client.PostAsync("/api/v1/checkout", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("JSON object", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_f.Services.Received);
    }

    [Fact]
    public async Task ProxyChain_ServiceFails_ItsStatusWithoutItsBodyOrUrl()
    {
        using HttpResponseMessage response = await Client.PostAsync("/api/v1/failing/401", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Equal("""{"error":"proxy-chain service 1 of 1 answered 401"}""", body);
        Assert.Empty(_f.Services.ReceivedWith("/echo/after-failure"));
    }

    [Theory]
    [InlineData("201", """{"created":true}""")]
    [InlineData("204", "{}")]
    public async Task ProxyChain_AnySuccessStatus_Continues(string kind, string upstreamBody)
    {
        using HttpResponseMessage response = await Client.PostAsync($"/api/v1/failing/{kind}", new StringContent(string.Empty));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(upstreamBody, Only("/echo/after-failure").Body);
    }

    [Theory]
    [InlineData("array")]
    [InlineData("html")]
    public async Task ProxyChain_ServiceAnswerNotAJsonObject_Is502(string kind)
    {
        using HttpResponseMessage response = await Client.PostAsync($"/api/v1/failing/{kind}", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("""{"error":"proxy-chain service 1 of 1 did not answer with a JSON object"}""", await response.Content.ReadAsStringAsync());
        Assert.Empty(_f.Services.ReceivedWith("/echo/after-failure"));
    }
}

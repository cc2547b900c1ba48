using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>security/cors</c> (Configs/cors.json) over real sockets: preflights answered by the gateway on any path, the
/// allowing headers on answers to allowed origins only, the gateway's policy winning over a no-op backend's own, and
/// failure answers keeping their CORS headers. The browser's side is checked in <see cref="CorsBrowserTests"/>.
/// </summary>
public sealed class CorsTests : IAsyncLifetime
{
    private const string Allowed = "http://127.0.0.1:5173";

    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1, "name": "lamp"}""");
        _backend.Answer("/raw").WithJson("""{"raw": true}""")
            .WithHeader("X-Request-Id", "r-42")
            .WithHeader("Access-Control-Allow-Origin", "*")
            .WithHeader("Access-Control-Allow-Methods", "DELETE");
        _backend.Answer("/down").WithStatus(503);
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.Cors.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Theory]
    [InlineData(Allowed)]
    [InlineData("http://127.0.0.1:3000")]
    [InlineData("HTTPS://APP.EXAMPLE.TEST")]
    public async Task Preflight_AllowedOriginMethodAndHeaders_AnsweredByTheGatewayWithoutCallingTheBackend(string origin)
    {
        using HttpResponseMessage response = await Preflight("/items/7", origin, "PUT", "content-type,x-tenant");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(origin, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("PUT", Header(response, "Access-Control-Allow-Methods"));
        Assert.Equal("content-type,x-tenant", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        Assert.Contains("Access-Control-Request-Headers", Header(response, "Vary"), StringComparison.Ordinal);
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task Preflight_OnAPathNoEndpointServes_IsStillAnswered()
    {
        using HttpResponseMessage response = await Preflight("/nowhere", Allowed, "GET", null);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Headers"));
    }

    [Theory]
    [InlineData("http://localhost:5173", "GET", null)]            // origin not listed
    [InlineData("http://127.0.0.1.evil.test", "GET", null)]       // a prefix match is not enough: the pattern is "http://127.0.0.1:*"
    [InlineData("https://app.example.test.evil.test", "GET", null)]
    [InlineData(Allowed, "DELETE", null)]                          // method not allowed
    [InlineData(Allowed, "PUT", "x-tenant,authorization")]         // one header not allowed
    public async Task Preflight_SomethingNotAllowed_AnswersWithoutAllowingHeaders(string origin, string method, string? headers)
    {
        using HttpResponseMessage response = await Preflight("/items/7", origin, method, headers);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Methods"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task Request_FromAnAllowedOrigin_GetsTheAllowingAndExposedHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items/7");
        request.Headers.Add("Origin", Allowed);
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("X-Request-Id", Header(response, "Access-Control-Expose-Headers"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("Origin", Header(response, "Vary"));
        Assert.Contains("lamp", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_FromAnotherOrigin_IsServedWithoutAllowingHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/items/7");
        request.Headers.Add("Origin", "http://localhost:5173");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        // The gateway still answers (CORS is enforced by the browser); the browser then refuses to show the answer.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Expose-Headers"));
        Assert.Equal("Origin", Header(response, "Vary"));
    }

    [Fact]
    public async Task Request_WithAMethodNotAllowed_GetsNoAllowingHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/items/7");
        request.Headers.Add("Origin", Allowed);
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Request_NoOpBackendSendsItsOwnCorsHeaders_TheGatewaysPolicyReplacesThem()
    {
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/raw");
        allowed.Headers.Add("Origin", Allowed);
        using HttpResponseMessage fromAllowed = await _gateway.Client.SendAsync(allowed);

        Assert.Equal(Allowed, Header(fromAllowed, "Access-Control-Allow-Origin"));
        Assert.Null(Header(fromAllowed, "Access-Control-Allow-Methods"));
        Assert.Equal("r-42", Header(fromAllowed, "X-Request-Id"));

        using var other = new HttpRequestMessage(HttpMethod.Get, "/raw");
        other.Headers.Add("Origin", "http://localhost:5173");
        using HttpResponseMessage fromOther = await _gateway.Client.SendAsync(other);

        // The backend's "*" would have let any site read the answer.
        Assert.Null(Header(fromOther, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Request_WhoseBackendFails_TheFailureAnswerKeepsTheAllowingHeaders()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/down");
        request.Headers.Add("Origin", Allowed);
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Request_WithoutOrigin_GetsOnlyVary()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/items/7");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("Origin", Header(response, "Vary"));
    }

    [Fact]
    public async Task Options_WithoutRequestMethod_IsNotAPreflightAndGoesToRouting()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/items/7");
        request.Headers.Add("Origin", Allowed);
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Request_WithTwoOriginHeaders_GetsNoAllowingHeaders()
    {
        (int status, string head, _) = await _gateway.SendRawAsync("GET", "/items/7", $"Origin: {Allowed}\r\nOrigin: http://localhost:1\r\n");

        Assert.Equal(200, status);
        Assert.DoesNotContain("Access-Control-Allow-Origin", head, StringComparison.OrdinalIgnoreCase);
    }

    private async Task<HttpResponseMessage> Preflight(string path, string origin, string method, string? headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null)
        {
            request.Headers.Add("Access-Control-Request-Headers", headers);
        }

        return await _gateway.Client.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;
}

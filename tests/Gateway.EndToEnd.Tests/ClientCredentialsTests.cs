using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>auth/client-credentials</c> (Configs/credentials.json) over real sockets: the token request a real OAuth2 server
/// would receive, the Bearer token on the backend request, caching until shortly before expiry, and a failing token
/// endpoint failing only the step.
/// </summary>
public sealed class ClientCredentialsTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, string Authorization, string Form)> _tokenRequests = new();
    private TestBackend _api = null!;
    private TestBackend _auth = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _api = await TestBackend.StartAsync();
        _auth = await TestBackend.StartAsync();
        _api.Answer("/orders").WithJson("""{"orders": []}""");
        _api.Answer("/short").WithJson("""{"short": true}""");
        _auth.On("oauth2", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string form = await reader.ReadToEndAsync();
            _tokenRequests.Enqueue((context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.ToString(), form));
            switch (context.Request.Path.Value)
            {
                case "/oauth2/token":
                    await TestBackend.Json(context, """{"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}""");
                    break;
                case "/oauth2/short":
                    await TestBackend.Json(context, $$"""{"access_token": "short-{{_tokenRequests.Count}}", "token_type": "bearer", "expires_in": 5}""");
                    break;
                default:
                    await TestBackend.Json(context, """{"error": "invalid_client"}""", StatusCodes.Status401Unauthorized);
                    break;
            }
        });
        _gateway = await GatewayUnderTest.StartAsync(
            Gateway.EndToEnd.Credentials.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://api.test:8080"] = _api.BaseUrl, ["http://auth.test:8080"] = _auth.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _api.DisposeAsync();
        await _auth.DisposeAsync();
    }

    [Fact]
    public async Task Backend_GetsTheBearerToken_FetchedOnceWithTheClientCredentialsGrant()
    {
        for (int i = 0; i < 3; i++)
        {
            using HttpResponseMessage response = await _gateway.Client.GetAsync("/orders");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.All(_api.ReceivedWith("/orders"), call => Assert.Equal("Bearer tok-1", call.Headers["Authorization"]));
        (string path, string authorization, string form) = Assert.Single(_tokenRequests);
        Assert.Equal("/oauth2/token?tenant=acme", path);
        // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("gateway:s3cret%3A%26")), authorization);
        Assert.Equal("grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite&audience=https%3A%2F%2Fapi.test", form);
    }

    [Fact]
    public async Task Token_CloseToItsExpiry_IsFetchedAgain()
    {
        using (HttpResponseMessage first = await _gateway.Client.GetAsync("/short"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (HttpResponseMessage second = await _gateway.Client.GetAsync("/short"))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        }

        // expires_in 5 is inside the 10-second margin: each request needs a new token.
        Assert.Equal(["Bearer short-1", "Bearer short-2"], _api.ReceivedWith("/short").Select(call => call.Headers["Authorization"]).ToArray());
    }

    [Fact]
    public async Task TokenEndpointRefuses_TheStepFailsAndTheBackendIsNotCalled()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/broken");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(_api.ReceivedWith("/orders"));
    }
}

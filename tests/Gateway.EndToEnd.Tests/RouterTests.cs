using System.Net;
using System.Text.Json;
using Gateway.Runtime.Hosting;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The root's <c>router</c> options (Configs/router.json) as KrakenD's router applies them (krakend.md §12): automatic
/// <c>OPTIONS</c>, a moved health endpoint, trailing-slash redirects with fixed-path ones turned off, paths cleaned before
/// routing, JSON bodies for 404 and 405, and the access log: off by the configuration, on again by the operator, without
/// the paths it skips.
/// </summary>
public sealed class RouterTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
        _gateway = await StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task AutoOptions_KnownPath_200WithItsMethodsSortedAndNoBackendCalled()
    {
        _backend.ClearReceived();
        using var request = new HttpRequestMessage(HttpMethod.Options, "/items/7");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["DELETE", "GET"], response.Content.Headers.Allow);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task AutoOptions_UnknownPath_404WithTheConfiguredBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/nowhere");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task HealthPath_HealthAnswersAtTheConfiguredPathOnly()
    {
        using HttpResponseMessage moved = await _gateway.Client.GetAsync("/status/live");
        using HttpResponseMessage old = await _gateway.Client.GetAsync("/__health");

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await moved.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Fact]
    public async Task ErrorBody_404And405AnswerTheConfiguredJson()
    {
        using HttpResponseMessage notFound = await _gateway.Client.GetAsync("/nowhere");
        using HttpResponseMessage notAllowed = await _gateway.Client.PutAsync("/items/7", null);

        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("application/json; charset=utf-8", notFound.Content.Headers.ContentType!.ToString());
        Assert.Equal("""{"msg":"Unknown endpoint","status":404}""", await notFound.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, notAllowed.StatusCode);
        Assert.Equal("""{"msg":"Wrong method"}""", await notAllowed.Content.ReadAsStringAsync());
        Assert.Equal(["GET", "DELETE"], notAllowed.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("GET", "/items/7/?x=1", 301, "/items/7?x=1")]
    [InlineData("DELETE", "/items/7/", 307, "/items/7")]
    [InlineData("POST", "/items/", 307, "/items")]
    public async Task TrailingSlash_RedirectedToTheRouteOfTheSameMethod(string method, string target, int status, string location)
    {
        (int answered, string head, _) = await _gateway.SendRawAsync(method, target, "Content-Length: 0\r\n");

        Assert.Equal(status, answered);
        Assert.Contains($"\r\nLocation: {location}", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FixedPathRedirectsTurnedOff_AnotherCaseIs404()
    {
        (int status, _, string body) = await _gateway.SendRawAsync("GET", "/ITEMS/7");

        Assert.Equal(404, status);
        Assert.Equal("""{"msg":"Unknown endpoint","status":404}""", body);
    }

    [Theory]
    [InlineData("//items///7", "/items/7")]
    [InlineData("/x/../items/./8", "/items/8")]
    public async Task RemoveExtraSlash_CleanedPathIsServedWithoutARedirect(string target, string backendPath)
    {
        _backend.ClearReceived();
        (int status, _, string body) = await _gateway.SendRawAsync("GET", target);

        Assert.Equal(200, status);
        Assert.Equal("""{"id": 1}""", body);
        Assert.Equal(backendPath, Assert.Single(_backend.Received).RawTarget);
    }

    [Fact]
    public void DisableAccessLog_IsTheDefaultTheEnvironmentOverrides()
    {
        GatewayOptions configured = GatewayOptions.For(Gateway.EndToEnd.Router.CompiledGateway.Definition);
        GatewayOptions overridden = GatewayOptions.For(Gateway.EndToEnd.Router.CompiledGateway.Definition);
        string? error = GatewayProgram.ReadOptions([], name => name == "GATEWAY_ACCESS_LOG" ? "true" : null, overridden, out _);

        Assert.Null(error);
        Assert.False(configured.Telemetry.AccessLog);
        Assert.True(overridden.Telemetry.AccessLog);
        Assert.Equal("/status/live", configured.Router.HealthPath);
        Assert.True(configured.Router.RedirectTrailingSlash);
        Assert.False(configured.Router.RedirectFixedPath);
    }

    [Fact]
    public async Task AccessLog_OffAsConfigured_NoLine()
    {
        var log = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.LogStream = log))
        {
            (await gateway.Client.GetAsync("/loud")).Dispose();
            await gateway.StopAsync();
        }

        Assert.DoesNotContain(log.Lines(), l => l.Contains("Gateway.Access", StringComparison.Ordinal) || l.Contains("/loud", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AccessLog_TurnedOnByTheOperator_SkipsTheListedPaths()
    {
        var log = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o =>
        {
            o.Telemetry.AccessLog = true; // what GATEWAY_ACCESS_LOG=true does
            o.Telemetry.LogFormat = Runtime.Telemetry.LogFormat.Json;
            o.Telemetry.LogStream = log;
        }))
        {
            foreach (string path in new[] { "/quiet", "/status/live", "/loud", "/quiet?x=1" })
            {
                (await gateway.Client.GetAsync(path)).Dispose();
            }

            await gateway.StopAsync();
        }

        string[] endpoints = log.JsonLines()
            .Where(l => l.TryGetProperty("event", out JsonElement e) && e.GetString() == "access")
            .Select(l => l.GetProperty("endpoint").GetString()!)
            .ToArray();
        Assert.Equal(["/loud"], endpoints);
    }

    private Task<GatewayUnderTest> StartAsync(Action<GatewayOptions>? configure = null) =>
        GatewayUnderTest.StartAsync(Gateway.EndToEnd.Router.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl }, configure);
}

using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary><c>disable_rest</c> (krakend.md §3.1): a parameter may have literal text around it in its segment.</summary>
public sealed class RelaxedRoutingTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/store").WithJson("""{"stored": true}""");
        _backend.Answer("/items").WithJson("""{"items": []}""");
        _gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Relaxed.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://backend.test:8080"] = _backend.BaseUrl });
    }

    [Theory]
    [InlineData("/files/report.json", "/store/report")]
    [InlineData("/files/a%20b.json", "/store/a%20b")]
    [InlineData("/files/index.json", "/store/the-index")]
    [InlineData("/v2/items", "/items?v=2")]
    public async Task Route_ParameterWithAffixes_CapturesTheMiddle(string path, string expectedTarget)
    {
        (int status, _, _) = await _gateway.SendRawAsync("GET", path);

        Assert.Equal(200, status);
        Assert.Equal(expectedTarget, Assert.Single(_backend.Received).RawTarget);
    }

    [Theory]
    [InlineData("/files/.json")]
    [InlineData("/files/report.xml")]
    [InlineData("/vitems")]
    public async Task Route_AffixesDoNotMatch_404(string path)
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(_backend.Received);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }
}

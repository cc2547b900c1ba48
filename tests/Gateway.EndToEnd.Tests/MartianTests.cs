using System.Net;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>modifier/martian</c> (Configs/martian.json) over real sockets: what the backend receives after the request
/// modifiers, and what the gateway reads and relays after the response modifiers.
/// </summary>
public sealed class MartianTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/capture").WithJson("""{"captured": true}""");
        _backend.Answer("/raw").WithJson("""{"raw": true}""").WithHeader("X-Internal", "secret").WithHeader("X-Served-By", "backend");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.Martian.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task RequestModifiers_HeadersQueryBodyAndPath_ReachTheBackendInOrder()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/martian/request");
        request.Headers.Add("X-Remove", "gone");
        request.Headers.Add("X-Keep", "client");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest call = Assert.Single(_backend.Received);
        Assert.Equal("POST", call.Method);
        Assert.Equal("/capture/rewritten?q=a&page=2%20of%203", call.RawTarget);
        Assert.Equal("yes", call.Headers["X-Martian"]);
        Assert.Equal("client, appended", call.Headers["X-Keep"]);
        Assert.False(call.Headers.ContainsKey("X-Remove"));
        Assert.Equal("""{"msg":"from martian"}""", call.Body);
        Assert.Equal("application/json", call.Headers["Content-Type"]);
        Assert.Equal(Encoding.UTF8.GetByteCount(call.Body).ToString(System.Globalization.CultureInfo.InvariantCulture), call.Headers["Content-Length"]);
    }

    [Fact]
    public async Task ResponseModifiers_OnANoOpBackend_TheClientSeesTheModifiedHeaders()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/martian/response");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Internal"));
        Assert.Equal("gateway", Assert.Single(response.Headers.GetValues("X-Served-By")));
        Assert.Equal("""{"raw": true}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ResponseBodyModifier_TheGatewayDecodesTheReplacedBody()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/martian/decoded");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"replaced":true}""", await response.Content.ReadAsStringAsync());
    }
}

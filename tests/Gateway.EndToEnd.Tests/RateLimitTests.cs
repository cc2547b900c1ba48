using System.Globalization;
using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>qos/ratelimit/router</c> and <c>qos/ratelimit/proxy</c> (Configs/ratelimit.json) over real sockets, with the
/// buckets in the process. Every window is an hour, so no bucket refills while a test runs; each test uses its own
/// endpoint or client names, so the order of the tests does not matter.
/// </summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
        _backend.Answer("/metered").WithJson("""{"units": 5}""");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.RateLimit.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task EndpointLimit_PastCapacity_503WithRetryAfterAndTheBackendIsNotCalled()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/limited")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/limited")).Status);

        (HttpStatusCode status, HttpResponseMessage refused) = await Get("/limited");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("false", Header(refused, "X-KrakenD-Completed"));
        // Two tokens an hour: the next one comes back within half an hour.
        Assert.InRange(int.Parse(Header(refused, "Retry-After")!, CultureInfo.InvariantCulture), 1, 1800);
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());
        Assert.Equal(2, _backend.Received.Count);
    }

    [Fact]
    public async Task EndpointLimit_WithoutCapacity_HoldsTheRatePerSecondAtLeastOne()
    {
        // max_rate 3 every hour is less than one a second: KrakenD's bucket then holds a single token.
        Assert.Equal(HttpStatusCode.OK, (await Get("/default-capacity")).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Get("/default-capacity")).Status);
    }

    [Fact]
    public async Task ClientLimit_ByHeader_EachKeyHasItsOwnBucket()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-key", ("X-Api-Key", "alice"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-key", ("X-Api-Key", "alice"))).Status);
        (HttpStatusCode status, HttpResponseMessage refused) = await Get("/per-key", ("X-Api-Key", "alice"));

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.NotNull(Header(refused, "Retry-After"));
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-key", ("X-Api-Key", "bob"))).Status);
    }

    [Fact]
    public async Task ClientLimit_ByHeader_ARequestWithoutTheHeaderIsRefused()
    {
        (HttpStatusCode status, HttpResponseMessage refused) = await Get("/per-key");

        // KrakenD refuses a request that names no client as over the limit; waiting would not help, so no Retry-After.
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Null(Header(refused, "Retry-After"));
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task ClientLimit_ByParameter_EachValueHasItsOwnBucket()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/tenants/acme/orders")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/tenants/acme/orders")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/tenants/globex/orders")).Status);
    }

    [Fact]
    public async Task ClientLimit_ByAddress_TheClientATrustedProxyNamesHasItsOwnBucket()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-address", ("X-Forwarded-For", "203.0.113.1"))).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/per-address", ("X-Forwarded-For", "203.0.113.1"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-address", ("X-Forwarded-For", "203.0.113.2"))).Status);

        // Read from the right, past the trusted proxy: the same client, whatever it wrote on the left.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/per-address", ("X-Forwarded-For", "198.51.100.9, 203.0.113.1, 127.0.0.1"))).Status);

        // Without the header, the connection's own address is the client: one more bucket, then spent.
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-address")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/per-address")).Status);
    }

    [Fact]
    public async Task ClientLimit_ByAddressWithAHeader_TheHeadersAddressIsTheClientWhenItIsOne()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-forwarded-address", ("X-Real-IP", "203.0.113.7, 10.0.0.1"))).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/per-forwarded-address", ("X-Real-IP", "203.0.113.7:4711"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-forwarded-address", ("X-Real-IP", "[2001:db8::7]:80"))).Status);

        // Not an address: the connection's own address is the client (its first request here).
        Assert.Equal(HttpStatusCode.OK, (await Get("/per-forwarded-address", ("X-Real-IP", "not an address"))).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/per-forwarded-address")).Status);
    }

    [Fact]
    public async Task BothLimits_TheClientsFirst_AndItsTokenIsSpentWhenTheEndpointRefuses()
    {
        Assert.Equal(HttpStatusCode.OK, (await Get("/both", ("X-Api-Key", "a"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/both", ("X-Api-Key", "a"))).Status);

        // Over the client's limit: refused by it, without taking from the endpoint's bucket.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Get("/both", ("X-Api-Key", "a"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get("/both", ("X-Api-Key", "b"))).Status);

        // The endpoint's three tokens are gone: another client gets 503.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Get("/both", ("X-Api-Key", "c"))).Status);
        Assert.Equal(3, _backend.Received.Count);
    }

    [Fact]
    public async Task EndpointWithoutLimits_IsNeverRefused()
    {
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await Get("/unlimited")).Status);
        }
    }

    [Fact]
    public async Task BackendLimit_PastCapacity_TheStepFailsWithoutACallAndTheAnswerIsIncomplete()
    {
        (HttpStatusCode first, HttpResponseMessage complete) = await Get("/backend-limited");
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal("true", Header(complete, "X-KrakenD-Completed"));

        (HttpStatusCode second, HttpResponseMessage partial) = await Get("/backend-limited");

        Assert.Equal(HttpStatusCode.OK, second);
        Assert.Equal("false", Header(partial, "X-KrakenD-Completed"));
        Assert.Equal("backend 1: the backend's rate limit is exceeded (not called)", Header(partial, "X-Gateway-Failed-Steps"));
        Assert.Equal("""{"free":{"id": 1}}""", await partial.Content.ReadAsStringAsync());
        Assert.Single(_backend.Received, r => r.RawTarget == "/metered");
    }

    private async Task<(HttpStatusCode Status, HttpResponseMessage Response)> Get(string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach ((string name, string value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response = await _gateway.Client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return (response.StatusCode, response);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : null;
}

using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Shared rate limits (Configs/ratelimit-shared.json: <c>gateway/ratelimit.redis</c>, refusals with 429, refused while
/// Redis cannot answer): two gateway instances, as two replicas, spend one budget kept in a <c>redis-server</c> this
/// test starts on loopback. Each instance has its own connection; only Redis is shared.
/// </summary>
public sealed class SharedRateLimitTests : IAsyncLifetime
{
    private static readonly string? s_redisServer = RedisServer.Find();

    private RedisServer? _redis;
    private TestBackend _backend = null!;
    private GatewayUnderTest _first = null!;
    private GatewayUnderTest _second = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
        if (s_redisServer is null)
        {
            return;
        }

        _redis = await RedisServer.StartAsync(s_redisServer);
        _first = await StartGatewayAsync(_redis.Address);
        _second = await StartGatewayAsync(_redis.Address);
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _first.DisposeAsync();
            await _second.DisposeAsync();
            await _redis.DisposeAsync();
        }

        await _backend.DisposeAsync();
    }

    [SkippableFact]
    public async Task EndpointLimit_TwoInstances_SpendOneBudget()
    {
        SkipWithoutRedis();
        Assert.Equal(HttpStatusCode.OK, await Status(_first, "/shared"));
        Assert.Equal(HttpStatusCode.OK, await Status(_first, "/shared"));
        Assert.Equal(HttpStatusCode.OK, await Status(_second, "/shared"));

        // Three tokens an hour, spent across both: each instance now refuses, with the configured status.
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(_first, "/shared"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(_second, "/shared"));
        Assert.Equal(3, _backend.Received.Count);
    }

    [SkippableFact]
    public async Task ClientLimit_TwoInstances_SpendEachClientsOneBudget()
    {
        SkipWithoutRedis();
        Assert.Equal(HttpStatusCode.OK, await Status(_first, "/shared-per-key", "k1"));
        Assert.Equal(HttpStatusCode.OK, await Status(_second, "/shared-per-key", "k1"));

        using HttpResponseMessage refused = await Send(_first, "/shared-per-key", "k1");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, 1800);

        Assert.Equal(HttpStatusCode.OK, await Status(_second, "/shared-per-key", "k2"));
    }

    [SkippableFact]
    public async Task BothLimits_InOneScript_TheClientsFirstThenTheEndpoints()
    {
        SkipWithoutRedis();
        Assert.Equal(HttpStatusCode.OK, await Status(_first, "/shared-both/x"));
        Assert.Equal(HttpStatusCode.OK, await Status(_second, "/shared-both/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(_first, "/shared-both/x"));
        Assert.Equal(HttpStatusCode.OK, await Status(_second, "/shared-both/y"));

        // The endpoint's three tokens went to x, x and y.
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(_first, "/shared-both/z"));
        Assert.Equal(3, _backend.Received.Count);
    }

    [SkippableFact]
    public async Task Buckets_InRedis_ExpireWhenTheyWouldBeFullAgain()
    {
        SkipWithoutRedis();
        await Status(_first, "/shared-per-key", "k3");
        await Status(_first, "/shared");

        await using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(_redis!.Address);
        IDatabase database = redis.GetDatabase();
        foreach (string key in new[] { "e2e:{GET /shared-per-key}:client:k3", "e2e:{GET /shared}" })
        {
            TimeSpan? expiry = await database.KeyTimeToLiveAsync(key);
            Assert.NotNull(expiry);

            // One token of two an hour (client), or of three an hour (endpoint), comes back within its interval.
            Assert.InRange(expiry.Value, TimeSpan.FromMinutes(19), TimeSpan.FromMinutes(30));
        }
    }

    [SkippableFact]
    public async Task RedisUnreachable_OnFailureDeny_RefusesWithoutCallingTheBackend()
    {
        SkipWithoutRedis();
        await using GatewayUnderTest isolated = await StartGatewayAsync(new Uri(GatewayUnderTest.ClosedPortUrl()).Authority);

        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(isolated, "/shared"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(isolated, "/shared-per-key", "k1"));
        Assert.Empty(_backend.Received);
    }

    [SkippableFact]
    public async Task RedisStops_OnFailureDeny_RequestsAreRefusedFromThen()
    {
        SkipWithoutRedis();
        Assert.Equal(HttpStatusCode.OK, await Status(_first, "/shared-per-key", "k4"));

        await _redis!.DisposeAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, await Status(_first, "/shared-per-key", "k5"));
        Assert.Single(_backend.Received);
    }

    private void SkipWithoutRedis() => Skip.If(_redis is null, "redis-server is not installed (scripts/test.sh installs Debian's redis-server as root)");

    private Task<GatewayUnderTest> StartGatewayAsync(string redis) =>
        GatewayUnderTest.StartAsync(Gateway.EndToEnd.SharedRateLimit.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl }, options => options.RateLimitRedis = redis);

    private static async Task<HttpStatusCode> Status(GatewayUnderTest gateway, string path, string? key = null)
    {
        using HttpResponseMessage response = await Send(gateway, path, key);
        return response.StatusCode;
    }

    private static async Task<HttpResponseMessage> Send(GatewayUnderTest gateway, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }

        return await gateway.Client.SendAsync(request);
    }
}

using Gateway.Components.RateLimit;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Tests.Components;

/// <summary>Token buckets, the bounded store of clients' buckets and the rate-limit stages, on a clock the tests move by hand.</summary>
public class RateLimitTests
{
    private static readonly long Second = TimeSpan.TicksPerSecond;

    private readonly ManualTime _time = new();

    [Fact]
    public void TryTake_FullBucket_GivesCapacityAtOnceThenOneEveryInterval()
    {
        var rule = new RateLimitRule(rate: 2, everyMilliseconds: 1000, capacity: 3);
        long full = 0;
        long now = 10 * Second;

        for (int i = 0; i < 3; i++)
        {
            Assert.True(rule.TryTake(ref full, now, out _));
        }

        Assert.False(rule.TryTake(ref full, now, out long wait));
        Assert.Equal(Second / 2, wait);
        Assert.False(rule.TryTake(ref full, now + (Second / 2) - 1, out _));
        Assert.True(rule.TryTake(ref full, now + (Second / 2), out _));
        Assert.False(rule.TryTake(ref full, now + (Second / 2), out _));
    }

    [Fact]
    public void TryTake_LongIdle_NeverHoldsMoreThanCapacity()
    {
        var rule = new RateLimitRule(rate: 1, everyMilliseconds: 1000, capacity: 2);
        long full = 0;
        Assert.True(rule.TryTake(ref full, 0, out _));

        long later = 3600 * Second;
        Assert.True(rule.TryTake(ref full, later, out _));
        Assert.True(rule.TryTake(ref full, later, out _));
        Assert.False(rule.TryTake(ref full, later, out _));
    }

    [Theory]
    [InlineData(0.5, 1000, 2 * 10_000_000L)]      // half a token a second: one every 2 s
    [InlineData(50, 600_000, 12 * 10_000_000L)]   // 50 every 10 minutes: one every 12 s
    [InlineData(30, 86_400_000, 2880 * 10_000_000L)] // 30 a day: one every 48 minutes
    public void Rule_RateAndWindow_IntervalIsWindowOverRate(double rate, long every, long interval)
    {
        var rule = new RateLimitRule(rate, every, capacity: 4);

        Assert.Equal(interval, rule.Interval);
        Assert.Equal(3 * interval, rule.Tolerance);
    }

    [Fact]
    public void Rule_ExtremeValues_DoNotOverflow()
    {
        var rule = new RateLimitRule(rate: 1e-9, everyMilliseconds: 365L * 86_400_000, capacity: 1_000_000_000);
        long full = 0;

        Assert.True(rule.TryTake(ref full, long.MaxValue / 4, out _));
        Assert.True(full > 0);
    }

    [Fact]
    public async Task TokenBucket_ManyThreadsAtOnce_HandOutExactlyTheCapacity()
    {
        var bucket = new TokenBucket(new RateLimitRule(rate: 1, everyMilliseconds: 3_600_000, capacity: 1000));
        int taken = 0;
        using var start = new ManualResetEventSlim();
        Task[] workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            start.Wait();
            for (int i = 0; i < 500; i++)
            {
                if (bucket.TryTake(Second, out _))
                {
                    Interlocked.Increment(ref taken);
                }
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(1000, taken);
    }

    [Fact]
    public void ClientBuckets_EachClientHasItsOwnBucket()
    {
        var clients = new ClientBuckets(new RateLimitRule(1, 1000, 1), maxClients: 100);

        Assert.True(clients.TryTake("alice", Second, out _));
        Assert.False(clients.TryTake("alice", Second, out long wait));
        Assert.Equal(Second, wait);
        Assert.True(clients.TryTake("bob", Second, out _));
    }

    [Fact]
    public void ClientBuckets_RandomNamesWithoutEnd_KeepAtMostMaxClients()
    {
        var clients = new ClientBuckets(new RateLimitRule(1, 3_600_000, 5), maxClients: 1000);
        var random = new Random(7);
        for (int i = 0; i < 50_000; i++)
        {
            clients.TryTake(random.NextInt64().ToString("x", System.Globalization.CultureInfo.InvariantCulture), Second, out _);
        }

        Assert.Equal(1000, clients.Count);
    }

    [Fact]
    public void ClientBuckets_HugeNames_AreKeptAsTheirHash()
    {
        string huge = new('a', 16 * 1024);
        string name = ClientBuckets.Name(huge);

        Assert.StartsWith("sha256:", name, StringComparison.Ordinal);
        Assert.Equal(71, name.Length);
        Assert.Equal(name, ClientBuckets.Name(new string('a', 16 * 1024)));
        Assert.NotEqual(name, ClientBuckets.Name(huge + "b"));
        Assert.Equal("short", ClientBuckets.Name("short"));

        var clients = new ClientBuckets(new RateLimitRule(1, 1000, 1), maxClients: 10);
        Assert.True(clients.TryTake(huge, Second, out _));
        Assert.False(clients.TryTake(new string('a', 16 * 1024), Second, out _));
    }

    [Fact]
    public void ClientBuckets_BucketFullAgain_IsForgottenWithoutChangingAnything()
    {
        var clients = new ClientBuckets(new RateLimitRule(1, 1000, 1), maxClients: 100);
        for (int i = 0; i < 50; i++)
        {
            clients.TryTake("client-" + i, Second, out _);
        }

        Assert.Equal(50, clients.Count);

        // A second later every bucket is full again: each call forgets up to two of them.
        for (int i = 0; i < 30; i++)
        {
            clients.TryTake("later-" + i, 2 * Second, out _);
        }

        Assert.Equal(30, clients.Count);
    }

    [Fact]
    public void ClientBuckets_Full_TheLeastRecentlyUsedMakesRoom()
    {
        var clients = new ClientBuckets(new RateLimitRule(1, 3_600_000, 1), maxClients: 100);
        Assert.True(clients.TryTake("busy", Second, out _));
        for (int i = 0; i < 99; i++)
        {
            clients.TryTake("other-" + i, Second, out _);
        }

        // "busy" is used again: it becomes the most recent, and the next newcomers push out the others first.
        Assert.False(clients.TryTake("busy", Second, out _));
        for (int i = 0; i < 99; i++)
        {
            clients.TryTake("newcomer-" + i, Second, out _);
        }

        Assert.False(clients.TryTake("busy", Second, out _));

        // Left alone while 100 others come, it makes room in turn, and starts again with a full bucket.
        for (int i = 0; i < 100; i++)
        {
            clients.TryTake("wave-" + i, Second, out _);
        }

        Assert.True(clients.TryTake("busy", Second, out _));
        Assert.Equal(100, clients.Count);
    }

    [Fact]
    public async Task EndpointStage_OverTheEndpointsLimit_Answers503WithRetryAfterUntilATokenComesBack()
    {
        var stage = new EndpointRateLimit(new RateLimitRule(2, 1000, 2), time: _time);

        Assert.True(await stage.RunAsync(await Exchange()));
        Assert.True(await stage.RunAsync(await Exchange()));
        ProxyExchange refused = await Exchange();
        Assert.False(await stage.RunAsync(refused));
        Assert.Equal(503, refused.Context.Response.StatusCode);
        Assert.Equal("1", refused.Context.Response.Headers.RetryAfter.ToString());
        Assert.Equal("false", refused.Context.Response.Headers[GatewayHeaders.Completed].ToString());

        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(await stage.RunAsync(await Exchange()));
        Assert.False(await stage.RunAsync(await Exchange()));
    }

    [Fact]
    public async Task EndpointStage_ClientOverItsLimit_AnswersTheClientStatusAndLeavesTheEndpointsTokens()
    {
        var stage = new EndpointRateLimit(new RateLimitRule(2, 60_000, 2), new RateLimitRule(1, 60_000, 1), ClientIdentity.Header("X-Key"), statusCode: 503, clientStatusCode: 418, time: _time);

        Assert.True(await stage.RunAsync(await Exchange(("X-Key", "a"))));
        ProxyExchange refused = await Exchange(("X-Key", "a"));
        Assert.False(await stage.RunAsync(refused));
        Assert.Equal(418, refused.Context.Response.StatusCode);
        Assert.Equal("60", refused.Context.Response.Headers.RetryAfter.ToString());

        // The endpoint's second token is still there for another client; then it is gone.
        Assert.True(await stage.RunAsync(await Exchange(("X-Key", "b"))));
        ProxyExchange overEndpoint = await Exchange(("X-Key", "c"));
        Assert.False(await stage.RunAsync(overEndpoint));
        Assert.Equal(503, overEndpoint.Context.Response.StatusCode);
    }

    [Fact]
    public async Task EndpointStage_WithReturnErrorMessage_SaysWhichLimitRefused()
    {
        var stage = new EndpointRateLimit(null, new RateLimitRule(1, 1000, 1), ClientIdentity.Header("X-Key"), time: _time);
        var endpoint = new EndpointDefinition(TimeSpan.FromSeconds(2), returnErrorMessage: true);

        ProxyExchange anonymous = await Exchange(endpoint);
        Assert.False(await stage.RunAsync(anonymous));
        Assert.Equal(429, anonymous.Context.Response.StatusCode);
        Assert.Equal("the request does not name its client (the header X-Key), so the client's rate limit refuses it", Body(anonymous));

        Assert.True(await stage.RunAsync(await Exchange(endpoint, ("X-Key", "k"))));
        ProxyExchange refused = await Exchange(endpoint, ("X-Key", "k"));
        Assert.False(await stage.RunAsync(refused));
        Assert.Equal("the client's rate limit is exceeded", Body(refused));
    }

    [Fact]
    public async Task EndpointStage_ByParameter_ReadsTheRouteValue()
    {
        var stage = new EndpointRateLimit(null, new RateLimitRule(1, 1000, 1), ClientIdentity.Parameter("tenant", 1), time: _time);

        Assert.True(await stage.RunAsync(await ExchangeOnRoute("7", "acme")));
        Assert.False(await stage.RunAsync(await ExchangeOnRoute("8", "acme")));
        Assert.True(await stage.RunAsync(await ExchangeOnRoute("7", "globex")));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData(" 203.0.113.7 , 10.0.0.1", "203.0.113.7")]
    [InlineData("203.0.113.7:8080", "203.0.113.7")]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("::ffff:198.51.100.4", "198.51.100.4")]
    [InlineData("unknown", "192.0.2.1")]
    [InlineData("", "192.0.2.1")]
    public async Task ClientIdentity_AddressFromAHeader_TheFirstAddressElseTheClientAddress(string header, string client)
    {
        ProxyExchange exchange = await Exchange(("X-Real-IP", header));

        Assert.Equal(client, ClientIdentity.Address("X-Real-IP").Find(exchange));
    }

    [Fact]
    public async Task ClientIdentity_ByAddress_TheGatewaysClientAddressWhateverTheHeadersSay()
    {
        // The address the gateway decided (the peer here; behind trusted proxies, their word): never a header it was not told to read.
        ProxyExchange exchange = await Exchange(("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal("192.0.2.1", exchange.Forwarded.ClientIp);
        Assert.Equal("192.0.2.1", ClientIdentity.Address().Find(exchange));
    }

    [Fact]
    public async Task ClientIdentity_AHeaderTheGatewaySet_WinsOverTheClients()
    {
        // A validated token's claim, propagated as a header (KrakenD's way to limit by a claim), or removed.
        ProxyExchange claimed = await Exchange(("X-Department", "forged"));
        claimed.Forwarded.SetOverride("x-department", "sales");
        ProxyExchange removed = await Exchange(("X-Department", "forged"));
        removed.Forwarded.SetOverride("X-Department", null);

        Assert.Equal("sales", ClientIdentity.Header("X-Department").Find(claimed));
        Assert.Null(ClientIdentity.Header("X-Department").Find(removed));
    }

    [Fact]
    public async Task ClientIdentity_NothingNamesTheClient_Null()
    {
        ProxyExchange exchange = await Exchange(("X-Key", ""));

        Assert.Null(ClientIdentity.Header("X-Key").Find(exchange));
        Assert.Null(ClientIdentity.Header("X-Other").Find(exchange));
        Assert.Null(ClientIdentity.Parameter("id", 0).Find(await ExchangeOnRoute("")));
        Assert.Null(ClientIdentity.Address().Find(await Exchange(new EndpointDefinition(TimeSpan.FromSeconds(2)), [], [], peer: null)));
    }

    [Fact]
    public async Task BackendStage_NoToken_FailsTheStepWithoutCallingTheBackend()
    {
        var stage = new BackendRateLimit(new RateLimitRule(1, 1000, 1), _time);
        int calls = 0;
        Task<BackendResult> Call()
        {
            calls++;
            return Task.FromResult(BackendResult.Failed(BackendFailure.Status, 503));
        }

        Assert.Equal(BackendFailure.Status, (await stage.InvokeAsync(Call)).Failure);
        BackendResult limited = await stage.InvokeAsync(Call);
        Assert.Equal(BackendFailure.RateLimited, limited.Failure);
        Assert.Equal("the backend's rate limit is exceeded (not called)", FailureAnswers.Describe(limited));
        Assert.Equal(1, calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await stage.InvokeAsync(Call);
        Assert.Equal(2, calls);
    }

    [Theory]
    [InlineData(true, SharedOutcome.Allowed)]
    [InlineData(false, SharedOutcome.Unavailable)]
    public async Task SharedStore_RedisUnreachable_TheFailureModeDecidesAndTheOutageIsLoggedOnce(bool failOpen, SharedOutcome outcome)
    {
        var logger = new CountingLogger();
        var settings = new SharedRateLimits("redis.test:6379", failOpen, timeoutMilliseconds: 200, keyPrefix: "t:");
        await using var store = new SharedRateLimitStore("127.0.0.1:1", settings, logger);
        var rule = new RateLimitRule(1, 1000, 1);

        Assert.Equal(outcome, (await store.TakeAsync("GET /a", null, null, rule)).Outcome);
        Assert.Equal(outcome, (await store.TakeAsync("GET /a", rule, "client", rule)).Outcome);
        Assert.Equal(1, logger.Warnings);
    }

    private static Task<ProxyExchange> Exchange(params (string Name, string Value)[] headers) =>
        Exchange(new EndpointDefinition(TimeSpan.FromSeconds(2)), [], headers);

    private static Task<ProxyExchange> Exchange(EndpointDefinition endpoint, params (string Name, string Value)[] headers) =>
        Exchange(endpoint, [], headers);

    private static Task<ProxyExchange> ExchangeOnRoute(params string[] route) =>
        Exchange(new EndpointDefinition(TimeSpan.FromSeconds(2)), route, []);

    /// <summary>A request from <paramref name="peer"/> as the pipeline hands it to the endpoint's stages (the response body kept for reading).</summary>
    private static async Task<ProxyExchange> Exchange(EndpointDefinition endpoint, string[] route, (string Name, string Value)[] headers, string? peer = "192.0.2.1")
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        context.Connection.RemoteIpAddress = peer is null ? null : System.Net.IPAddress.Parse(peer);
        foreach ((string name, string value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, endpoint, 1024))!;
        return new ProxyExchange(context, route, forwarded, endpoint, [], 1024);
    }

    private static string Body(ProxyExchange exchange) =>
        System.Text.Encoding.UTF8.GetString(((MemoryStream)exchange.Context.Response.Body).ToArray());

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class CountingLogger : ILogger
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings++;
            }
        }
    }
}

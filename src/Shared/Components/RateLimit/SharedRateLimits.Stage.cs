using Gateway.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Components.RateLimit;

/// <summary>
/// <c>gateway/ratelimit.redis</c> at the configuration root (docs/configuration.md, shared rate limits): every
/// endpoint's buckets live in Redis, so replicas of the gateway share one budget. The address is compiled in;
/// <c>GATEWAY_RATELIMIT_REDIS</c> or <c>--ratelimit-redis</c> replace it when the gateway starts (with a password or
/// TLS options, which never belong in the configuration). Each server gets its own connection
/// (<see cref="SharedRateLimitStore"/>).
/// </summary>
public sealed class SharedRateLimits : IGatewayComponent
{
    /// <param name="address">The configured <c>host:port</c>.</param>
    /// <param name="failOpen">True: while Redis cannot answer, requests go on unlimited; false: they are refused.</param>
    /// <param name="timeoutMilliseconds">How long a request waits for Redis before that counts as a failure.</param>
    /// <param name="keyPrefix">The start of every key the gateway writes.</param>
    public SharedRateLimits(string address, bool failOpen, int timeoutMilliseconds, string keyPrefix)
    {
        Address = address;
        FailOpen = failOpen;
        Timeout = TimeSpan.FromMilliseconds(timeoutMilliseconds);
        KeyPrefix = keyPrefix;
    }

    public string Address { get; }

    public bool FailOpen { get; }

    public TimeSpan Timeout { get; }

    public string KeyPrefix { get; }

    public void ConfigureHost(GatewayHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        string configuration = host.Options.RateLimitRedis ?? Address;
        host.Builder.Services.AddSingleton(services => new SharedRateLimitStore(configuration, this, services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.RateLimit")));

        // Connects when the server starts, not on the first request.
        host.Builder.Services.AddHostedService(services => services.GetRequiredService<SharedRateLimitStore>());
    }
}

/// <summary>What a shared check decided.</summary>
public enum SharedOutcome
{
    Allowed,

    /// <summary>The client's bucket was empty.</summary>
    ClientLimited,

    /// <summary>The bucket all clients share was empty (the client's token, if any, was spent).</summary>
    EndpointLimited,

    /// <summary>Redis did not answer in time and the configuration says to refuse (<c>"on_failure": "deny"</c>).</summary>
    Unavailable,
}

/// <summary>A shared check's outcome and, for a refusal, how long until a token comes back (ticks).</summary>
public readonly record struct SharedVerdict(SharedOutcome Outcome, long Wait);

/// <summary>
/// One server's connection to the Redis of shared rate limits. A check is one script run in Redis (one round trip):
/// the client's bucket then the endpoint's, each the time it will be full again in microseconds of Redis' own clock
/// (so replicas' clocks never matter), each key expiring when its bucket is full again (so Redis holds only the buckets
/// of recently active clients). When Redis cannot answer within the timeout, the configured failure mode decides, and
/// for the next second no request waits for Redis again; the outage and the recovery are logged once each.
/// </summary>
public sealed partial class SharedRateLimitStore : IHostedService, IAsyncDisposable
{
    /// <summary>
    /// KEYS[1] the client's bucket, KEYS[2] the endpoint's; ARGV: each one's interval and tolerance in microseconds
    /// (0: no such bucket). Returns {outcome, wait in microseconds}: 0 allowed, 1 the client's bucket is empty, 2 the
    /// endpoint's is (after the client's token was taken, as KrakenD does).
    /// </summary>
    internal const string Script = """
        if redis.replicate_commands then redis.replicate_commands() end
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
        local function take(key, interval, tolerance)
          local full = math.max(tonumber(redis.call('GET', key)) or 0, now)
          if full - now > tolerance then return full - tolerance - now end
          full = full + interval
          redis.call('SET', key, string.format('%.0f', full), 'PX', math.ceil((full - now) / 1000))
          return 0
        end
        local clientInterval, endpointInterval = tonumber(ARGV[1]), tonumber(ARGV[3])
        if clientInterval > 0 then
          local wait = take(KEYS[1], clientInterval, tonumber(ARGV[2]))
          if wait > 0 then return {1, math.ceil(wait)} end
        end
        if endpointInterval > 0 then
          local wait = take(KEYS[2], endpointInterval, tonumber(ARGV[4]))
          if wait > 0 then return {2, math.ceil(wait)} end
        end
        return {0, 0}
        """;

    private static readonly TimeSpan s_quietAfterFailure = TimeSpan.FromSeconds(1);

    private readonly SharedRateLimits _settings;
    private readonly ConfigurationOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _connectGate = new();
    private Task<ConnectionMultiplexer>? _connecting;
    private long _quietUntil;
    private int _failing;

    public SharedRateLimitStore(string configuration, SharedRateLimits settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _logger = logger;
        _options = ConfigurationOptions.Parse(configuration);
        _options.AbortOnConnectFail = false;
        _options.ClientName = "gateway";

        // While disconnected, a command fails at once instead of queueing until the connection is back.
        _options.BacklogPolicy = BacklogPolicy.FailFast;
        _options.ConnectTimeout = (int)Math.Clamp(settings.Timeout.TotalMilliseconds * 10, 1000, 5000);
        _options.AsyncTimeout = (int)Math.Max(settings.Timeout.TotalMilliseconds, 1);
    }

    /// <summary>Checks (and takes from) the client's bucket, then the endpoint's. Never throws.</summary>
    /// <param name="name">The limit's name: the endpoint's method and path.</param>
    public async Task<SharedVerdict> TakeAsync(string name, RateLimitRule? clientRule, string? client, RateLimitRule? endpointRule)
    {
        if (Environment.TickCount64 < Volatile.Read(ref _quietUntil))
        {
            return Failed();
        }

        try
        {
            // The first requests after the start may wait for the connection itself, within the connect timeout.
            ConnectionMultiplexer connection = await Connect().WaitAsync(TimeSpan.FromMilliseconds(_options.ConnectTimeout)).ConfigureAwait(false);
            string bucket = _settings.KeyPrefix + "{" + name + "}";
            RedisKey[] keys = [clientRule is null ? bucket : bucket + ":client:" + ClientBuckets.Name(client!), bucket];
            RedisValue[] values =
            [
                Microseconds(clientRule?.Interval), Microseconds(clientRule?.Tolerance),
                Microseconds(endpointRule?.Interval), Microseconds(endpointRule?.Tolerance),
            ];
            RedisResult result = await connection.GetDatabase().ScriptEvaluateAsync(Script, keys, values).WaitAsync(_settings.Timeout).ConfigureAwait(false);
            var answer = (RedisResult[])result!;
            Recovered();
            long wait = (long)answer[1] * 10; // microseconds to ticks
            return (long)answer[0] switch
            {
                0 => new SharedVerdict(SharedOutcome.Allowed, 0),
                1 => new SharedVerdict(SharedOutcome.ClientLimited, wait),
                _ => new SharedVerdict(SharedOutcome.EndpointLimited, wait),
            };
        }
        catch (Exception e)
        {
            // Unreachable, too slow, or an error from Redis (out of memory, say): the failure mode decides.
            Volatile.Write(ref _quietUntil, Environment.TickCount64 + (long)s_quietAfterFailure.TotalMilliseconds);
            if (Interlocked.Exchange(ref _failing, 1) == 0)
            {
                LogUnavailable(_logger, _settings.FailOpen ? "let through unlimited" : "refused", e);
            }

            return Failed();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = Connect();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _connecting) is { IsCompletedSuccessfully: true } connecting)
        {
            await connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The connection, started once; with <c>AbortOnConnectFail</c> off it keeps reconnecting by itself.</summary>
    private Task<ConnectionMultiplexer> Connect()
    {
        if (Volatile.Read(ref _connecting) is { } connecting)
        {
            return connecting;
        }

        lock (_connectGate)
        {
            return _connecting ??= ConnectionMultiplexer.ConnectAsync(_options);
        }
    }

    private SharedVerdict Failed() => new(_settings.FailOpen ? SharedOutcome.Allowed : SharedOutcome.Unavailable, 0);

    private void Recovered()
    {
        if (Volatile.Read(ref _failing) == 1 && Interlocked.Exchange(ref _failing, 0) == 1)
        {
            LogRecovered(_logger);
        }
    }

    private static RedisValue Microseconds(long? ticks) => ticks is { } value ? (value + 9) / 10 : 0;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis for shared rate limits cannot be used (unreachable, too slow or failing); requests are {Mode} until it answers")]
    private static partial void LogUnavailable(ILogger logger, string mode, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis for shared rate limits answers again")]
    private static partial void LogRecovered(ILogger logger);
}

using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Components.RateLimit;

/// <summary>
/// KrakenD's <c>qos/ratelimit/router</c> on an endpoint (docs/configuration.md, rate limits), before any backend is
/// called: first the client's own bucket (<c>client_max_rate</c>; over it: <c>client_status_code</c>, 429), then the
/// bucket all clients share (<c>max_rate</c>; over it: <c>status_code</c>, 503). As in KrakenD, a client's token is
/// spent even when the shared bucket then refuses the request. Refusals carry <c>Retry-After</c>.
/// </summary>
/// <remarks>
/// The buckets live in this process, or, when the configuration root has <c>gateway/ratelimit.redis</c>, in Redis,
/// shared by every replica (<see cref="SharedRateLimitStore"/>, one round trip per request).
/// </remarks>
public sealed class EndpointRateLimit : IEndpointStage
{
    private static readonly Task<bool> s_goOn = Task.FromResult(true);

    private readonly TokenBucket? _endpoint;
    private readonly ClientBuckets? _clients;
    private readonly RateLimitRule? _endpointRule;
    private readonly RateLimitRule? _clientRule;
    private readonly ClientIdentity? _identity;
    private readonly int _statusCode;
    private readonly int _clientStatusCode;
    private readonly string? _sharedName;
    private readonly TimeProvider _time;
    private readonly long _start;
    private SharedRateLimitStore? _store;

    /// <param name="endpointLimit">The bucket all clients share (<c>max_rate</c>), or null.</param>
    /// <param name="clientLimit">Each client's bucket (<c>client_max_rate</c>), or null.</param>
    /// <param name="client">How clients are told apart; needed with <paramref name="clientLimit"/>.</param>
    /// <param name="maxClients">The most clients whose buckets are kept in memory (<c>gateway/ratelimit.max_clients</c>).</param>
    /// <param name="sharedName">The limit's name in Redis (the endpoint's method and path) when the buckets are shared; null keeps them in this process.</param>
    public EndpointRateLimit(
        RateLimitRule? endpointLimit,
        RateLimitRule? clientLimit = null,
        ClientIdentity? client = null,
        int statusCode = StatusCodes.Status503ServiceUnavailable,
        int clientStatusCode = StatusCodes.Status429TooManyRequests,
        int maxClients = 100_000,
        string? sharedName = null,
        TimeProvider? time = null)
    {
        if (endpointLimit is null && clientLimit is null)
        {
            throw new ArgumentException("an endpoint rate limit needs a limit for all clients, for each client, or both", nameof(endpointLimit));
        }

        if (clientLimit is not null && client is null)
        {
            throw new ArgumentNullException(nameof(client), "a client limit needs to know how clients are told apart");
        }

        _endpointRule = endpointLimit;
        _clientRule = clientLimit;
        _identity = client;
        _statusCode = statusCode;
        _clientStatusCode = clientStatusCode;
        _sharedName = sharedName;
        if (sharedName is null)
        {
            _endpoint = endpointLimit is null ? null : new TokenBucket(endpointLimit);
            _clients = clientLimit is null ? null : new ClientBuckets(clientLimit, maxClients);
        }

        _time = time ?? TimeProvider.System;
        _start = _time.GetTimestamp();
    }

    /// <summary>The check calls no service within the endpoint's budget (a shared check has its own, short timeout).</summary>
    public bool CallsServices => false;

    public Task<bool> RunAsync(ProxyExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        if (_sharedName is not null)
        {
            return RunSharedAsync(exchange);
        }

        long now = _time.GetElapsedTime(_start).Ticks;
        long wait;
        if (_clients is not null)
        {
            if (_identity!.Find(exchange) is not { } client)
            {
                return RefuseAsync(exchange, _clientStatusCode, 0, Anonymous());
            }

            if (!_clients.TryTake(client, now, out wait))
            {
                return RefuseAsync(exchange, _clientStatusCode, wait, "the client's rate limit is exceeded");
            }
        }

        if (_endpoint is not null && !_endpoint.TryTake(now, out wait))
        {
            return RefuseAsync(exchange, _statusCode, wait, "the endpoint's rate limit is exceeded");
        }

        return s_goOn;
    }

    private async Task<bool> RunSharedAsync(ProxyExchange exchange)
    {
        // The store is the server's (registered by SharedRateLimits); found once, on the first request.
        SharedRateLimitStore store = _store ??= exchange.Context.RequestServices.GetRequiredService<SharedRateLimitStore>();
        string? client = null;
        if (_clientRule is not null && (client = _identity!.Find(exchange)) is null)
        {
            return await RefuseAsync(exchange, _clientStatusCode, 0, Anonymous()).ConfigureAwait(false);
        }

        SharedVerdict verdict = await store.TakeAsync(_sharedName!, _clientRule, client, _endpointRule).ConfigureAwait(false);
        return verdict.Outcome switch
        {
            SharedOutcome.Allowed => true,
            SharedOutcome.ClientLimited => await RefuseAsync(exchange, _clientStatusCode, verdict.Wait, "the client's rate limit is exceeded").ConfigureAwait(false),
            SharedOutcome.EndpointLimited => await RefuseAsync(exchange, _statusCode, verdict.Wait, "the endpoint's rate limit is exceeded").ConfigureAwait(false),
            _ => await RefuseAsync(exchange, _statusCode, 0, "the shared rate limit could not be checked").ConfigureAwait(false),
        };
    }

    private string Anonymous() => $"the request does not name its client ({_identity!.Describe()}), so the client's rate limit refuses it";

    private static async Task<bool> RefuseAsync(ProxyExchange exchange, int status, long wait, string reason)
    {
        await FailureAnswers.WriteRateLimitedAsync(exchange, status, TimeSpan.FromTicks(wait), reason).ConfigureAwait(false);
        return false;
    }
}

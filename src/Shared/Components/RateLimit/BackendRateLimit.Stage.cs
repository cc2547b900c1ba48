using Gateway.Runtime.Forwarding;

namespace Gateway.Components.RateLimit;

/// <summary>
/// KrakenD's <c>qos/ratelimit/proxy</c> on a backend (docs/configuration.md, rate limits): the calls the gateway makes
/// to this backend take from one bucket of their own, whatever endpoint or client they serve. A call without a token
/// is not made: the step fails at once (<see cref="BackendFailure.RateLimited"/>), as any failed backend does.
/// </summary>
public sealed class BackendRateLimit : IBackendStage
{
    private readonly TokenBucket _bucket;
    private readonly TimeProvider _time;
    private readonly long _start;

    public BackendRateLimit(RateLimitRule limit, TimeProvider? time = null)
    {
        _bucket = new TokenBucket(limit);
        _time = time ?? TimeProvider.System;
        _start = _time.GetTimestamp();
    }

    public Task<BackendResult> InvokeAsync(Func<Task<BackendResult>> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return _bucket.TryTake(_time.GetElapsedTime(_start).Ticks, out _)
            ? next()
            : Task.FromResult(BackendResult.Failed(BackendFailure.RateLimited));
    }
}

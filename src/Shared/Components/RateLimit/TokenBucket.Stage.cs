namespace Gateway.Components.RateLimit;

/// <summary>
/// One token bucket shared by every request that takes from it (an endpoint's <c>max_rate</c>, a backend's
/// <c>qos/ratelimit/proxy</c>): its whole state is one number, changed without a lock.
/// </summary>
public sealed class TokenBucket
{
    private readonly RateLimitRule _rule;
    private long _full;

    public TokenBucket(RateLimitRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _rule = rule;
    }

    /// <summary>Takes a token at <paramref name="now"/> (ticks); when there is none, <paramref name="wait"/> says how long until there is.</summary>
    public bool TryTake(long now, out long wait)
    {
        while (true)
        {
            long seen = Volatile.Read(ref _full);
            long full = seen;
            if (!_rule.TryTake(ref full, now, out wait))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _full, full, seen) == seen)
            {
                return true;
            }
        }
    }
}

namespace Gateway.Components.RateLimit;

/// <summary>
/// A token bucket's rule: <c>rate</c> tokens every <c>every</c>, at most <c>capacity</c> held, one taken by each request
/// (KrakenD's <c>max_rate</c>, <c>every</c>, <c>capacity</c>). A bucket following it is one number, the time at which it
/// will be full again (the generic cell rate algorithm's theoretical arrival time): a request at <c>now</c> may take a
/// token when that time is at most <c>(capacity - 1) × interval</c> ahead, and moves it one interval further. A bucket
/// whose time has passed is full, the same as a bucket never used, so it can be forgotten without changing anything.
/// Times are <see cref="TimeSpan"/> ticks.
/// </summary>
public sealed class RateLimitRule
{
    /// <summary>
    /// Intervals and tolerances are kept under this (about 317 years: beyond any window and capacity the configuration
    /// allows in practice), so adding them to a time never overflows.
    /// </summary>
    private const long MaxSpan = 10_000_000_000L * TimeSpan.TicksPerSecond;

    public RateLimitRule(double rate, long everyMilliseconds, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(everyMilliseconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Rate = rate;
        EveryMilliseconds = everyMilliseconds;
        Capacity = capacity;
        double interval = everyMilliseconds * (double)TimeSpan.TicksPerMillisecond / rate;
        Interval = (long)Math.Clamp(Math.Round(interval), 1, MaxSpan);
        Tolerance = (long)Math.Min((double)Interval * (capacity - 1), MaxSpan);
    }

    /// <summary>Tokens added every <see cref="EveryMilliseconds"/>.</summary>
    public double Rate { get; }

    public long EveryMilliseconds { get; }

    /// <summary>The most tokens the bucket holds: how many requests may come at once.</summary>
    public long Capacity { get; }

    /// <summary>The time one token takes to come back, in ticks.</summary>
    public long Interval { get; }

    /// <summary>How far ahead of now a bucket's full time may be while it still has a token: <c>(capacity - 1) × interval</c>.</summary>
    public long Tolerance { get; }

    /// <summary>
    /// Takes a token from the bucket whose full time is <paramref name="full"/> (0: never used). When the bucket is
    /// empty, <paramref name="wait"/> is how long until it has a token again.
    /// </summary>
    public bool TryTake(ref long full, long now, out long wait)
    {
        long start = Math.Max(full, now);
        if (start - now > Tolerance)
        {
            wait = start - Tolerance - now;
            return false;
        }

        full = start + Interval;
        wait = 0;
        return true;
    }
}

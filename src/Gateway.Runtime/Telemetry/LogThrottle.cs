namespace Gateway.Runtime.Telemetry;

/// <summary>
/// At most one log line a second for a run of events, with how many events there were since the previous line: the
/// first event writes a line at once, and later ones are only counted until a second has passed since that line, when
/// the next event writes one with the count. Used where one line per event would cost more than the event (a saturated
/// endpoint's refusals, <c>endpoint_saturated</c>; Kestrel's refusals of clients, <c>client_rejected</c>). Safe to call
/// from any number of threads at once: exactly one of the events that find the second passed writes the line, and every
/// event is counted in exactly one line (or in the next one, when no line has been written yet).
/// </summary>
internal sealed class LogThrottle
{
    /// <summary>The least time between two lines, in milliseconds.</summary>
    internal const long IntervalMilliseconds = 1000;

    private int _sinceLine;

    // So that the first event writes a line at once.
    private long _lineAt = long.MinValue / 2;

    /// <summary>Counts one event, now.</summary>
    /// <param name="count">When a line is due, the events since the previous line, this one included; else 0.</param>
    /// <returns>Whether the caller writes a line now, with <paramref name="count"/>.</returns>
    public bool Count(out int count) => Count(Environment.TickCount64, out count);

    /// <summary>Counts one event at <paramref name="nowMilliseconds"/> (a monotonic clock, <see cref="Environment.TickCount64"/>).</summary>
    /// <param name="nowMilliseconds">The time of the event, in milliseconds.</param>
    /// <param name="count">When a line is due, the events since the previous line, this one included; else 0.</param>
    /// <returns>Whether the caller writes a line now, with <paramref name="count"/>.</returns>
    internal bool Count(long nowMilliseconds, out int count)
    {
        Interlocked.Increment(ref _sinceLine);
        long last = Volatile.Read(ref _lineAt);
        if (nowMilliseconds - last >= IntervalMilliseconds && Interlocked.CompareExchange(ref _lineAt, nowMilliseconds, last) == last)
        {
            count = Interlocked.Exchange(ref _sinceLine, 0);
            return true;
        }

        count = 0;
        return false;
    }
}

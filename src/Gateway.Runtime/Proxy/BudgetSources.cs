using System.Collections.Concurrent;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// The cancellation sources of requests' time budgets, reused: a source whose time did not run out and that was not
/// cancelled is reset (its timer stopped, its registrations dropped) and serves the next request, so a request costs
/// no new source and no new timer. A cancelled source is disposed, never reused.
/// </summary>
internal static class BudgetSources
{
    /// <summary>The most idle sources kept; past it, a returned source is disposed.</summary>
    private const int MostKept = 4096;

    private static readonly ConcurrentQueue<CancellationTokenSource> s_idle = new();
    private static int s_count;

    public static CancellationTokenSource Rent()
    {
        if (s_idle.TryDequeue(out CancellationTokenSource? source))
        {
            Interlocked.Decrement(ref s_count);
            return source;
        }

        return new CancellationTokenSource();
    }

    /// <summary>Gives back a source no one uses any more: kept when it can be reset, disposed otherwise.</summary>
    public static void Return(CancellationTokenSource source)
    {
        if (source.TryReset())
        {
            if (Interlocked.Increment(ref s_count) <= MostKept)
            {
                s_idle.Enqueue(source);
                return;
            }

            Interlocked.Decrement(ref s_count);
        }

        source.Dispose();
    }
}

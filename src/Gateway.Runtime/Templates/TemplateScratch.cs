using Gateway.Runtime.Http;

namespace Gateway.Runtime.Templates;

/// <summary>
/// A per-thread working buffer for rendering templates, reached only through a <see cref="Lease"/>. A thread-static
/// buffer is safe only while its user stays on the thread: the lease is a <c>ref struct</c>, so C# refuses to keep
/// one alive across an <c>await</c> (CS4007), and renting again on the same thread before the lease ends (re-entry)
/// throws instead of handing out the same buffer twice.
/// </summary>
internal static class TemplateScratch
{
    private const int KeepAtMost = 64 * 1024;

    [ThreadStatic]
    private static PooledBuffer? t_values;

    [ThreadStatic]
    private static bool t_leased;

    /// <summary>Takes this thread's buffer for one synchronous use; dispose the lease (a <c>using</c>) when done.</summary>
    public static Lease Rent()
    {
        if (t_leased)
        {
            throw new InvalidOperationException("the template scratch buffer is already in use on this thread");
        }

        t_leased = true;
        PooledBuffer values = t_values ??= new PooledBuffer(256);
        values.Clear();
        return new Lease(values);
    }

    /// <summary>The buffer while it is held. Disposing it gives back a buffer that grew past 64 KB to the pool.</summary>
    public readonly ref struct Lease
    {
        internal Lease(PooledBuffer values) => Values = values;

        /// <summary>Holds the array a <c>*</c> path collects.</summary>
        public PooledBuffer Values { get; }

        public void Dispose()
        {
            if (t_values is { Capacity: > KeepAtMost } large)
            {
                large.Dispose();
                t_values = null;
            }

            t_leased = false;
        }
    }
}

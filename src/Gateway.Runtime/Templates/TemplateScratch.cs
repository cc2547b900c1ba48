using Gateway.Runtime.Http;

namespace Gateway.Runtime.Templates;

/// <summary>
/// A per-thread working buffer for rendering templates. Generated builders render synchronously (no await between
/// filling and using a buffer), so it is never shared.
/// </summary>
internal static class TemplateScratch
{
    [ThreadStatic]
    private static PooledBuffer? t_values;

    /// <summary>Holds the array a <c>*</c> path collects.</summary>
    public static PooledBuffer Values => t_values ??= new PooledBuffer(256);

    /// <summary>After use: a buffer that grew past 64 KB goes back to the pool rather than staying with the thread.</summary>
    public static void Trim()
    {
        if (t_values is { Capacity: > 64 * 1024 } large)
        {
            large.Dispose();
            t_values = null;
        }
    }
}

using Gateway.Runtime.Http;

namespace Gateway.Runtime.Templates;

/// <summary>
/// Per-thread working buffers for rendering templates. Generated builders render synchronously (no await between
/// filling and using a buffer), so one buffer per thread is never shared.
/// </summary>
internal static class TemplateScratch
{
    [ThreadStatic]
    private static PooledBuffer? t_values;

    [ThreadStatic]
    private static PooledBuffer? t_text;

    /// <summary>Holds the array a <c>*</c> path collects.</summary>
    public static PooledBuffer Values => t_values ??= new PooledBuffer(256);

    /// <summary>Holds a value's text form.</summary>
    public static PooledBuffer Text => t_text ??= new PooledBuffer(256);
}

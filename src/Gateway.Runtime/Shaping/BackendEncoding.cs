namespace Gateway.Runtime.Shaping;

/// <summary>How a backend's body is read (<c>encoding</c>, docs/configuration.md, decoding).</summary>
public enum BackendEncoding
{
    /// <summary>One JSON object (or, with <c>is_collection</c>, an array).</summary>
    Json,

    /// <summary>Any JSON value: objects as they are, arrays under <c>collection</c>, scalars under <c>content</c>.</summary>
    SafeJson,

    /// <summary>The body as text under <c>content</c>.</summary>
    String,

    /// <summary>Not read at all: status, headers and body pass through.</summary>
    NoOp,
}

namespace Gateway.Runtime.Forwarding;

/// <summary>Why a backend produced no usable response. Failures are values, mapped to client statuses in one place.</summary>
public enum BackendFailure
{
    /// <summary>The backend answered 200 or 201 with a usable body.</summary>
    None,

    /// <summary>Not called: an earlier step of a sequence failed.</summary>
    NotCalled,

    /// <summary>A template value could not be rendered into the URL, a header or the body (missing, null, object, empty segment, a character a header cannot hold).</summary>
    UnresolvedPlaceholder,

    /// <summary>The backend answered with a status other than 200 or 201.</summary>
    Status,

    /// <summary>Connection refused, reset, DNS failure or a protocol error.</summary>
    Transport,

    /// <summary>The endpoint's time budget ran out before the backend answered.</summary>
    Timeout,

    /// <summary>The client went away; nothing will be written.</summary>
    Canceled,

    /// <summary>The body is not one JSON object (empty, an array, a scalar, malformed or nested too deep).</summary>
    InvalidBody,

    /// <summary>The body is larger than the gateway accepts from a backend.</summary>
    BodyTooLarge,

    /// <summary>
    /// The gateway's bound on response bytes held at once, across all requests, was reached while reading this body
    /// (<c>--max-buffered-response-bytes</c>).
    /// </summary>
    BufferLimit,

    /// <summary>Not a final HTTP answer the gateway can use: <c>101 Switching Protocols</c> or another 1xx status.</summary>
    InvalidResponse,

    /// <summary>The gateway itself failed while handling this step (a defect, logged with its exception).</summary>
    Internal,

    /// <summary>The backend's circuit breaker is open: it failed too often, so it is not called for a while.</summary>
    CircuitOpen,

    /// <summary>The access token the backend needs (<c>auth/client-credentials</c>) could not be obtained.</summary>
    Credentials,

    /// <summary>The backend's rate limit (<c>qos/ratelimit/proxy</c>) had no token left: the backend was not called.</summary>
    RateLimited,

    /// <summary>
    /// The backend's Lua script (<c>modifier/lua-backend</c>) ended the step: <c>custom_error</c> (its status in
    /// <see cref="BackendResult.StatusCode"/>), a Lua error, or a budget spent (docs/configuration.md, Lua errors).
    /// </summary>
    Script,

    /// <summary>
    /// A <c>for_each</c> step's array has more elements than its <c>max_items</c>, or is not an array: the step is not
    /// called for any of them.
    /// </summary>
    TooManyItems,
}

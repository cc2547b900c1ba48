namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The stages of one backend call, in order (docs/configuration.md, "How a backend call runs"). An exception in any
/// of them fails that step like any other failure (<see cref="BackendFailure.Internal"/>); it never escapes the step.
/// </summary>
public enum StepStage
{
    /// <summary>The URL, body and headers are built from the route, the client request and earlier responses.</summary>
    Render,

    /// <summary>The request is sent and the response headers are awaited.</summary>
    Send,

    /// <summary>A same-origin redirect is followed.</summary>
    Redirect,

    /// <summary>The response body is read into memory.</summary>
    ReadBody,

    /// <summary>The body is checked and decoded from the backend's encoding.</summary>
    Decode,

    /// <summary>target, allow/deny, mapping, group and flatmap_filter are applied.</summary>
    Shape,
}

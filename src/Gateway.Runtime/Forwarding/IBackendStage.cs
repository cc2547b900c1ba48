namespace Gateway.Runtime.Forwarding;

/// <summary>
/// What a backend component of the configuration (src/Shared/Components) builds for its backend, once, with the
/// handler: a stage around the HTTP call (<see cref="IBackendStage"/>), a modifier of the messages themselves
/// (<see cref="IHttpMessageModifier"/>), or both. A backend without components has none, and pays for none.
/// </summary>
public interface IBackendComponent
{
}

/// <summary>
/// A stage around the HTTP part of a backend call (<c>RequestPipeline.CallBackendAsync</c>). A stage may answer without
/// calling <c>next</c> (an open circuit breaker), and sees the result of what it called.
/// </summary>
public interface IBackendStage : IBackendComponent
{
    /// <summary>Runs the stage; <paramref name="next"/> runs the stages after it and the HTTP call. Never throws.</summary>
    Task<BackendResult> InvokeAsync(Func<Task<BackendResult>> next);
}

/// <summary>
/// Changes the backend request just before it is sent (after the gateway built it, on every redirect too), and the
/// backend's final response before the gateway reads it (martian modifiers, client-credentials tokens).
/// </summary>
public interface IHttpMessageModifier : IBackendComponent
{
    /// <summary>Changes the request; false fails the step (<see cref="BackendFailure.Credentials"/>) without sending it.</summary>
    /// <param name="request">The request about to be sent.</param>
    /// <param name="redirected">True when it follows a redirect: its URL is the backend's own redirect target.</param>
    /// <param name="cancellation">The step's budget.</param>
    ValueTask<bool> ModifyRequestAsync(HttpRequestMessage request, bool redirected, CancellationToken cancellation);

    void ModifyResponse(HttpResponseMessage response);
}

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

/// <summary>
/// A backend component with a script around the call (<c>modifier/lua-backend</c>): it runs inside the other stages,
/// on the request the gateway built (before the message modifiers) and on the result after it was decoded and shaped.
/// </summary>
public interface IBackendScript : IBackendComponent
{
    /// <summary>Starts the script for one call (a VM is taken for the whole call). Never throws.</summary>
    ValueTask<BackendScriptCall> BeginAsync(Proxy.ProxyExchange exchange, Proxy.BackendDefinition backend, CancellationToken cancellation);
}

/// <summary>One call's script, from the request to the result; disposing it gives its VM back.</summary>
public abstract class BackendScriptCall : IDisposable
{
    /// <summary>True when the script's configuration skips the HTTP call (<c>skip_next</c>).</summary>
    public abstract bool SkipsCall { get; }

    /// <summary>
    /// The <c>pre</c> script on the request about to be sent (on a redirect, what it changed is applied again). A result
    /// ends the step without sending: the script failed or answered with <c>custom_error</c>.
    /// </summary>
    public abstract BackendResult? BeforeSend(HttpRequestMessage request, bool redirected);

    /// <summary>Sees the backend's final response before the gateway reads it (its headers, for <c>response.load()</c>).</summary>
    public abstract void SeeResponse(HttpResponseMessage response);

    /// <summary>The <c>post</c> script on the step's result (or on an empty one with <c>skip_next</c>); returns the step's result.</summary>
    public abstract ValueTask<BackendResult> AfterAsync(BackendResult result, CancellationToken cancellation);

    public abstract void Dispose();
}

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// A stage around the HTTP part of a backend call (<c>RequestPipeline.CallBackendAsync</c>), built by the generated
/// handler from a backend component of the configuration (src/Shared/Components), and only when the backend
/// configures it: a backend without components calls the HTTP part directly. A stage may answer without calling
/// <c>next</c> (an open circuit breaker), and sees the result of what it called.
/// </summary>
public interface IBackendStage
{
    /// <summary>Runs the stage; <paramref name="next"/> runs the stages after it and the HTTP call. Never throws.</summary>
    Task<BackendResult> InvokeAsync(Func<Task<BackendResult>> next);
}

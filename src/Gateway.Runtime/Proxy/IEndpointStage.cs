using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// The run-time part of an endpoint component of the configuration (src/Shared/Components), built by the generated
/// handler, and only when the endpoint configures it: an endpoint without components runs none. It takes part in the
/// request as an <see cref="IEndpointStage"/> (before the backend calls), an <see cref="IEndpointAnswerStage"/> (when
/// the answer is composed), or both.
/// </summary>
public interface IEndpointComponent
{
}

/// <summary>
/// A bound on an endpoint's requests in flight (<c>gateway/limits</c>), checked before anything else of the request
/// (<see cref="RequestPipeline"/>, step 1): a request it admits holds its place until the answer is written, however
/// the request ends; one it refuses is answered <c>503</c> with <c>Retry-After: 1</c>. An endpoint has at most one.
/// </summary>
public interface IEndpointAdmission : IEndpointComponent
{
    /// <summary>True when the request may go on; it then holds a place until <see cref="Leave"/>.</summary>
    bool TryEnter();

    /// <summary>Gives back the place of an admitted request.</summary>
    void Leave();

    /// <summary>Notes a refused request (for the log) before the pipeline answers it.</summary>
    /// <param name="template">The endpoint's path template, as logs name it.</param>
    void Refused(HttpContext context, string template);
}

/// <summary>A stage of an endpoint that runs before its backend calls (<see cref="RequestPipeline"/>, step 2).</summary>
public interface IEndpointStage : IEndpointComponent
{
    /// <summary>
    /// True when the stage calls services within the endpoint's time budget; the backends then share the budget with
    /// it, as several backends share it with each other (docs/compatibility.md, 85 % merge budget).
    /// </summary>
    bool CallsServices { get; }

    /// <summary>True when the request goes on to the next stage and the backends; false when the stage wrote the answer itself.</summary>
    Task<bool> RunAsync(ProxyExchange exchange);
}

/// <summary>
/// A stage of an endpoint that runs when an answer with data is composed (<see cref="RequestPipeline"/>, step 4), after
/// the status is set and before the gateway's own headers and the body: it may add headers, which the gateway's own
/// (completeness, <c>cache_ttl</c>'s <c>Cache-Control</c>) then replace.
/// </summary>
public interface IEndpointAnswerStage : IEndpointComponent
{
    void Apply(ProxyExchange exchange, HttpResponse response);
}

/// <summary>
/// A stage of an endpoint that may rewrite the composed data of an answer (<see cref="RequestPipeline"/>, step 4), after
/// the merge, <c>flatmap_filter</c> and static data and before the answer stages: <c>modifier/lua-proxy</c>'s post
/// script.
/// </summary>
public interface IEndpointDataStage : IEndpointComponent
{
    /// <summary>
    /// Runs on the data. Returns null to go on, with <paramref name="replaced"/> holding new data (or null to keep it)
    /// and <paramref name="complete"/> the answer's completeness; or the task of an answer the stage wrote itself.
    /// </summary>
    Task? Transform(ProxyExchange exchange, ReadOnlySpan<byte> data, ref bool complete, out Http.PooledBuffer? replaced);

    /// <summary>The same for a <c>no-op</c> endpoint, on the backend's response before it is relayed; null to go on.</summary>
    Task<bool> TransformPassThroughAsync(ProxyExchange exchange, HttpResponseMessage response);
}

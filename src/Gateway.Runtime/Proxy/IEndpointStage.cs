namespace Gateway.Runtime.Proxy;

/// <summary>
/// A stage of an endpoint that runs before its backend calls (<see cref="RequestPipeline"/>, step 2), built by the
/// generated handler from an endpoint component of the configuration (src/Shared/Components), and only when the
/// endpoint configures it: an endpoint without components runs no stage at all.
/// </summary>
public interface IEndpointStage
{
    /// <summary>
    /// True when the stage calls services within the endpoint's time budget; the backends then share the budget with
    /// it, as several backends share it with each other (docs/compatibility.md, 85 % merge budget).
    /// </summary>
    bool CallsServices { get; }

    /// <summary>True when the request goes on to the next stage and the backends; false when the stage wrote the answer itself.</summary>
    Task<bool> RunAsync(ProxyExchange exchange);
}

using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// A component of the configuration root (a service-level namespace such as <c>security/cors</c>), built by the
/// generated <c>CompiledGateway</c> from src/Shared/Components and only when the configuration holds it. It may set up
/// the host once, and, when it is also an <see cref="IGatewayStage"/>, run on every request before routing.
/// </summary>
public interface IGatewayComponent
{
    /// <summary>Called once while the server is built, before it starts: services, logging, server options.</summary>
    void ConfigureHost(GatewayHost host);
}

/// <summary>
/// A root component's per-request stage: it runs before the built-in endpoints and routing
/// (RequestPipeline, step 1), on every request, in the registry's order. A gateway without such components runs none.
/// </summary>
public interface IGatewayStage : IGatewayComponent
{
    /// <summary>
    /// Runs the stage. Returns null to let the request go on, or the task of the answer the stage wrote itself. It must
    /// not throw for any client input; whatever it throws becomes the guard's 500.
    /// </summary>
    Task? TryAnswer(HttpContext context);
}

/// <summary>
/// A root component that sets defaults of the run-time settings (the root's server keys): applied to a fresh
/// <see cref="GatewayOptions"/> before the environment and the command line are read, so an operator's setting wins.
/// </summary>
public interface IGatewayDefaults : IGatewayComponent
{
    void ApplyDefaults(GatewayOptions options);
}

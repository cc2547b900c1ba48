using Microsoft.AspNetCore.Builder;

namespace Gateway.Runtime.Hosting;

/// <summary>What a root component may set up while the server is built (<see cref="IGatewayComponent.ConfigureHost"/>).</summary>
public sealed class GatewayHost
{
    internal GatewayHost(WebApplicationBuilder builder, GatewayOptions options)
    {
        Builder = builder;
        Options = options;
    }

    /// <summary>The application being built: its services, logging and Kestrel options.</summary>
    public WebApplicationBuilder Builder { get; }

    /// <summary>The run-time settings from the command line and the environment.</summary>
    public GatewayOptions Options { get; }
}

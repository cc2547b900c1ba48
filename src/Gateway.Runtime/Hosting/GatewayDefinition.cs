using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Routing;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// What the generator compiled from the configuration: the default port, the backend host groups, the root components and the client address policy, and a factory
/// that builds the route table once the host groups (with any operator overrides) exist.
/// </summary>
public sealed class GatewayDefinition
{
    private readonly Func<BackendRegistry, RouteEntry[]> _createRoutes;

    public GatewayDefinition(
        int port,
        string[][] hostGroups,
        Func<BackendRegistry, RouteEntry[]> createRoutes,
        bool echoEndpoint = false,
        bool debugEndpoint = false,
        IGatewayComponent[]? components = null,
        int endpointCount = 0,
        string configurationHash = "",
        ClientAddressPolicy? clientAddresses = null,
        IServiceDiscovery? serviceDiscovery = null)
    {
        ServiceDiscovery = serviceDiscovery;
        Port = port;
        EndpointCount = endpointCount;
        ConfigurationHash = configurationHash;
        ClientAddresses = clientAddresses;
        Components = components ?? [];
        EchoEndpoint = echoEndpoint;
        DebugEndpoint = debugEndpoint;
        HostGroups = hostGroups;
        _createRoutes = createRoutes;
    }

    /// <summary>The configuration's <c>port</c> (8080 when it has none).</summary>
    public int Port { get; }

    /// <summary><c>echo_endpoint</c>: <c>/__echo/</c> answers with a description of the request.</summary>
    public bool EchoEndpoint { get; }

    /// <summary><c>debug_endpoint</c>: <c>/__debug/</c> answers <c>{"message":"pong"}</c>.</summary>
    public bool DebugEndpoint { get; }

    /// <summary>The components of the configuration root, in the registry's order (empty when it has none).</summary>
    public IReadOnlyList<IGatewayComponent> Components { get; }

    /// <summary>How many endpoints the configuration declares (<c>gateway version</c>).</summary>
    public int EndpointCount { get; }

    /// <summary>
    /// <c>sha256:</c> and the hex SHA-256 of the code generated from the configuration (<c>gateway version</c>): equal for
    /// two configurations that differ only in formatting or <c>@comment</c> keys, different whenever behaviour differs.
    /// </summary>
    public string ConfigurationHash { get; }

    /// <summary>
    /// Who may tell the client's address (<c>router.trusted_proxies</c>); null when nobody may and the connection's peer
    /// is the client. For components that work per client (<see cref="ClientAddressPolicy.ClientAddress"/>).
    /// </summary>
    public ClientAddressPolicy? ClientAddresses { get; }

    /// <summary>What fills the host groups of backends with <c>"sd": "dns"</c>; null when none has.</summary>
    public IServiceDiscovery? ServiceDiscovery { get; }

    /// <summary>Distinct sanitised host lists, in the order backends first use them.</summary>
    public IReadOnlyList<string[]> HostGroups { get; }

    public RouteEntry[] CreateRoutes(BackendRegistry backends) => _createRoutes(backends);
}

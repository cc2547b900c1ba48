using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components;

/// <summary>Where in the configuration an <c>extra_config</c> namespace may appear.</summary>
[Flags]
internal enum ConfigScope
{
    Root = 1,
    Endpoint = 2,
    Backend = 4,
}

/// <summary>An <c>extra_config</c> namespace a component reads: its name, the legacy names KrakenD still accepts, and where it may appear.</summary>
internal sealed class ConfigNamespace
{
    public ConfigNamespace(string name, ConfigScope scopes, params string[] legacyNames)
    {
        Name = name;
        Scopes = scopes;
        LegacyNames = legacyNames;
    }

    public string Name { get; }

    public ConfigScope Scopes { get; }

    public string[] LegacyNames { get; }

    /// <summary>True for the name itself or a legacy name.</summary>
    public bool IsNamed(string name) => name == Name || Array.IndexOf(LegacyNames, name) >= 0;
}

/// <summary>
/// The model of an endpoint-level component: what its reader found, equatable so that an edit which changes no meaning
/// re-emits nothing. Each component derives its own record.
/// </summary>
internal abstract record EndpointComponentModel;

/// <summary>
/// What an endpoint component's reader may use: the value readers, the file, the host groups, the route, the endpoint's
/// method, path and output encoding, and the models of the root's components (read first, so gateway-wide settings can
/// apply).
/// </summary>
internal sealed record EndpointReadContext(
    ConfigReader Read,
    ConfigSource Source,
    Func<List<string>, int> HostGroup,
    List<RouteSegmentModel>? Route,
    List<string>? RootHosts,
    string Method,
    string Path,
    string OutputEncoding,
    IReadOnlyList<GatewayComponentModel> RootComponents);

/// <summary>The model of a component of the configuration root (a service-level namespace), equatable like every model record.</summary>
internal abstract record GatewayComponentModel;

/// <summary>What a root component's reader may use: the value readers and the file.</summary>
internal sealed record GatewayReadContext(ConfigReader Read, ConfigSource Source);

/// <summary>The model of a backend-level component, equatable like every model record.</summary>
internal abstract record BackendComponentModel;

/// <summary>What a backend component's reader may use: the value readers, the file, and the host groups (for a service the component calls itself).</summary>
internal sealed record BackendReadContext(ConfigReader Read, ConfigSource Source, Func<List<string>, int> HostGroup)
{
    /// <summary>The backend's position in its endpoint's list.</summary>
    public int Index { get; init; }

    /// <summary>The endpoint's method and path, as messages name it: <c>GET /users/{id}</c>.</summary>
    public string Endpoint { get; init; } = string.Empty;

    /// <summary>The endpoint's route parameters, in path order.</summary>
    public EquatableArray<string> RouteParameters { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The endpoint's <c>sequential_propagated_params</c> this backend receives (those of earlier backends).</summary>
    public EquatableArray<PropagatedParamModel> Propagated { get; init; } = EquatableArray<PropagatedParamModel>.Empty;
}

/// <summary>
/// A component at one level of the configuration: its namespace, and the reader that turns the namespace's object
/// into its model (null on errors, which the reader reports at their place).
/// </summary>
internal sealed class Component<TContext, TModel>
    where TModel : class
{
    public Component(ConfigNamespace ns, Func<JsonNode, TContext, TModel?> read)
    {
        Namespace = ns;
        Read = read;
    }

    public ConfigNamespace Namespace { get; }

    public Func<JsonNode, TContext, TModel?> Read { get; }
}

/// <summary>
/// Every <c>extra_config</c> namespace the gateway understands, one line per component. A component is one folder
/// under src/Shared/Components: its configuration reader and model (<c>*.Config.cs</c>, compiled into the generator
/// and the runtime), its emitter part (<c>*.Emitter.cs</c>, generator only) and its run-time stage (<c>*.Stage.cs</c>,
/// runtime only). A namespace not listed here is refused with GW2001 wherever it appears.
/// </summary>
internal static class ComponentRegistry
{
    /// <summary>
    /// The components of the configuration root, in the order their stages run on every request, before routing
    /// (RequestPipeline, step 1). Adding one is a folder and a line here (and its emitter's line in
    /// ComponentRegistry.Emitter.cs).
    /// </summary>
    public static readonly Component<GatewayReadContext, GatewayComponentModel>[] GatewayComponents =
    {
        new(Cors.CorsConfig.Namespace, Cors.CorsConfig.Read),
        new(RateLimit.RateLimitConfig.SettingsNamespace, RateLimit.RateLimitConfig.ReadSettings),
        new(TelemetryLogging.TelemetryLoggingConfig.Namespace, TelemetryLogging.TelemetryLoggingConfig.Read),
        new(OpenTelemetry.OpenTelemetryConfig.Namespace, OpenTelemetry.OpenTelemetryConfig.Read),
        new(Lua.LuaConfig.EndpointNamespace, Lua.LuaConfig.ReadService),
    };

    /// <summary>
    /// The endpoint-level components, in the order their stages run: before the backend calls (RequestPipeline, step
    /// 2) and when the answer is composed (step 4). Adding one is a folder and a line here (and its emitter's line in
    /// ComponentRegistry.Emitter.cs).
    /// </summary>
    public static readonly Component<EndpointReadContext, EndpointComponentModel>[] EndpointComponents =
    {
        // The bound on requests in flight comes before everything, the client body included (RequestPipeline, step 1):
        // a refusal must cost nothing, and a slow upload must hold its place.
        new(Limits.LimitsConfig.Namespace, Limits.LimitsConfig.Read),
        // The token is checked first: nothing, not even proxy-chain's services, is called for a client it refuses.
        new(JwtValidator.JwtValidatorConfig.Namespace, JwtValidator.JwtValidatorConfig.Read),
        // KrakenD's order: the token is checked before the router-level script, which runs before the router's rate limit.
        new(Lua.LuaConfig.EndpointNamespace, Lua.LuaConfig.ReadEndpoint),
        new(RateLimit.RateLimitConfig.RouterNamespace, RateLimit.RateLimitConfig.ReadRouter),
        new(ProxyChain.ProxyChainConfig.Namespace, ProxyChain.ProxyChainConfig.Read),
        // The proxy-level script sees the request the backends are about to get, and the answer they merged into.
        new(Lua.LuaConfig.ProxyNamespace, Lua.LuaConfig.ReadProxy),
        new(ResponseHeaders.ResponseHeadersConfig.Namespace, ResponseHeaders.ResponseHeadersConfig.Read),
    };

    /// <summary>
    /// The backend-level components, in the order their stages wrap a backend's HTTP call (the first is outermost).
    /// Adding one is a folder and a line here (and its emitter's line in ComponentRegistry.Emitter.cs).
    /// </summary>
    public static readonly Component<BackendReadContext, BackendComponentModel>[] BackendComponents =
    {
        new(CircuitBreaker.CircuitBreakerConfig.Namespace, CircuitBreaker.CircuitBreakerConfig.Read),
        new(RateLimit.RateLimitConfig.ProxyNamespace, RateLimit.RateLimitConfig.ReadProxy),
        // Inside the circuit breaker and the rate limit, outside martian, as KrakenD stacks them.
        new(Lua.LuaConfig.BackendNamespace, Lua.LuaConfig.ReadBackend),
        new(Martian.MartianConfig.Namespace, Martian.MartianConfig.Read),
        new(ClientCredentials.ClientCredentialsConfig.Namespace, ClientCredentials.ClientCredentialsConfig.Read),
    };

    /// <summary>Every namespace: the core ones the parser reads itself, then the components'.</summary>
    public static readonly ConfigNamespace[] Namespaces =
    {
        Router.RouterConfig.Namespace,
        Proxy.ProxyConfig.Namespace,
        BackendHttp.BackendHttpConfig.Namespace,
        BackendHttp.BackendHttpConfig.ClientNamespace,
        RequestTemplates.RequestTemplatesConfig.Namespace,
        Step.StepConfig.Namespace,
        Step.FlowConfig.Namespace,
        Debug.DebugConfig.Namespace,
    };

    /// <summary>All namespaces: <see cref="Namespaces"/>, the observe-only ones and those of the components.</summary>
    public static IEnumerable<ConfigNamespace> All()
    {
        foreach (ConfigNamespace ns in Namespaces)
        {
            yield return ns;
        }

        foreach ((ConfigNamespace ns, string _) in ObservedOnly.ObservedOnlyConfig.Namespaces)
        {
            yield return ns;
        }

        foreach (Component<GatewayReadContext, GatewayComponentModel> component in GatewayComponents)
        {
            yield return component.Namespace;
        }

        foreach (Component<EndpointReadContext, EndpointComponentModel> component in EndpointComponents)
        {
            yield return component.Namespace;
        }

        foreach (Component<BackendReadContext, BackendComponentModel> component in BackendComponents)
        {
            yield return component.Namespace;
        }
    }
}

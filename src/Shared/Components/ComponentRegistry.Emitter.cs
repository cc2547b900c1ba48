using System;
using System.Collections.Generic;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components;

/// <summary>
/// The generator's side of <see cref="ComponentRegistry"/>: for each component's model, the handler members it needs,
/// the expression that builds its run-time stage, and how the handler's doc comment describes it. One line per
/// component in each switch.
/// </summary>
internal static class ComponentEmitters
{
    /// <summary>
    /// The type and constructor arguments of a root component's run-time object, built in <c>CompiledGateway</c>; null
    /// when the component needs none (its settings are compiled into the endpoints that use them).
    /// </summary>
    public static (string Type, string[] Arguments)? GatewayComponentConstruction(GatewayComponentModel component) => component switch
    {
        Cors.CorsModel cors => (Cors.CorsEmitter.TypeName, Cors.CorsEmitter.Arguments(cors)),
        Server.ServerModel server => (Server.ServerEmitter.TypeName, Server.ServerEmitter.Arguments(server)),
        Router.RouterSettingsModel router => (Router.RouterEmitter.SettingsTypeName, Router.RouterEmitter.SettingsArguments(router)),
        RateLimit.RateLimitSettingsModel settings => RateLimit.RateLimitEmitter.SharedArguments(settings) is { } shared ? (RateLimit.RateLimitEmitter.SharedTypeName, shared) : null,
        TelemetryLogging.TelemetryLoggingModel logging => (TelemetryLogging.TelemetryLoggingEmitter.TypeName, TelemetryLogging.TelemetryLoggingEmitter.Arguments(logging)),
        OpenTelemetry.OpenTelemetryModel otel => (OpenTelemetry.OpenTelemetryEmitter.TypeName, OpenTelemetry.OpenTelemetryEmitter.Arguments(otel)),
        Lua.LuaServiceModel => null, // a stage of every endpoint (EndpointStageOfRoot)
        _ => throw new InvalidOperationException($"no emitter for {component.GetType().Name}"),
    };

    /// <summary>
    /// A root component that runs as the first stage of every endpoint (the service-level <c>modifier/lua-endpoint</c>):
    /// the expression of its stage in the handler; null for the others.
    /// </summary>
    public static string? EndpointStageOfRoot(GatewayComponentModel component) => component switch
    {
        Lua.LuaServiceModel => Lua.LuaEmitter.ServiceStageExpression,
        _ => null,
    };

    /// <summary>The handler members of a root component's stage (<see cref="EndpointStageOfRoot"/>).</summary>
    public static void EmitRootMembers(SourceWriter w, EndpointModel endpoint, GatewayComponentModel component)
    {
        if (component is Lua.LuaServiceModel service)
        {
            Lua.LuaEmitter.EmitServiceMembers(w, endpoint, service);
        }
    }

    public static string Describe(GatewayComponentModel component) => component switch
    {
        Cors.CorsModel cors => Cors.CorsEmitter.Describe(cors),
        Server.ServerModel server => Server.ServerEmitter.Describe(server),
        Router.RouterSettingsModel router => Router.RouterEmitter.Describe(router),
        RateLimit.RateLimitSettingsModel settings => RateLimit.RateLimitEmitter.Describe(settings),
        TelemetryLogging.TelemetryLoggingModel logging => TelemetryLogging.TelemetryLoggingEmitter.Describe(logging),
        OpenTelemetry.OpenTelemetryModel otel => OpenTelemetry.OpenTelemetryEmitter.Describe(otel),
        Lua.LuaServiceModel service => Lua.LuaEmitter.Describe(service.Script, "modifier/lua-endpoint"),
        _ => component.GetType().Name,
    };

    public static void EmitMembers(SourceWriter w, EndpointModel endpoint, EndpointComponentModel component, Dictionary<string, string> paths)
    {
        switch (component)
        {
            case Limits.ConcurrencyLimitModel:
                break; // no members: the stage is one constructor call
            case JwtValidator.JwtValidatorModel jwt:
                JwtValidator.JwtValidatorEmitter.EmitMembers(w, jwt);
                break;
            case RateLimit.RouterRateLimitModel limit:
                RateLimit.RateLimitEmitter.EmitMembers(w, limit);
                break;
            case ProxyChain.ProxyChainModel chain:
                ProxyChain.ProxyChainEmitter.EmitMembers(w, endpoint, chain, paths);
                break;
            case ResponseHeaders.ResponseHeadersModel headers:
                ResponseHeaders.ResponseHeadersEmitter.EmitMembers(w, headers);
                break;
            case Lua.LuaEndpointModel lua:
                Lua.LuaEmitter.EmitEndpointMembers(w, endpoint, lua);
                break;
            case Lua.LuaProxyModel lua:
                Lua.LuaEmitter.EmitProxyMembers(w, endpoint, lua);
                break;
            default:
                throw new InvalidOperationException($"no emitter for {component.GetType().Name}");
        }
    }

    public static string StageExpression(EndpointComponentModel component) => component switch
    {
        Limits.ConcurrencyLimitModel limit => Limits.LimitsEmitter.StageExpression(limit),
        JwtValidator.JwtValidatorModel => JwtValidator.JwtValidatorEmitter.StageExpression,
        RateLimit.RouterRateLimitModel => RateLimit.RateLimitEmitter.StageExpression,
        ProxyChain.ProxyChainModel => ProxyChain.ProxyChainEmitter.StageExpression,
        ResponseHeaders.ResponseHeadersModel => ResponseHeaders.ResponseHeadersEmitter.StageExpression,
        Lua.LuaEndpointModel => Lua.LuaEmitter.EndpointStageExpression,
        Lua.LuaProxyModel => Lua.LuaEmitter.ProxyStageExpression,
        _ => throw new InvalidOperationException($"no emitter for {component.GetType().Name}"),
    };

    /// <summary>True for a component whose stage runs before the client request is read (an IEndpointAdmission).</summary>
    public static bool RunsBeforeTheRequest(EndpointComponentModel component) => component is Limits.ConcurrencyLimitModel;

    /// <summary>True for a component whose stage runs when the answer is composed (an IEndpointAnswerStage), not before the backend calls.</summary>
    public static bool RunsOnTheAnswer(EndpointComponentModel component) => component is ResponseHeaders.ResponseHeadersModel;

    /// <summary>An argument an endpoint component adds to each of its endpoint's backend definitions; null when none.</summary>
    public static string? BackendArgument(EndpointComponentModel component) => component switch
    {
        ResponseHeaders.ResponseHeadersModel => ResponseHeaders.ResponseHeadersEmitter.BackendArgument,
        _ => null,
    };

    /// <summary>The expression that builds a backend component's run-time stage, in the backend's definition.</summary>
    public static string BackendStageExpression(BackendComponentModel component) => component switch
    {
        CircuitBreaker.CircuitBreakerModel breaker => CircuitBreaker.CircuitBreakerEmitter.StageExpression(breaker),
        RateLimit.ProxyRateLimitModel limit => RateLimit.RateLimitEmitter.BackendStageExpression(limit),
        Martian.MartianModel martian => Martian.MartianEmitter.StageExpression(martian),
        ClientCredentials.ClientCredentialsModel credentials => ClientCredentials.ClientCredentialsEmitter.StageExpression(credentials),
        Lua.LuaBackendModel lua => Lua.LuaEmitter.BackendStageExpression(lua),
        _ => throw new InvalidOperationException($"no emitter for {component.GetType().Name}"),
    };

    public static string Describe(BackendComponentModel component) => component switch
    {
        CircuitBreaker.CircuitBreakerModel breaker => CircuitBreaker.CircuitBreakerEmitter.Describe(breaker),
        RateLimit.ProxyRateLimitModel limit => RateLimit.RateLimitEmitter.Describe(limit),
        Martian.MartianModel martian => Martian.MartianEmitter.Describe(martian),
        ClientCredentials.ClientCredentialsModel => "an OAuth2 client-credentials token",
        Lua.LuaBackendModel lua => Lua.LuaEmitter.Describe(lua.Script, "modifier/lua-backend"),
        _ => component.GetType().Name,
    };

    public static string Describe(EndpointComponentModel component) => component switch
    {
        Limits.ConcurrencyLimitModel limit => Limits.LimitsEmitter.Describe(limit),
        JwtValidator.JwtValidatorModel jwt => JwtValidator.JwtValidatorEmitter.Describe(jwt),
        RateLimit.RouterRateLimitModel limit => "rate limits, refused here when over: " + RateLimit.RateLimitEmitter.Describe(limit),
        ProxyChain.ProxyChainModel chain => $"the APISIX proxy-chain calls {chain.Services.Count} service(s) in order, and the backends receive the merged JSON object as their body",
        ResponseHeaders.ResponseHeadersModel headers => ResponseHeaders.ResponseHeadersEmitter.Describe(headers),
        Lua.LuaEndpointModel lua => Lua.LuaEmitter.Describe(lua.Script, "modifier/lua-endpoint"),
        Lua.LuaProxyModel lua => Lua.LuaEmitter.Describe(lua.Script, "modifier/lua-proxy"),
        _ => component.GetType().Name,
    };
}

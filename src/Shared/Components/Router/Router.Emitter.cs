using System.Collections.Generic;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Router;

/// <summary>
/// The generated part of <c>router</c>: the client address policy, built once in <c>CompiledGateway</c>, and the
/// settings each endpoint's definition carries (error messages, compression, the policy).
/// </summary>
internal static class RouterEmitter
{
    private const string PolicyType = "global::Gateway.Runtime.Http.ClientAddressPolicy";

    /// <summary>The run-time type of <see cref="RouterSettingsModel"/>, a root component.</summary>
    public const string SettingsTypeName = "global::Gateway.Components.Router.RouterSettings";

    /// <summary>The constructor arguments of <see cref="SettingsTypeName"/>: only the options that differ from KrakenD's defaults.</summary>
    public static string[] SettingsArguments(RouterSettingsModel settings)
    {
        RouterSettingsModel defaults = RouterSettingsModel.Default;
        var arguments = new List<string>();
        if (settings.HealthPath != defaults.HealthPath)
        {
            arguments.Add($"healthPath: {(settings.HealthPath is null ? "null" : CSharp.String(settings.HealthPath))}");
        }

        Flag(arguments, "autoOptions", settings.AutoOptions, defaults.AutoOptions);
        Flag(arguments, "methodNotAllowed", settings.MethodNotAllowed, defaults.MethodNotAllowed);
        Flag(arguments, "redirectTrailingSlash", settings.RedirectTrailingSlash, defaults.RedirectTrailingSlash);
        Flag(arguments, "redirectFixedPath", settings.RedirectFixedPath, defaults.RedirectFixedPath);
        Flag(arguments, "removeExtraSlash", settings.RemoveExtraSlash, defaults.RemoveExtraSlash);
        Flag(arguments, "accessLog", settings.AccessLog, defaults.AccessLog);
        if (settings.LoggerSkipPaths.Count > 0)
        {
            arguments.Add($"loggerSkipPaths: {Strings(settings.LoggerSkipPaths)}");
        }

        if (settings.NotFoundBody is not null)
        {
            arguments.Add($"notFoundBody: {CSharp.String(settings.NotFoundBody)}");
        }

        if (settings.MethodNotAllowedBody is not null)
        {
            arguments.Add($"methodNotAllowedBody: {CSharp.String(settings.MethodNotAllowedBody)}");
        }

        return arguments.ToArray();
    }

    /// <summary>The comment above the settings in <c>CompiledGateway</c>.</summary>
    public static string Describe(RouterSettingsModel settings)
    {
        var parts = new List<string>();
        parts.Add(settings.HealthPath is null ? "no health endpoint" : $"health at {settings.HealthPath}");
        if (settings.AutoOptions)
        {
            parts.Add("automatic OPTIONS");
        }

        if (!settings.MethodNotAllowed)
        {
            parts.Add("404 instead of 405");
        }

        if (!settings.RedirectTrailingSlash || !settings.RedirectFixedPath)
        {
            parts.Add(settings.RedirectTrailingSlash ? "no fixed-path redirects" : settings.RedirectFixedPath ? "no trailing-slash redirects" : "no redirects");
        }

        if (settings.RemoveExtraSlash)
        {
            parts.Add("paths cleaned before routing");
        }

        if (!settings.AccessLog)
        {
            parts.Add("no access log by default");
        }
        else if (settings.LoggerSkipPaths.Count > 0)
        {
            parts.Add($"{settings.LoggerSkipPaths.Count} path(s) left out of the access log");
        }

        if (settings.NotFoundBody is not null || settings.MethodNotAllowedBody is not null)
        {
            parts.Add("JSON error bodies");
        }

        return "router: " + string.Join(", ", parts);
    }

    private static void Flag(List<string> arguments, string name, bool value, bool defaultValue)
    {
        if (value != defaultValue)
        {
            arguments.Add($"{name}: {(value ? "true" : "false")}");
        }
    }

    /// <summary>The <c>EndpointDefinition</c> arguments the router sets; none with the defaults.</summary>
    public static IEnumerable<string> EndpointArguments(GatewayModel model)
    {
        RouterModel router = model.Router;
        if (router.ReturnErrorMessage)
        {
            yield return "returnErrorMessage: true";
        }

        if (!router.Compression)
        {
            yield return "compression: false";
        }

        if (router.ClientAddress is not null)
        {
            yield return $"clientAddresses: global::{model.Namespace}.CompiledGateway.ClientAddresses";
        }
    }

    /// <summary>The <c>GatewayDefinition</c> arguments the router sets; none with the defaults.</summary>
    public static IEnumerable<string> DefinitionArguments(RouterModel router)
    {
        if (router.ClientAddress is not null)
        {
            yield return "clientAddresses: ClientAddresses";
        }
    }

    /// <summary>
    /// <c>CompiledGateway.ClientAddresses</c>, before <c>Definition</c> (static initialisers run in order, and the
    /// definition refers to it).
    /// </summary>
    public static void EmitPolicy(SourceWriter w, RouterModel router)
    {
        if (router.ClientAddress is not { } client)
        {
            return;
        }

        w.Line("/// <summary>");
        w.Line("/// router.forwarded_by_client_ip: a connection from a trusted proxy may tell the client's address in these headers,");
        w.Line("/// read from the right, skipping trusted proxies (docs/configuration.md, client address).");
        w.Line("/// </summary>");
        w.Line($"internal static {PolicyType} ClientAddresses {{ get; }} = new(");
        w.Indent();
        w.Line($"trustedProxies: {Strings(client.TrustedProxies)},");
        w.Line($"headers: {Strings(client.Headers)});");
        w.Outdent();
        w.Line();
    }

    private static string Strings(EquatableArray<string> values)
    {
        var items = new List<string>();
        foreach (string value in values)
        {
            items.Add(CSharp.String(value));
        }

        return $"new[] {{ {string.Join(", ", items)} }}";
    }
}

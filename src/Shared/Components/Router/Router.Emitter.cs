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

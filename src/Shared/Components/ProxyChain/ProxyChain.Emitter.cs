using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.ProxyChain;

/// <summary>
/// The generated part of a proxy-chain endpoint: the stage's construction (services with their method and host group,
/// in calling order) and the function that renders each service's URL with the shared URL-part emitter.
/// </summary>
internal static class ProxyChainEmitter
{
    private const string Runtime = HandlerEmitter.Runtime;
    private const string Stage = "global::Gateway.Components.ProxyChain";

    /// <summary>The expression, in the handler's constructor, that builds the stage.</summary>
    public const string StageExpression = "CreateProxyChain(backends)";

    /// <summary>The APISIX proxy-chain services: their definitions and URL builders.</summary>
    public static void EmitMembers(SourceWriter w, EndpointModel endpoint, ProxyChainModel chain, Dictionary<string, string> paths)
    {
        w.Line();
        w.Line("/// <summary>The proxy-chain services, in calling order, each on its host group.</summary>");
        w.Open($"private static {Stage}.ProxyChainDefinition CreateProxyChain({Runtime}.Forwarding.BackendRegistry backends)");
        w.Line($"return new {Stage}.ProxyChainDefinition(");
        w.Indent();
        w.Line($"new {Stage}.ProxyChainService[]");
        w.Line("{");
        w.Indent();
        for (int i = 0; i < chain.Services.Count; i++)
        {
            ProxyChainServiceModel service = chain.Services[i];
            w.Line($"new({CSharp.HttpMethod(service.Method)}, backends.Group({service.HostGroup.ToString(CultureInfo.InvariantCulture)})), // {i + 1}. {service.Method} {CSharp.Comment(service.UrlPattern)}");
        }

        w.Outdent();
        w.Line("},");
        w.Line("BuildProxyChainUrl,");
        w.Line($"tokenHeader: {(chain.TokenHeader is null ? "null" : CSharp.String(chain.TokenHeader))});");
        w.Outdent();
        w.Close();
        w.Line();
        w.Line("/// <summary>Service <paramref name=\"service\"/>'s URL on <paramref name=\"host\"/>; null when a value cannot be put in it.</summary>");
        w.Open($"private static string? BuildProxyChainUrl({Runtime}.Proxy.ProxyExchange exchange, int service, string host)");
        w.Line($"var url = new {Runtime}.Http.UrlBuilder(stackalloc byte[256]);");
        w.Open("try");
        w.Open("switch (service)");
        for (int i = 0; i < chain.Services.Count; i++)
        {
            w.Line($"case {i.ToString(CultureInfo.InvariantCulture)}:");
            w.Indent();
            w.Line("url.AppendLiteral(host);");
            HandlerEmitter.EmitUrlParts(w, endpoint, chain.Services[i].Url, paths, "return null;");
            w.Line("return url.ToUrl();");
            w.Outdent();
        }

        w.Line("default:");
        w.Line("    return null;");
        w.Close();
        w.Close();
        w.Open("finally");
        w.Line("url.Dispose();");
        w.Close();
        w.Close();
    }
}

using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Proxy;

/// <summary>What an endpoint's <c>proxy</c> namespace asks for.</summary>
internal sealed record EndpointProxyOptions(bool Sequential, StaticDataModel? Static, EquatableArray<FlatmapOperationModel> Flatmap, JsonProperty? FlatmapNode, JsonProperty? PropagatedNode = null);

/// <summary>
/// KrakenD's <c>proxy</c> namespace: on an endpoint, <c>sequential</c> (the sequential proxy), <c>static</c> data and
/// the endpoint <c>flatmap_filter</c>; on a backend, the backend <c>flatmap_filter</c> (docs/configuration.md).
/// </summary>
internal static class ProxyConfig
{
    public static readonly ConfigNamespace Namespace = new("proxy", ConfigScope.Endpoint | ConfigScope.Backend, "github.com/devopsfaith/krakend/proxy");

    private static readonly string[] EndpointSupported = { "sequential", "sequential_propagated_params", "static", "flatmap_filter", Keys.Comment };

    private static readonly string[] EndpointNotYet = { "combiner", "strategy", "force_sandboxed_request" };

    private static readonly string[] BackendSupported = { "flatmap_filter", Keys.Comment };

    private static readonly string[] BackendNotYet = { "shadow", "shadow_timeout" };

    public static EndpointProxyOptions ReadEndpoint(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } proxy)
        {
            return new EndpointProxyOptions(false, null, EquatableArray<FlatmapOperationModel>.Empty, null);
        }

        read.CheckKeys(proxy, "the endpoint's \"proxy\" options", EndpointSupported, EndpointNotYet);
        bool sequential = read.ParseBool(proxy.Find("sequential"));
        StaticDataModel? staticData = read.ParseStatic(proxy.Find("static"));
        JsonProperty? flatmapNode = proxy.Find("flatmap_filter");
        return new EndpointProxyOptions(sequential, staticData, read.ParseFlatmap(flatmapNode), flatmapNode, proxy.Find("sequential_propagated_params"));
    }

    /// <summary>
    /// <c>sequential_propagated_params</c>: each entry (<c>resp0</c>, <c>resp0_user.id</c>; KrakenD reads the leading
    /// <c>r</c> in either case) becomes the request param <c>Resp0</c>, <c>Resp0_user.id</c> of every later backend,
    /// resolved as the placeholder <c>{resp0_user.id}</c> would be there. Errors are reported at the entry.
    /// </summary>
    public static EquatableArray<PropagatedParamModel> ReadPropagated(JsonProperty? property, ConfigReader read, ConfigSource source, int backendCount, List<string?> groups, bool sequential)
    {
        if (property is null || !read.Expect(property, JsonKind.Array, "an array of responses or response fields, such as [\"resp0\", \"resp1_user.id\"]"))
        {
            return EquatableArray<PropagatedParamModel>.Empty;
        }

        var parameters = new List<PropagatedParamModel>();
        var templates = new TemplateParser(read.Diagnostics, source);
        // Read as from after the last backend: any earlier backend may be named; each later backend gets the values of
        // the backends before it.
        var scope = new TemplateParser.Scope(new List<string>(), sequential && backendCount > 1, backendCount, groups);
        foreach (JsonNode item in read.StringItems(property, "a response or response field such as \"resp0\" or \"resp0_user.id\""))
        {
            string entry = item.Text!;
            if (entry.Length < 5 || (entry[0] != 'r' && entry[0] != 'R') || string.CompareOrdinal(entry, 1, "esp", 0, 3) != 0 || entry[4] < '0' || entry[4] > '9')
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{entry}\" is not a response of an earlier backend: write \"respN\" for backend N's whole body or \"respN_field\" for one of its fields", item);
                continue;
            }

            string placeholder = "r" + entry.Substring(1);
            if (templates.ParseText("{" + placeholder + "}", item, scope, TemplatePosition.JsonText) is not { } parts)
            {
                continue;
            }

            TemplatePartModel value = parts[0];
            if (value.Kind is not (TemplatePartKind.ResponseValue or TemplatePartKind.WholeResponse))
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{entry}\" is not a response of an earlier backend: write \"respN\" or \"respN_field\"", item);
                continue;
            }

            if (value.Source >= backendCount - 1)
            {
                read.Diagnostics.Report(DiagnosticKind.NoEffect, $"\"{entry}\" has no effect: no backend runs after backend {value.Source}", item);
                continue;
            }

            parameters.Add(new PropagatedParamModel("R" + entry.Substring(1), value));
        }

        return EquatableArray.From(parameters);
    }

    /// <summary>The backend's <c>flatmap_filter</c>; empty when there is none.</summary>
    public static EquatableArray<FlatmapOperationModel> ReadBackend(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } proxy)
        {
            return EquatableArray<FlatmapOperationModel>.Empty;
        }

        read.CheckKeys(proxy, "the backend's \"proxy\" options", BackendSupported, BackendNotYet);
        return read.ParseFlatmap(proxy.Find("flatmap_filter"));
    }
}

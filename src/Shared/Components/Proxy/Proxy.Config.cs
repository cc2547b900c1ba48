using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Proxy;

/// <summary>What an endpoint's <c>proxy</c> namespace asks for.</summary>
internal sealed record EndpointProxyOptions(bool Sequential, StaticDataModel? Static, EquatableArray<FlatmapOperationModel> Flatmap, JsonProperty? FlatmapNode);

/// <summary>
/// KrakenD's <c>proxy</c> namespace: on an endpoint, <c>sequential</c> (the sequential proxy), <c>static</c> data and
/// the endpoint <c>flatmap_filter</c>; on a backend, the backend <c>flatmap_filter</c> (docs/configuration.md).
/// </summary>
internal static class ProxyConfig
{
    public static readonly ConfigNamespace Namespace = new("proxy", ConfigScope.Endpoint | ConfigScope.Backend, "github.com/devopsfaith/krakend/proxy");

    private static readonly string[] EndpointSupported = { "sequential", "static", "flatmap_filter", Keys.Comment };

    private static readonly string[] EndpointNotYet = { "sequential_propagated_params", "combiner", "strategy", "force_sandboxed_request" };

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
        return new EndpointProxyOptions(sequential, staticData, read.ParseFlatmap(flatmapNode), flatmapNode);
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

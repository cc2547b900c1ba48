using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.ProxyChain;

/// <summary>An endpoint's APISIX <c>proxy-chain</c>: its services in calling order, and the header holding the token.</summary>
internal sealed record ProxyChainModel(EquatableArray<ProxyChainServiceModel> Services, string? TokenHeader) : EndpointComponentModel;

/// <summary>One proxy-chain service: its method, host group and URL template.</summary>
internal sealed record ProxyChainServiceModel(string Method, int HostGroup, string UrlPattern, EquatableArray<TemplatePartModel> Url);

/// <summary>
/// The APISIX <c>proxy-chain</c> namespace on an endpoint (docs/configuration.md, proxy-chain; docs/compatibility.md
/// for where the gateway differs from the plugin).
/// </summary>
internal sealed class ProxyChainConfig
{
    public static readonly ConfigNamespace Namespace = new("proxy-chain", ConfigScope.Endpoint);

    private static readonly string[] Supported = { "services", "token_header", Keys.Comment };

    private static readonly string[] ServiceSupported = { "uri", "method", "host", "url_pattern", "disable_host_sanitize", Keys.Comment };

    private readonly ConfigReader _read;
    private readonly DiagnosticBag _diagnostics;
    private readonly ConfigSource _source;
    private readonly Func<List<string>, int> _hostGroup;

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static EndpointComponentModel? Read(JsonNode node, EndpointReadContext context) =>
        new ProxyChainConfig(context.Read, context.Source, context.HostGroup).Read(node, context.Route, context.RootHosts);

    /// <param name="hostGroup">Registers a host list with the gateway and returns its group index.</param>
    private ProxyChainConfig(ConfigReader read, ConfigSource source, Func<List<string>, int> hostGroup)
    {
        _read = read;
        _diagnostics = read.Diagnostics;
        _source = source;
        _hostGroup = hostGroup;
    }

    /// <summary>
    /// The APISIX proxy-chain plugin (docs/compatibility.md, APISIX proxy-chain): <c>services</c>, each with an absolute <c>uri</c> or a
    /// <c>host</c> + <c>url_pattern</c> like a backend, and an optional <c>token_header</c>.
    /// </summary>
    private ProxyChainModel? Read(JsonNode node, List<RouteSegmentModel>? route, List<string>? rootHosts)
    {
        int errorsBefore = _diagnostics.ErrorCount;
        _read.CheckKeys(node, "\"proxy-chain\"", Supported, Array.Empty<string>());
        string? tokenHeader = null;
        if (node.Find("token_header") is { } tokenProperty && _read.Expect(tokenProperty, JsonKind.String, "a header name"))
        {
            tokenHeader = tokenProperty.Value.Text!;
            if (!Gateway.Http.HttpRules.IsHeaderName(tokenHeader))
            {
                _diagnostics.Report(DiagnosticKind.InvalidProxyChain, $"token_header \"{tokenHeader}\" is not a valid header name", tokenProperty.Value);
            }
        }

        var parameters = new List<string>();
        foreach (RouteSegmentModel segment in route ?? new List<RouteSegmentModel>())
        {
            if (segment.IsParameter)
            {
                parameters.Add(segment.Text);
            }
        }

        var services = new List<ProxyChainServiceModel>();
        JsonProperty? servicesProperty = node.Find("services");
        if (servicesProperty is null || (servicesProperty.Value.Kind == JsonKind.Array && servicesProperty.Value.Items!.Count == 0))
        {
            _diagnostics.Report(DiagnosticKind.InvalidProxyChain, "proxy-chain needs \"services\": at least one {\"uri\": \"http://service/path\", \"method\": \"POST\"}", servicesProperty?.Value ?? node);
        }
        else if (_read.Expect(servicesProperty, JsonKind.Array, "an array of services"))
        {
            var scope = new TemplateParser.Scope(parameters, sequential: false, backendIndex: 0, new List<string?>());
            foreach (JsonNode service in servicesProperty.Value.Items!)
            {
                if (ParseProxyChainService(service, scope, rootHosts) is { } parsed)
                {
                    services.Add(parsed);
                }
            }
        }

        return _diagnostics.ErrorCount > errorsBefore ? null : new ProxyChainModel(EquatableArray.From(services), tokenHeader);
    }

    private ProxyChainServiceModel? ParseProxyChainService(JsonNode node, TemplateParser.Scope scope, List<string>? rootHosts)
    {
        if (node.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"a proxy-chain service must be an object, not {JsonNode.Describe(node.Kind)}", node);
            return null;
        }

        int errorsBefore = _diagnostics.ErrorCount;
        _read.CheckKeys(node, "a proxy-chain service", ServiceSupported, Array.Empty<string>());

        // APISIX defaults the method to POST; PATCH is accepted too.
        string method = _read.ParseMethod(node.Find("method"), "POST", Gateway.Http.HttpRules.EndpointMethods, "a proxy-chain service");
        bool verbatim = _read.ParseBool(node.Find("disable_host_sanitize"));
        JsonProperty? uriProperty = node.Find("uri");
        JsonProperty? hostProperty = node.Find("host");
        JsonProperty? patternProperty = node.Find("url_pattern");
        List<string>? hosts = null;
        string pattern = "/";
        JsonNode patternNode = node;
        if (uriProperty is not null)
        {
            if (hostProperty is not null || patternProperty is not null)
            {
                _diagnostics.ReportAtKey(DiagnosticKind.InvalidProxyChain, "a service has either \"uri\" (an absolute URL) or \"host\" and \"url_pattern\", not both", uriProperty);
                return null;
            }

            if (!_read.Expect(uriProperty, JsonKind.String, "an absolute URL"))
            {
                return null;
            }

            string uri = uriProperty.Value.Text!;
            int scheme = uri.IndexOf("://", StringComparison.Ordinal);
            int pathStart = scheme < 0 ? -1 : uri.IndexOf('/', scheme + 3);
            string origin = pathStart < 0 ? uri : uri.Substring(0, pathStart);
            if (scheme < 0 || !(verbatim ? Hosts.TryUseVerbatim(origin, out string host, out string problem) : Hosts.TrySanitize(origin, out host, out problem)))
            {
                _diagnostics.Report(DiagnosticKind.InvalidProxyChain, $"\"uri\" must be an absolute http(s) URL such as \"http://customer_service/api/v1/user\"", uriProperty.Value);
                return null;
            }

            hosts = new List<string> { host };
            pattern = pathStart < 0 ? "/" : uri.Substring(pathStart);
            patternNode = uriProperty.Value;
        }
        else
        {
            hosts = _read.ParseHosts(hostProperty, verbatim);
            if (hosts is null || hosts.Count == 0)
            {
                hosts = rootHosts;
            }

            if (hosts is null || hosts.Count == 0)
            {
                _diagnostics.Report(DiagnosticKind.InvalidProxyChain, "a proxy-chain service needs \"uri\", or \"host\" (or the root host list) with \"url_pattern\"", hostProperty?.Value ?? node);
                return null;
            }

            if (patternProperty is not null && _read.Expect(patternProperty, JsonKind.String, "a URL path"))
            {
                pattern = patternProperty.Value.Text!;
                patternNode = patternProperty.Value;
            }
        }

        // With a uri, a problem inside its path is reported at the whole uri value.
        EquatableArray<TemplatePartModel>? url = new TemplateParser(_diagnostics, _source).ParseUrl(pattern, patternNode, scope);
        if (_diagnostics.ErrorCount > errorsBefore || url is null || hosts is null)
        {
            return null;
        }

        return new ProxyChainServiceModel(method, _hostGroup(hosts), pattern, url.Value);
    }
}

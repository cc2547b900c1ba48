using System;
using System.Collections.Generic;
using Gateway.Components;
using Gateway.Components.BackendHttp;
using Gateway.Components.Proxy;
using Gateway.Components.RequestTemplates;
using Gateway.Components.Router;
using Gateway.Components.Shaping;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

/// <summary>What parsing one configuration file produced: the model (null when the file as a whole is unusable) and every finding.</summary>
internal sealed record ConfigParseResult(GatewayModel? Model, EquatableArray<ConfigDiagnostic> Diagnostics);

/// <summary>
/// Turns a KrakenD v3 <c>krakend.json</c> into the gateway model, reporting every problem with its exact place.
/// It never throws for a user mistake: an endpoint with an error is left out of the model (so no code is emitted
/// for it) and the others still compile.
/// </summary>
internal sealed partial class ConfigParser
{
    public const int DefaultPort = 8080;
    public const long DefaultTimeoutMilliseconds = 2000;


    private readonly ConfigSource _source;
    private readonly DiagnosticBag _diagnostics;
    private readonly ConfigReader _read;
    private readonly List<HostGroupModel> _hostGroups = new();

    /// <summary>The root components' models, read before the endpoints (gateway-wide settings of endpoint components).</summary>
    private readonly List<GatewayComponentModel> _rootComponents = new();

    /// <summary>Set by errors outside any endpoint (version, port, root hosts, root timeout): the whole file is unusable.</summary>
    private bool _rootLevelError;

    /// <summary><c>disable_rest</c>: a route parameter may have literal text around it in its segment.</summary>
    private bool _disableRest;

    // router.health_path when it moves the health endpoint: no endpoint may take that path.
    private string? _healthPath;

    private ConfigParser(ConfigSource source, ConfigFiles files)
    {
        _source = source;
        _diagnostics = new DiagnosticBag(source);
        _read = new ConfigReader(_diagnostics) { Files = files };
    }

    /// <param name="source">The configuration.</param>
    /// <param name="generatedNamespace">The namespace the generated code goes in.</param>
    /// <param name="files">The files it names besides itself (Lua sources); none when null.</param>
    public static ConfigParseResult Parse(ConfigSource source, string generatedNamespace, ConfigFiles? files = null)
    {
        var parser = new ConfigParser(source, files ?? ConfigFiles.None);
        GatewayModel? model = parser.ParseRoot(generatedNamespace);
        return new ConfigParseResult(model, EquatableArray.From(parser._diagnostics.Items));
    }

    private GatewayModel? ParseRoot(string generatedNamespace)
    {
        JsonNode? root = JsonDocumentReader.Read(_source.Text, out JsonSyntaxError? syntax);
        if (root is null)
        {
            _diagnostics.Report(DiagnosticKind.JsonSyntax, syntax!.Message, syntax.Offset, 1);
            return null;
        }

        if (root.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"the configuration must be a JSON object, not {JsonNode.Describe(root.Kind)}", root);
            return null;
        }

        // KrakenD 1.x names are read as their v3 names, each with a warning at its key.
        LegacyNames.Report(LegacyNames.Upgrade(root), _diagnostics);
        _read.CheckKeys(root, "the configuration root", Concat(Keys.RootSupported, Components.Server.ServerConfig.RootKeys), Keys.RootNotYet);
        CheckVersion(root);

        int port = DefaultPort;
        if (root.Find("port") is { } portProperty && _read.Expect(portProperty, JsonKind.Number, "a port number"))
        {
            if (!int.TryParse(portProperty.Value.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || !Hosts.IsPort(port))
            {
                _diagnostics.Report(DiagnosticKind.InvalidPort, $"port {portProperty.Value.Text} is not a TCP port; use a whole number from 1 to 65535", portProperty.Value);
                port = DefaultPort;
                _rootLevelError = true;
            }
        }

        long timeout = ParseTimeout(root.Find("timeout")) ?? DefaultTimeoutMilliseconds;
        var defaults = new EndpointDefaults(
            timeout,
            ParseCacheTtl(root.Find("cache_ttl"), rootLevel: true) ?? 0,
            _read.ParseOutputEncoding(root.Find("output_encoding")) ?? "json");
        bool echo = _read.ParseBool(root.Find("echo_endpoint"));
        bool debug = _read.ParseBool(root.Find("debug_endpoint"));
        _disableRest = _read.ParseBool(root.Find("disable_rest"));
        ExtraConfig rootExtra = ExtraConfig.Read(root.Find("extra_config"), ConfigScope.Root, "the configuration root", _read);
        RouterModel router = RouterConfig.Read(rootExtra, _read);
        bool failedStepsHeader = Components.Debug.DebugConfig.ReadFailedStepsHeader(rootExtra, _read);
        List<GatewayComponentModel> components = _rootComponents;
        if (router.Settings is { } routerSettings)
        {
            components.Add(routerSettings);
            _healthPath = routerSettings.HealthPath == RouterSettingsModel.DefaultHealthPath ? null : routerSettings.HealthPath;
        }

        if (Components.Server.ServerConfig.Read(root, _read) is { } server)
        {
            components.Add(server);
        }

        var rootContext = new GatewayReadContext(_read, _source);
        foreach (Component<GatewayReadContext, GatewayComponentModel> component in ComponentRegistry.GatewayComponents)
        {
            if (rootExtra.Find(component.Namespace) is { } options && component.Read(options, rootContext) is { } model)
            {
                components.Add(model);
            }
        }

        int errorsBeforeHosts = _diagnostics.ErrorCount;
        List<string>? rootHosts = _read.ParseHosts(root.Find("host"));
        _rootLevelError |= _diagnostics.ErrorCount > errorsBeforeHosts;

        var endpoints = new List<EndpointModel>();
        if (root.Find("endpoints") is { } endpointsProperty && _read.Expect(endpointsProperty, JsonKind.Array, "an array of endpoints"))
        {
            var seen = new Dictionary<string, JsonNode>();
            foreach (JsonNode endpointNode in endpointsProperty.Value.Items!)
            {
                EndpointModel? endpoint = ParseEndpoint(endpointNode, defaults, rootHosts, seen);
                if (endpoint is not null)
                {
                    endpoints.Add(endpoint);
                }
            }
        }

        if (_rootLevelError)
        {
            // The file as a whole is unusable; emit the entry point with no endpoints so only the GW errors show.
            return new GatewayModel(generatedNamespace, port, echo, debug, router, failedStepsHeader, EquatableArray<GatewayComponentModel>.Empty, EquatableArray<HostGroupModel>.Empty, EquatableArray<EndpointModel>.Empty);
        }

        return new GatewayModel(generatedNamespace, port, echo, debug, router, failedStepsHeader, EquatableArray.From(components), EquatableArray.From(_hostGroups), EquatableArray.From(endpoints));
    }

    private void CheckVersion(JsonNode root)
    {
        JsonProperty? version = root.Find("version");
        if (version is null)
        {
            _diagnostics.Report(DiagnosticKind.UnsupportedVersion, "the configuration has no \"version\"; add \"version\": 3", root.Start, 1);
            _rootLevelError = true;
            return;
        }

        if (version.Value.Kind == JsonKind.Number && version.Value.Text == "2")
        {
            _diagnostics.Report(DiagnosticKind.LegacyName, "\"version\": 2 is a KrakenD 1.x configuration: it is read with the v3 names (a warning at each old name); `gateway migrate` rewrites it as \"version\": 3", version.Value);
            return;
        }

        if (version.Value.Kind != JsonKind.Number || version.Value.Text != "3")
        {
            string found = version.Value.Kind == JsonKind.Number ? version.Value.Text! : JsonNode.Describe(version.Value.Kind);
            _diagnostics.Report(DiagnosticKind.UnsupportedVersion, $"unsupported version {found}: this gateway reads KrakenD v3 configurations (and version 2 ones, with their 1.x names); set \"version\": 3", version.Value);
            _rootLevelError = true;
        }
    }

    /// <summary>Root-level values endpoints inherit.</summary>
    private sealed record EndpointDefaults(long TimeoutMilliseconds, long CacheTtlSeconds, string OutputEncoding);

    private EndpointModel? ParseEndpoint(JsonNode node, EndpointDefaults defaults, List<string>? rootHosts, Dictionary<string, JsonNode> seen)
    {
        if (node.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"an endpoint must be an object, not {JsonNode.Describe(node.Kind)}", node);
            return null;
        }

        int errorsBefore = _diagnostics.ErrorCount;
        _read.CheckKeys(node, "an endpoint", Keys.EndpointSupported, Keys.EndpointNotYet);

        JsonProperty? pathProperty = node.Find("endpoint");
        string method = _read.ParseMethod(node.Find("method"), "GET", Gateway.Http.HttpRules.EndpointMethods, "an endpoint");
        List<RouteSegmentModel>? route = null;
        string path = string.Empty;
        if (pathProperty is null)
        {
            _diagnostics.Report(DiagnosticKind.InvalidEndpointPath, "the endpoint has no \"endpoint\" path; add one, as in \"endpoint\": \"/users/{id}\"", node.Start, 1);
        }
        else if (_read.Expect(pathProperty, JsonKind.String, "a path"))
        {
            path = pathProperty.Value.Text!;
            if (path.Length == 0 || path[0] != '/')
            {
                path = "/" + path; // KrakenD adds the leading slash.
            }

            route = EndpointPaths.Parse(path, pathProperty.Value, _diagnostics, _disableRest);
            if (route is not null && path == _healthPath)
            {
                _diagnostics.Report(DiagnosticKind.ReservedEndpointPath, $"{path} is the health endpoint's path (router.health_path); choose another path for the endpoint or for the health endpoint", pathProperty.Value);
                route = null;
            }

            if (route is not null)
            {
                string key = method + " " + EndpointPaths.Shape(route);
                if (seen.TryGetValue(key, out JsonNode? first))
                {
                    (int line, int column) = _source.GetPosition(first.Start);
                    _diagnostics.Report(DiagnosticKind.DuplicateEndpoint, $"{method} {path} is already defined at line {line + 1}, column {column + 1}; each method and path may appear once", pathProperty.Value);
                }
                else
                {
                    seen.Add(key, pathProperty.Value);
                }
            }
        }

        long timeout = ParseTimeout(node.Find("timeout"), endpointLevel: true) ?? defaults.TimeoutMilliseconds;
        long cacheTtl = ParseCacheTtl(node.Find("cache_ttl"), rootLevel: false) ?? defaults.CacheTtlSeconds;
        string outputEncoding = _read.ParseOutputEncoding(node.Find("output_encoding")) ?? defaults.OutputEncoding;
        int concurrentCalls = _read.ParseConcurrentCalls(node.Find("concurrent_calls"));
        ForwardingListModel query = _read.ParseForwardingList(node.Find("input_query_strings"), endpointLevel: true, headers: false);
        ForwardingListModel headers = _read.ParseForwardingList(node.Find("input_headers"), endpointLevel: true, headers: true);
        ExtraConfig extra = ExtraConfig.Read(node.Find("extra_config"), ConfigScope.Endpoint, "an endpoint", _read);
        EndpointProxyOptions proxy = ProxyConfig.ReadEndpoint(extra, _read);
        bool sequential = proxy.Sequential;

        var backends = new List<BackendModel>();
        PassThroughModel? passThrough = null;
        Components.Step.StepGraph? graph = null;
        var stepIds = new Dictionary<string, int>();
        EquatableArray<PropagatedParamModel> propagated = EquatableArray<PropagatedParamModel>.Empty;
        JsonProperty? backendProperty = node.Find("backend");
        if (backendProperty is null || (backendProperty.Value.Kind == JsonKind.Array && backendProperty.Value.Items!.Count == 0))
        {
            _diagnostics.Report(DiagnosticKind.NoBackends, $"the endpoint {method} {path} has no backends; add at least one to \"backend\"", pathProperty?.Value ?? node);
        }
        else if (_read.Expect(backendProperty, JsonKind.Array, "an array of backends"))
        {
            List<string> parameters = new();
            if (route is not null)
            {
                foreach (RouteSegmentModel segment in route)
                {
                    if (segment.IsParameter)
                    {
                        parameters.Add(segment.Text);
                    }
                }
            }

            List<JsonNode> backendNodes = backendProperty.Value.Items!;
            var groups = new List<string?>();
            foreach (JsonNode backendNode in backendNodes)
            {
                groups.Add(backendNode.Kind == JsonKind.Object && backendNode.Find("group") is { Value.Kind: JsonKind.String } g ? g.Value.Text : null);
            }

            if (outputEncoding == "no-op" && backendNodes.Count > 1)
            {
                _diagnostics.Report(DiagnosticKind.NoOpWithSeveralBackends, $"output_encoding \"no-op\" passes one backend's response through untouched, but {method} {path} has {backendNodes.Count} backends; use one backend or another encoding", node.Find("output_encoding")?.Value ?? backendProperty.Value);
            }

            if (proxy.FlatmapNode is not null && backendNodes.Count < 2)
            {
                _diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "an endpoint-level flatmap_filter applies to the merge of several backends; with one backend it has no effect (put it in the backend's extra_config.proxy)", proxy.FlatmapNode);
            }

            // {JWT.claim} placeholders read the claims of the token the endpoint's validator accepted.
            bool claims = extra.Find(Components.JwtValidator.JwtValidatorConfig.Namespace) is not null;
            graph = Components.Step.StepConfig.ReadGraph(backendNodes, sequential, _diagnostics, out stepIds);
            propagated = ProxyConfig.ReadPropagated(proxy.PropagatedNode, _read, _source, backendNodes.Count, groups, sequential);
            passThrough = Components.Step.FlowConfig.ReadPassThrough(extra, _read, stepIds, backendNodes, outputEncoding);
            for (int i = 0; i < backendNodes.Count; i++)
            {
                var scope = new TemplateParser.Scope(parameters, sequential && backendNodes.Count > 1, i, groups, claims) { Ancestors = graph?.Ancestors[i], StepIds = stepIds };
                BackendModel? backend = ParseBackend(backendNodes[i], method, rootHosts, scope, outputEncoding == "no-op", EarlierThan(propagated, i, graph?.Ancestors[i]), $"{method} {path}");
                if (backend is not null)
                {
                    backends.Add(backend);
                }
            }
        }

        var components = new List<EndpointComponentModel>();
        var context = new EndpointReadContext(_read, _source, HostGroup, route, rootHosts, method, path, outputEncoding, _rootComponents);
        foreach (Component<EndpointReadContext, EndpointComponentModel> component in ComponentRegistry.EndpointComponents)
        {
            if (extra.Find(component.Namespace) is { } options && component.Read(options, context) is { } model)
            {
                components.Add(model);
            }
        }

        if (_diagnostics.ErrorCount > errorsBefore || route is null)
        {
            return null;
        }

        if (graph is not null)
        {
            for (int i = 0; i < backends.Count; i++)
            {
                backends[i] = backends[i] with { DependsOn = EquatableArray.From(graph.DependsOn[i]) };
            }
        }

        foreach (KeyValuePair<string, int> id in stepIds)
        {
            if (id.Value < backends.Count)
            {
                backends[id.Value] = backends[id.Value] with { StepId = id.Key };
            }
        }

        KeepWhatLaterStepsRead(backends, propagated);
        return new EndpointModel(
            method,
            path,
            EquatableArray.From(route),
            timeout,
            sequential && backends.Count > 1,
            cacheTtl,
            outputEncoding,
            concurrentCalls,
            query,
            headers,
            proxy.Static,
            backends.Count > 1 ? proxy.Flatmap : EquatableArray<FlatmapOperationModel>.Empty,
            EquatableArray.From(backends),
            EquatableArray.From(components),
            Components.Step.FlowConfig.ReadServerTiming(extra, _read),
            Components.Step.FlowConfig.ReadDeadlineStatus(extra, _read),
            PropagatedParams: propagated,
            PassThrough: passThrough);
    }

    /// <summary>
    /// The propagated params a backend receives: those read from the backends that have answered before it (the earlier
    /// ones of a sequence; in a dependency graph, its ancestors).
    /// </summary>
    private static EquatableArray<PropagatedParamModel> EarlierThan(EquatableArray<PropagatedParamModel> propagated, int backend, bool[]? ancestors)
    {
        var earlier = new List<PropagatedParamModel>();
        foreach (PropagatedParamModel parameter in propagated)
        {
            if (ancestors is null ? parameter.Value.Source < backend : ancestors[parameter.Value.Source])
            {
                earlier.Add(parameter);
            }
        }

        return EquatableArray.From(earlier);
    }

    private BackendModel? ParseBackend(JsonNode node, string endpointMethod, List<string>? rootHosts, TemplateParser.Scope scope, bool noOpOutput, EquatableArray<PropagatedParamModel> propagated, string endpoint)
    {
        if (node.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"a backend must be an object, not {JsonNode.Describe(node.Kind)}", node);
            return null;
        }

        int errorsBefore = _diagnostics.ErrorCount;
        _read.CheckKeys(node, "a backend", Keys.BackendSupported, Keys.BackendNotYet);
        string method = _read.ParseMethod(node.Find("method"), endpointMethod, Gateway.Http.HttpRules.BackendMethods, "a backend");

        foreach (JsonProperty ignored in node.Properties!)
        {
            if (Keys.Contains(Keys.BackendIgnored, ignored.Name))
            {
                _diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{ignored.Name}\" has no effect on a backend: every backend uses its endpoint's value", ignored);
            }
        }

        string? dnsScheme = ReadServiceDiscovery(node);
        JsonProperty? hostProperty = node.Find("host");
        bool verbatimHosts = _read.ParseBool(node.Find("disable_host_sanitize"));
        List<string>? hosts = dnsScheme is null ? _read.ParseHosts(hostProperty, verbatimHosts) : ReadServiceName(node, hostProperty);
        if (dnsScheme is null && (hosts is null || hosts.Count == 0))
        {
            hosts = rootHosts;
        }

        if ((hosts is null || hosts.Count == 0) && _diagnostics.ErrorCount == errorsBefore)
        {
            _diagnostics.Report(DiagnosticKind.NoHosts, "the backend has no host and the configuration has no root \"host\" list to inherit; add \"host\": [\"http://service:8080\"]", hostProperty?.Value ?? node);
        }

        string encoding = noOpOutput ? "no-op" : _read.ParseBackendEncoding(node.Find("encoding"));
        bool isCollection = _read.ParseBool(node.Find("is_collection"));
        ShapingModel shapingKeys = ShapingConfig.ReadKeys(node, _read);
        ForwardingListModel query = _read.ParseForwardingList(node.Find("input_query_strings"), endpointLevel: false, headers: false);
        ForwardingListModel headers = _read.ParseForwardingList(node.Find("input_headers"), endpointLevel: false, headers: true);
        ExtraConfig extra = ExtraConfig.Read(node.Find("extra_config"), ConfigScope.Backend, "a backend", _read);
        scope.ForEach = Components.Step.StepConfig.HasForEach(extra);
        BackendHttpOptions http = BackendHttpConfig.Read(extra, _read);
        bool required = Components.Step.StepConfig.ReadRequired(extra, _read);
        Components.Step.StepPolicyModel? policy = Components.Step.StepConfig.ReadPolicy(extra, _read, method);
        var components = new List<BackendComponentModel>();
        var context = new BackendReadContext(_read, _source, HostGroup)
        {
            Index = scope.BackendIndex,
            Endpoint = endpoint,
            RouteParameters = EquatableArray.From(scope.RouteParameters),
            Propagated = propagated,
        };
        foreach (Component<BackendReadContext, BackendComponentModel> component in ComponentRegistry.BackendComponents)
        {
            if (extra.Find(component.Namespace) is { } options && component.Read(options, context) is { } model)
            {
                components.Add(model);
            }
        }

        EquatableArray<FlatmapOperationModel> flatmap = ProxyConfig.ReadBackend(extra, _read);
        ShapingModel shaping = ShapingConfig.WithFlatmap(shapingKeys, flatmap, node, _read);

        string? group = null;
        if (node.Find("group") is { } groupProperty && _read.Expect(groupProperty, JsonKind.String, "a key name"))
        {
            group = groupProperty.Value.Text!.Length == 0 ? null : groupProperty.Value.Text;
        }

        Components.Step.StepFailureModel? onFailure = Components.Step.StepConfig.ReadFailure(extra, _read);
        string pattern = "/";
        EquatableArray<TemplatePartModel>? url = null;
        JsonProperty? patternProperty = node.Find("url_pattern");
        if (patternProperty is null)
        {
            // KrakenD requires it too; without this error a typo such as "url_patern" would call "GET /".
            _diagnostics.Report(DiagnosticKind.MissingUrlPattern, "the backend has no \"url_pattern\"; write the path to call, such as \"/users/{id}\" (\"/\" for the root)", node.Start, 1);
        }
        else if (_read.Expect(patternProperty, JsonKind.String, "a URL path"))
        {
            pattern = patternProperty.Value.Text!;
            url = new TemplateParser(_diagnostics, _source).ParseUrl(pattern, patternProperty.Value, scope);
        }

        RequestTemplates request = new RequestTemplatesConfig(_read, _source).Read(extra, method, scope);
        Components.Step.StepConditionModel? when = Components.Step.StepConfig.ReadCondition(extra, _read, new TemplateParser(_diagnostics, _source), scope);
        Components.Step.StepForEachModel? forEach = Components.Step.StepConfig.ReadForEach(extra, _read, new TemplateParser(_diagnostics, _source), scope, group);
        if (_diagnostics.ErrorCount > errorsBefore || url is null || hosts is null)
        {
            return null;
        }

        return new BackendModel(
            method,
            HostGroup(hosts, dnsScheme),
            pattern,
            url.Value,
            group,
            encoding,
            isCollection,
            shaping.Target,
            shaping.Allow,
            shaping.Deny,
            shaping.Mapping,
            shaping.Flatmap,
            query,
            headers,
            http.ReturnErrorCode,
            http.ReturnErrorDetails,
            request.Body,
            request.Headers,
            Components: EquatableArray.From(components),
            Required: required,
            Policy: policy,
            OnFailure: onFailure,
            When: when,
            ForEach: forEach);
    }

    private long? ParseCacheTtl(JsonProperty? property, bool rootLevel)
    {
        if (property is null)
        {
            return null;
        }

        if (property.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(property.Value.Text!, out long milliseconds, allowZero: true))
        {
            return milliseconds / 1000;
        }

        _diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"cache_ttl\" must be a duration such as \"300s\" or \"1h\", not {DurationFound(property)}", property.Value);
        _rootLevelError |= rootLevel;
        return null;
    }

    /// <summary>
    /// <c>sd</c>: <c>"static"</c> (KrakenD's default: the <c>host</c> list as written) or <c>"dns"</c> (hosts from the SRV
    /// records of the backend's host, docs/configuration.md, service discovery). The scheme for <c>"dns"</c>
    /// (<c>sd_scheme</c>, <c>http</c> by default); null for static hosts.
    /// </summary>
    private string? ReadServiceDiscovery(JsonNode backend)
    {
        string? sd = null;
        if (backend.Find("sd") is { } property && _read.Expect(property, JsonKind.String, "\"static\" or \"dns\""))
        {
            sd = property.Value.Text;
            if (sd != "static" && sd != "dns")
            {
                _diagnostics.Report(DiagnosticKind.InvalidValue, $"\"sd\" \"{sd}\" is not a service discovery; use \"static\" (the default: the hosts as written) or \"dns\" (the hosts of SRV records)", property.Value);
            }
        }

        JsonProperty? scheme = backend.Find("sd_scheme");
        if (sd != "dns")
        {
            if (scheme is not null)
            {
                _diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"sd_scheme\" has no effect without \"sd\": \"dns\"; the scheme comes from each host", scheme);
            }

            return null;
        }

        if (scheme is null || !_read.Expect(scheme, JsonKind.String, "\"http\" or \"https\""))
        {
            return "http";
        }

        if (scheme.Value.Text is not ("http" or "https"))
        {
            _diagnostics.Report(DiagnosticKind.InvalidValue, $"\"sd_scheme\" \"{scheme.Value.Text}\" is not a scheme the gateway calls; use \"http\" or \"https\"", scheme.Value);
            return "http";
        }

        return scheme.Value.Text;
    }

    /// <summary>
    /// The SRV record's name of a backend with <c>"sd": "dns"</c>: its own <c>host</c>'s first entry, a DNS name (KrakenD
    /// reads only the first). Null, reported, when there is none or it is not a name.
    /// </summary>
    private List<string>? ReadServiceName(JsonNode backend, JsonProperty? hostProperty)
    {
        if (hostProperty is null || (hostProperty.Value.Kind == JsonKind.Array && hostProperty.Value.Items!.Count == 0))
        {
            _diagnostics.Report(DiagnosticKind.NoHosts, "a backend with \"sd\": \"dns\" needs its own \"host\": the name of the SRV record to ask, such as [\"_http._tcp.catalog.service.consul\"]", hostProperty?.Value ?? backend);
            return null;
        }

        List<JsonNode> names = _read.StringItems(hostProperty, "SRV record names");
        if (names.Count == 0)
        {
            return null;
        }

        for (int i = 1; i < names.Count; i++)
        {
            _diagnostics.Report(DiagnosticKind.NoEffect, "only the first host of a backend with \"sd\": \"dns\" is asked for SRV records, as in KrakenD; this one has no effect", names[i]);
        }

        string name = names[0].Text!;
        if (!Hosts.IsDnsName(name))
        {
            _diagnostics.Report(DiagnosticKind.InvalidHost, $"host \"{name}\" is not a DNS name: with \"sd\": \"dns\" the host is the SRV record's name (such as _http._tcp.catalog.service.consul), without a scheme or port; \"sd_scheme\" gives the scheme", names[0]);
            return null;
        }

        return new List<string> { name.TrimEnd('.') };
    }

    private static string[] Concat(string[] a, string[] b)
    {
        var all = new string[a.Length + b.Length];
        a.CopyTo(all, 0);
        b.CopyTo(all, a.Length);
        return all;
    }

    /// <summary>What was written instead of a duration, for the message: the string, or what a bare number would mean.</summary>
    private static string DurationFound(JsonProperty property) => property.Value.Kind switch
    {
        JsonKind.String => $"\"{property.Value.Text}\"",
        JsonKind.Number => $"the bare number {property.Value.Text} (KrakenD would read nanoseconds; write the unit)",
        _ => JsonNode.Describe(property.Value.Kind),
    };

    private long? ParseTimeout(JsonProperty? property, bool endpointLevel = false)
    {
        if (property is null)
        {
            return null;
        }

        if (property.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(property.Value.Text!, out long milliseconds))
        {
            return milliseconds;
        }

        _diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"timeout\" must be a positive duration such as \"800ms\", \"3s\" or \"1m30s\", not {DurationFound(property)}", property.Value);
        if (!endpointLevel)
        {
            _rootLevelError = true;
        }

        return null;
    }

    private int HostGroup(List<string> hosts) => HostGroup(hosts, null);

    private int HostGroup(List<string> hosts, string? dnsScheme)
    {
        var group = new HostGroupModel(EquatableArray.From(hosts), dnsScheme);
        int index = _hostGroups.IndexOf(group);
        if (index >= 0)
        {
            return index;
        }

        _hostGroups.Add(group);
        return _hostGroups.Count - 1;
    }

}

using System.Collections.Generic;
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
internal sealed class ConfigParser
{
    public const int DefaultPort = 8080;
    public const long DefaultTimeoutMilliseconds = 2000;

    private static readonly string[] EndpointMethods = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    private static readonly string[] BackendMethods = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" };

    private readonly ConfigSource _source;
    private readonly DiagnosticBag _diagnostics;
    private readonly List<HostGroupModel> _hostGroups = new();

    /// <summary>Set by errors outside any endpoint (version, port, root hosts, root timeout): the whole file is unusable.</summary>
    private bool _rootLevelError;

    private ConfigParser(ConfigSource source)
    {
        _source = source;
        _diagnostics = new DiagnosticBag(source);
    }

    public static ConfigParseResult Parse(ConfigSource source, string generatedNamespace)
    {
        var parser = new ConfigParser(source);
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

        CheckKeys(root, "the configuration root", Keys.RootSupported, Keys.RootNotYet);
        CheckVersion(root);

        int port = DefaultPort;
        if (root.Find("port") is { } portProperty && Expect(portProperty, JsonKind.Number, "a port number"))
        {
            if (!int.TryParse(portProperty.Value.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535)
            {
                _diagnostics.Report(DiagnosticKind.InvalidPort, $"port {portProperty.Value.Text} is not a TCP port; use a whole number from 1 to 65535", portProperty.Value);
                port = DefaultPort;
                _rootLevelError = true;
            }
        }

        long timeout = ParseTimeout(root.Find("timeout")) ?? DefaultTimeoutMilliseconds;
        int errorsBeforeHosts = _diagnostics.ErrorCount;
        List<string>? rootHosts = ParseHosts(root.Find("host"));
        _rootLevelError |= _diagnostics.ErrorCount > errorsBeforeHosts;

        var endpoints = new List<EndpointModel>();
        if (root.Find("endpoints") is { } endpointsProperty && Expect(endpointsProperty, JsonKind.Array, "an array of endpoints"))
        {
            var seen = new Dictionary<string, JsonNode>();
            foreach (JsonNode endpointNode in endpointsProperty.Value.Items!)
            {
                EndpointModel? endpoint = ParseEndpoint(endpointNode, timeout, rootHosts, seen);
                if (endpoint is not null)
                {
                    endpoints.Add(endpoint);
                }
            }
        }

        if (_rootLevelError)
        {
            // The file as a whole is unusable; emit the entry point with no endpoints so only the GW errors show.
            return new GatewayModel(generatedNamespace, port, EquatableArray<HostGroupModel>.Empty, EquatableArray<EndpointModel>.Empty);
        }

        return new GatewayModel(generatedNamespace, port, EquatableArray.From(_hostGroups), EquatableArray.From(endpoints));
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

        if (version.Value.Kind != JsonKind.Number || version.Value.Text != "3")
        {
            string found = version.Value.Kind == JsonKind.Number ? version.Value.Text! : JsonNode.Describe(version.Value.Kind);
            _diagnostics.Report(DiagnosticKind.UnsupportedVersion, $"unsupported version {found}: this gateway reads KrakenD v3 configurations; set \"version\": 3", version.Value);
            _rootLevelError = true;
        }
    }

    private EndpointModel? ParseEndpoint(JsonNode node, long rootTimeout, List<string>? rootHosts, Dictionary<string, JsonNode> seen)
    {
        if (node.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"an endpoint must be an object, not {JsonNode.Describe(node.Kind)}", node);
            return null;
        }

        int errorsBefore = _diagnostics.ErrorCount;
        CheckKeys(node, "an endpoint", Keys.EndpointSupported, Keys.EndpointNotYet);

        JsonProperty? pathProperty = node.Find("endpoint");
        string method = ParseMethod(node.Find("method"), "GET", EndpointMethods, "an endpoint");
        List<RouteSegmentModel>? route = null;
        string path = string.Empty;
        if (pathProperty is null)
        {
            _diagnostics.Report(DiagnosticKind.InvalidEndpointPath, "the endpoint has no \"endpoint\" path; add one, as in \"endpoint\": \"/users/{id}\"", node.Start, 1);
        }
        else if (Expect(pathProperty, JsonKind.String, "a path"))
        {
            path = pathProperty.Value.Text!;
            if (path.Length == 0 || path[0] != '/')
            {
                path = "/" + path; // KrakenD adds the leading slash.
            }

            route = EndpointPaths.Parse(path, pathProperty.Value, _diagnostics);
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

        long timeout = ParseTimeout(node.Find("timeout"), endpointLevel: true) ?? rootTimeout;
        bool sequential = ParseProxyOptions(node.Find("extra_config"));

        var backends = new List<BackendModel>();
        JsonProperty? backendProperty = node.Find("backend");
        if (backendProperty is null || (backendProperty.Value.Kind == JsonKind.Array && backendProperty.Value.Items!.Count == 0))
        {
            _diagnostics.Report(DiagnosticKind.NoBackends, $"the endpoint {method} {path} has no backends; add at least one to \"backend\"", pathProperty?.Value ?? node);
        }
        else if (Expect(backendProperty, JsonKind.Array, "an array of backends"))
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

            for (int i = 0; i < backendNodes.Count; i++)
            {
                var scope = new UrlPatternParser.Scope(parameters, sequential && backendNodes.Count > 1, i, groups);
                BackendModel? backend = ParseBackend(backendNodes[i], method, rootHosts, scope);
                if (backend is not null)
                {
                    backends.Add(backend);
                }
            }
        }

        if (_diagnostics.ErrorCount > errorsBefore || route is null)
        {
            return null;
        }

        return new EndpointModel(method, path, EquatableArray.From(route), timeout, sequential && backends.Count > 1, EquatableArray.From(backends));
    }

    private BackendModel? ParseBackend(JsonNode node, string endpointMethod, List<string>? rootHosts, UrlPatternParser.Scope scope)
    {
        if (node.Kind != JsonKind.Object)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"a backend must be an object, not {JsonNode.Describe(node.Kind)}", node);
            return null;
        }

        int errorsBefore = _diagnostics.ErrorCount;
        CheckKeys(node, "a backend", Keys.BackendSupported, Keys.BackendNotYet);
        string method = ParseMethod(node.Find("method"), endpointMethod, BackendMethods, "a backend");

        JsonProperty? hostProperty = node.Find("host");
        List<string>? hosts = ParseHosts(hostProperty);
        if (hosts is null || hosts.Count == 0)
        {
            hosts = rootHosts;
        }

        if ((hosts is null || hosts.Count == 0) && _diagnostics.ErrorCount == errorsBefore)
        {
            _diagnostics.Report(DiagnosticKind.NoHosts, "the backend has no host and the configuration has no root \"host\" list to inherit; add \"host\": [\"http://service:8080\"]", hostProperty?.Value ?? node);
        }

        if (node.Find("encoding") is { } encoding && Expect(encoding, JsonKind.String, "an encoding name") && encoding.Value.Text != "json")
        {
            _diagnostics.Report(DiagnosticKind.UnsupportedFeature, $"encoding \"{encoding.Value.Text}\" is not supported yet; the response is decoded as \"json\"", encoding.Value);
        }

        string? group = null;
        if (node.Find("group") is { } groupProperty && Expect(groupProperty, JsonKind.String, "a key name"))
        {
            group = groupProperty.Value.Text!.Length == 0 ? null : groupProperty.Value.Text;
        }

        string pattern = "/";
        EquatableArray<TemplatePartModel>? url = null;
        JsonProperty? patternProperty = node.Find("url_pattern");
        if (patternProperty is null)
        {
            url = new UrlPatternParser(_diagnostics, _source).Parse(pattern, node, scope);
        }
        else if (Expect(patternProperty, JsonKind.String, "a URL path"))
        {
            pattern = patternProperty.Value.Text!;
            url = new UrlPatternParser(_diagnostics, _source).Parse(pattern, patternProperty.Value, scope);
        }

        if (_diagnostics.ErrorCount > errorsBefore || url is null || hosts is null)
        {
            return null;
        }

        return new BackendModel(method, HostGroup(hosts), pattern, url.Value, group);
    }

    /// <summary>Reads <c>extra_config</c> of an endpoint; returns whether the sequential proxy is on.</summary>
    private bool ParseProxyOptions(JsonProperty? extraConfig)
    {
        if (extraConfig is null || !Expect(extraConfig, JsonKind.Object, "an object of namespaces"))
        {
            return false;
        }

        bool? sequential = null;
        bool? legacySequential = null;
        foreach (JsonProperty ns in extraConfig.Value.Properties!)
        {
            bool alias = ns.Name == Keys.ProxyNamespace;
            if (!alias && ns.Name != Keys.LegacyProxyNamespace)
            {
                if (ns.Name != Keys.Comment)
                {
                    _diagnostics.ReportAtKey(DiagnosticKind.UnsupportedFeature, $"the extra_config namespace \"{ns.Name}\" is not supported yet and has no effect", ns);
                }

                continue;
            }

            if (!Expect(ns, JsonKind.Object, "an object"))
            {
                continue;
            }

            CheckKeys(ns.Value, $"\"{ns.Name}\"", Keys.ProxySupported, Keys.ProxyNotYet);
            if (ns.Value.Find("sequential") is { } flag && Expect(flag, JsonKind.True, "true or false"))
            {
                bool value = flag.Value.Kind == JsonKind.True;
                if (alias)
                {
                    sequential = value;
                }
                else
                {
                    legacySequential = value;
                }
            }
        }

        // When both are written, the v3 alias wins, as in KrakenD.
        return sequential ?? legacySequential ?? false;
    }

    private string ParseMethod(JsonProperty? property, string inherited, string[] allowed, string where)
    {
        if (property is null || !Expect(property, JsonKind.String, "an HTTP method"))
        {
            return inherited;
        }

        string method = property.Value.Text!.ToUpperInvariant();
        if (!Keys.Contains(allowed, method))
        {
            _diagnostics.Report(DiagnosticKind.UnsupportedMethod, $"\"{property.Value.Text}\" is not a method {where} can use; use one of {string.Join(", ", allowed)}", property.Value);
            return inherited;
        }

        return method;
    }

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

        string found = property.Value.Kind == JsonKind.String ? $"\"{property.Value.Text}\"" : JsonNode.Describe(property.Value.Kind);
        _diagnostics.Report(DiagnosticKind.InvalidDuration, $"timeout {found} is not a duration; write a positive Go duration string such as \"800ms\", \"3s\" or \"1m30s\"", property.Value);
        if (!endpointLevel)
        {
            _rootLevelError = true;
        }

        return null;
    }

    private List<string>? ParseHosts(JsonProperty? property)
    {
        if (property is null || !Expect(property, JsonKind.Array, "an array of host URLs"))
        {
            return null;
        }

        var hosts = new List<string>();
        bool ok = true;
        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.String)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"a host must be a string such as \"http://service:8080\", not {JsonNode.Describe(item.Kind)}", item);
                ok = false;
                continue;
            }

            if (!Hosts.TrySanitize(item.Text!, out string host, out string problem))
            {
                _diagnostics.Report(DiagnosticKind.InvalidHost, $"host \"{item.Text}\" is not valid: {problem}", item);
                ok = false;
                continue;
            }

            hosts.Add(host);
        }

        return ok ? hosts : null;
    }

    private int HostGroup(List<string> hosts)
    {
        var group = new HostGroupModel(EquatableArray.From(hosts));
        int index = _hostGroups.IndexOf(group);
        if (index >= 0)
        {
            return index;
        }

        _hostGroups.Add(group);
        return _hostGroups.Count - 1;
    }

    private void CheckKeys(JsonNode node, string where, string[] supported, string[] notYet)
    {
        foreach (JsonProperty property in node.Properties!)
        {
            if (Keys.Contains(supported, property.Name))
            {
                continue;
            }

            if (Keys.Contains(notYet, property.Name))
            {
                _diagnostics.ReportAtKey(DiagnosticKind.UnsupportedFeature, $"\"{property.Name}\" in {where} is not supported yet and has no effect", property);
                continue;
            }

            string? suggestion = Keys.Suggest(property.Name, supported, notYet);
            string hint = suggestion is null ? string.Empty : $"; did you mean \"{suggestion}\"?";
            _diagnostics.ReportAtKey(DiagnosticKind.UnknownKey, $"unknown key \"{property.Name}\" in {where} is ignored{hint}", property);
        }
    }

    /// <summary>Checks a value's type; reports GW0004 at the value when it is wrong. <see cref="JsonKind.True"/> stands for any boolean.</summary>
    private bool Expect(JsonProperty property, JsonKind kind, string what)
    {
        JsonKind actual = property.Value.Kind;
        bool matches = actual == kind || (kind == JsonKind.True && actual == JsonKind.False);
        if (!matches)
        {
            _diagnostics.Report(DiagnosticKind.WrongType, $"\"{property.Name}\" must be {what}, not {JsonNode.Describe(actual)}", property.Value);
        }

        return matches;
    }
}

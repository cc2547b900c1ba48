using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

/// <summary>
/// Reads the values every part of the configuration uses (booleans, methods, field lists, forwarding lists, hosts,
/// flatmap operations, static data) and checks an object's keys, each finding reported at its exact place. The parser
/// core and every namespace component read through one instance, so a value means the same wherever it appears.
/// </summary>
internal sealed class ConfigReader
{
    /// <summary>Without <c>input_headers</c>, an endpoint forwards only <c>Content-Type</c> (docs/configuration.md).</summary>
    private static readonly EquatableArray<string> DefaultHeaders = new(new[] { "Content-Type" });

    private readonly DiagnosticBag _diagnostics;

    public ConfigReader(DiagnosticBag diagnostics) => _diagnostics = diagnostics;

    public DiagnosticBag Diagnostics => _diagnostics;

    /// <summary>The files the configuration names besides itself (Lua sources).</summary>
    public ConfigFiles Files { get; init; } = ConfigFiles.None;

    public StaticDataModel? ParseStatic(JsonProperty? property)
    {
        if (property is null || !Expect(property, JsonKind.Object, "an object with \"data\" and \"strategy\""))
        {
            return null;
        }

        CheckKeys(property.Value, "\"static\"", Keys.StaticSupported, Array.Empty<string>());
        string strategy = "always";
        if (property.Value.Find("strategy") is { } strategyProperty && Expect(strategyProperty, JsonKind.String, "a strategy name"))
        {
            strategy = strategyProperty.Value.Text!;
            if (!Keys.Contains(Keys.StaticStrategies, strategy))
            {
                _diagnostics.Report(DiagnosticKind.InvalidValue, $"unknown static strategy \"{strategy}\"; use one of {string.Join(", ", Keys.StaticStrategies)}", strategyProperty.Value);
                return null;
            }
        }

        JsonProperty? data = property.Value.Find("data");
        if (data is null)
        {
            _diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, "\"static\" needs a \"data\" object to write into the response", property);
            return null;
        }

        return Expect(data, JsonKind.Object, "an object") ? new StaticDataModel(strategy, JsonText.Compact(data.Value)) : null;
    }

    public EquatableArray<FlatmapOperationModel> ParseFlatmap(JsonProperty? property)
    {
        var operations = new List<FlatmapOperationModel>();
        if (property is null || !Expect(property, JsonKind.Array, "an array of operations"))
        {
            return EquatableArray.From(operations);
        }

        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.Object)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"a flatmap_filter operation must be an object like {{\"type\": \"move\", \"args\": [\"a\", \"b\"]}}, not {JsonNode.Describe(item.Kind)}", item);
                continue;
            }

            CheckKeys(item, "a flatmap_filter operation", Keys.FlatmapSupported, Array.Empty<string>());
            JsonProperty? type = item.Find("type");
            JsonProperty? args = item.Find("args");
            if (type is null || !Expect(type, JsonKind.String, "an operation name") || !Keys.Contains(Keys.FlatmapTypes, type.Value.Text!))
            {
                _diagnostics.Report(DiagnosticKind.InvalidValue, $"a flatmap_filter operation needs \"type\": one of {string.Join(", ", Keys.FlatmapTypes)}", type?.Value ?? item);
                continue;
            }

            EquatableArray<string> arguments = ParseFieldList(args);
            bool pair = type.Value.Text != "del";
            if (args is null || (pair ? arguments.Count != 2 : arguments.Count == 0))
            {
                string expected = pair ? "exactly two paths: [source, destination]" : "at least one path";
                _diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{type.Value.Text}\" takes {expected} in \"args\"", args?.Value ?? item);
                continue;
            }

            operations.Add(new FlatmapOperationModel(type.Value.Text!, arguments));
        }

        return EquatableArray.From(operations);
    }

    public EquatableArray<string> ParseFieldList(JsonProperty? property)
    {
        var fields = new List<string>();
        if (property is null || !Expect(property, JsonKind.Array, "an array of dotted field names"))
        {
            return EquatableArray.From(fields);
        }

        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.String || item.Text!.Length == 0)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"each entry of \"{property.Name}\" must be a non-empty field name such as \"user.id\"", item);
                continue;
            }

            fields.Add(item.Text);
        }

        return EquatableArray.From(fields);
    }

    /// <summary>The string items of a list (<paramref name="what"/> names them for a wrong type), each other item reported at its place.</summary>
    public List<JsonNode> StringItems(JsonProperty property, string what)
    {
        var items = new List<JsonNode>();
        if (!Expect(property, JsonKind.Array, "an array of " + what))
        {
            return items;
        }

        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.String)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"each entry of \"{property.Name}\" must be a string, not {JsonNode.Describe(item.Kind)}", item);
                continue;
            }

            items.Add(item);
        }

        return items;
    }

    public EquatableArray<MappingModel> ParseMapping(JsonProperty? property)
    {
        var mapping = new List<MappingModel>();
        if (property is null || !Expect(property, JsonKind.Object, "an object of renames {\"old\": \"new\"}"))
        {
            return EquatableArray.From(mapping);
        }

        foreach (JsonProperty rename in property.Value.Properties!)
        {
            if (rename.Value.Kind != JsonKind.String || rename.Value.Text!.Length == 0)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"mapping \"{rename.Name}\" must name the new key as a non-empty string", rename.Value);
                continue;
            }

            // KrakenD keeps only the part of the new name before the first dot.
            string to = rename.Value.Text;
            int dot = to.IndexOf('.');
            mapping.Add(new MappingModel(rename.Name, dot > 0 ? to.Substring(0, dot) : to));
        }

        return EquatableArray.From(mapping);
    }

    public ForwardingListModel ParseForwardingList(JsonProperty? property, bool endpointLevel, bool headers)
    {
        if (property is null || !Expect(property, JsonKind.Array, headers ? "an array of header names" : "an array of query keys"))
        {
            // Endpoint default: nothing (query) or only Content-Type (headers). Backend default: no further filter.
            return endpointLevel
                ? new ForwardingListModel(false, headers ? DefaultHeaders : EquatableArray<string>.Empty)
                : new ForwardingListModel(false, null);
        }

        var names = new List<string>();
        bool all = false;
        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.String)
            {
                _diagnostics.Report(DiagnosticKind.WrongType, $"each entry of \"{property.Name}\" must be a string, not {JsonNode.Describe(item.Kind)}", item);
                continue;
            }

            if (item.Text == "*" && endpointLevel)
            {
                all = true;
                continue;
            }

            if (headers && !Gateway.Http.HttpRules.IsHeaderName(item.Text!))
            {
                if (item.Text!.Length > 0 && item.Text != "*")
                {
                    _diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" is not a valid header name", item);
                }

                continue;
            }

            if (item.Text!.Length > 0 && !names.Contains(item.Text))
            {
                names.Add(item.Text);
            }
        }

        return new ForwardingListModel(all, EquatableArray.From(names));
    }


    public string? ParseOutputEncoding(JsonProperty? property) =>
        ParseEncoding(property, Keys.OutputEncodings, Keys.OutputEncodingsNotYet);

    public string ParseBackendEncoding(JsonProperty? property) =>
        ParseEncoding(property, Keys.BackendEncodings, Keys.BackendEncodingsNotYet) ?? "json";

    /// <summary>An <c>encoding</c> or <c>output_encoding</c> name: one of <paramref name="supported"/>, else a finding; null when absent or wrong.</summary>
    public string? ParseEncoding(JsonProperty? property, string[] supported, string[] notYet)
    {
        if (property is null || !Expect(property, JsonKind.String, "an encoding name"))
        {
            return null;
        }

        string name = property.Value.Text!;
        if (Keys.Contains(supported, name))
        {
            return name;
        }

        string choices = string.Join(", ", supported);
        if (Keys.Contains(notYet, name))
        {
            _diagnostics.Report(DiagnosticKind.UnsupportedFeature, $"{property.Name} \"{name}\" is not supported yet; use one of {choices}", property.Value);
        }
        else
        {
            _diagnostics.Report(DiagnosticKind.UnknownEncoding, $"unknown {property.Name} \"{name}\"; use one of {choices}", property.Value);
        }

        return null;
    }

    public int ParseConcurrentCalls(JsonProperty? property)
    {
        if (property is null || !Expect(property, JsonKind.Number, "a whole number"))
        {
            return 1;
        }

        if (!int.TryParse(property.Value.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int calls) || calls < 1 || calls > 16)
        {
            _diagnostics.Report(DiagnosticKind.InvalidValue, $"concurrent_calls {property.Value.Text} is out of range; use a whole number from 1 to 16", property.Value);
            return 1;
        }

        return calls;
    }

    public bool ParseBool(JsonProperty? property) =>
        property is not null && Expect(property, JsonKind.True, "true or false") && property.Value.Kind == JsonKind.True;

    public string ParseMethod(JsonProperty? property, string inherited, string[] allowed, string where)
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

    public List<string>? ParseHosts(JsonProperty? property, bool verbatim = false)
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

            string host;
            string problem;
            if (verbatim ? !Hosts.TryUseVerbatim(item.Text!, out host, out problem) : !Hosts.TrySanitize(item.Text!, out host, out problem))
            {
                _diagnostics.Report(DiagnosticKind.InvalidHost, $"host \"{item.Text}\" is not valid: {problem}", item);
                ok = false;
                continue;
            }

            hosts.Add(host);
        }

        return ok ? hosts : null;
    }

    public void CheckKeys(JsonNode node, string where, string[] supported, string[] notYet)
    {
        foreach (JsonProperty property in node.Properties!)
        {
            if (Keys.Contains(supported, property.Name))
            {
                continue;
            }

            if (Keys.Contains(notYet, property.Name))
            {
                _diagnostics.ReportAtKey(
                    DiagnosticKind.UnsupportedFeature,
                    Unsupported.Reason(property.Name) is { } instead
                        ? $"\"{property.Name}\" in {where} cannot be supported: {instead}"
                        : $"\"{property.Name}\" in {where} is not supported yet; remove it (the gateway will not silently ignore it)",
                    property);
                continue;
            }

            // A key close to a known one is a typo whose intent would silently not happen: an error. Any other unknown
            // key may be another tool's extension: a warning.
            if (Keys.Suggest(property.Name, supported, notYet) is { } suggestion)
            {
                _diagnostics.ReportAtKey(DiagnosticKind.MisspelledKey, $"unknown key \"{property.Name}\" in {where}; did you mean \"{suggestion}\"? (a misspelled key is an error: what it meant would not happen)", property);
                continue;
            }

            _diagnostics.ReportAtKey(DiagnosticKind.UnknownKey, $"unknown key \"{property.Name}\" in {where} is ignored", property);
        }
    }

    /// <summary>Checks a value's type; reports GW0004 at the value when it is wrong. <see cref="JsonKind.True"/> stands for any boolean.</summary>
    public bool Expect(JsonProperty property, JsonKind kind, string what)
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

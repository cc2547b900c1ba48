using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Http;

namespace Gateway.Components.Martian;

/// <summary>
/// One modification, flattened out of the modifier tree in the order it runs: its kind (<c>header.Modifier</c>...),
/// the scopes it applies to, and its arguments.
/// </summary>
internal sealed record MartianOperationModel(
    string Kind,
    bool Request,
    bool Response,
    string? Name = null,
    string? Value = null,
    EquatableArray<string> Names = default,
    string? ContentType = null,
    string? Body = null,
    string? Scheme = null,
    string? Host = null,
    string? Path = null,
    string? Query = null);

/// <summary>A backend's martian modifiers: the operations in the order they run.</summary>
internal sealed record MartianModel(EquatableArray<MartianOperationModel> Operations) : BackendComponentModel;

/// <summary>
/// KrakenD's <c>modifier/martian</c> on a backend (docs/configuration.md, martian modifiers): changes to the backend
/// request (headers, query, body, URL) and to the backend's response (headers, body) before the gateway reads it. The
/// supported modifiers are read into a flat list of operations at build time; any other modifier is a located error.
/// </summary>
internal static class MartianConfig
{
    public static readonly ConfigNamespace Namespace = new("modifier/martian", ConfigScope.Backend);

    private static readonly string[] Modifiers =
    {
        "fifo.Group", "header.Modifier", "header.Append", "header.Blacklist", "querystring.Modifier", "body.Modifier", "url.Modifier",
    };

    /// <summary>Headers a modifier may not set: they describe the connection or the body's framing, which the HTTP client writes.</summary>
    private static readonly string[] NotSettable = { "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length" };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static BackendComponentModel? Read(JsonNode node, BackendReadContext context)
    {
        ConfigReader read = context.Read;
        int errorsBefore = read.Diagnostics.ErrorCount;
        var operations = new List<MartianOperationModel>();
        ReadModifier(node, true, true, read, operations, "\"modifier/martian\"");
        return read.Diagnostics.ErrorCount > errorsBefore ? null : new MartianModel(EquatableArray.From(operations));
    }

    /// <summary>Reads an object holding exactly one modifier (<c>{"header.Modifier": {...}}</c>), within the enclosing scopes.</summary>
    private static void ReadModifier(JsonNode holder, bool request, bool response, ConfigReader read, List<MartianOperationModel> operations, string where)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        if (holder.Kind != JsonKind.Object || holder.Properties!.Count == 0)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, $"{where} must hold one modifier, such as {{\"header.Modifier\": {{\"scope\": [\"request\"], \"name\": \"X-Id\", \"value\": \"1\"}}}}", holder);
            return;
        }

        foreach (JsonProperty modifier in holder.Properties)
        {
            if (modifier.Name == Keys.Comment)
            {
                continue;
            }

            if (!Keys.Contains(Modifiers, modifier.Name))
            {
                diagnostics.ReportAtKey(DiagnosticKind.UnsupportedFeature, $"the martian modifier \"{modifier.Name}\" is not supported; the gateway supports {string.Join(", ", Modifiers)}", modifier);
                continue;
            }

            if (!read.Expect(modifier, JsonKind.Object, "an object of the modifier's settings"))
            {
                continue;
            }

            ReadOne(modifier, request, response, read, operations);
        }
    }

    private static void ReadOne(JsonProperty modifier, bool outerRequest, bool outerResponse, ConfigReader read, List<MartianOperationModel> operations)
    {
        JsonNode settings = modifier.Value;
        DiagnosticBag diagnostics = read.Diagnostics;
        string where = $"\"{modifier.Name}\"";
        (bool request, bool response) = Scope(settings, read, where);
        request &= outerRequest;
        response &= outerResponse;
        switch (modifier.Name)
        {
            case "fifo.Group":
                read.CheckKeys(settings, where, new[] { "scope", "aggregateErrors", "modifiers", Keys.Comment }, Array.Empty<string>());
                read.ParseBool(settings.Find("aggregateErrors"));
                if (settings.Find("modifiers") is { } list && read.Expect(list, JsonKind.Array, "an array of modifiers"))
                {
                    foreach (JsonNode child in list.Value.Items!)
                    {
                        ReadModifier(child, request, response, read, operations, "each entry of \"modifiers\"");
                    }
                }

                return;
            case "header.Modifier":
            case "header.Append":
                read.CheckKeys(settings, where, new[] { "scope", "name", "value", Keys.Comment }, Array.Empty<string>());
                if (HeaderName(settings, read, where) is { } name && Text(settings, "value", read, where) is { } value)
                {
                    if (!HttpRules.IsHeaderValue(value))
                    {
                        diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: the value holds a character a header cannot (control or non-ASCII)", settings.Find("value")!.Value);
                        return;
                    }

                    operations.Add(new MartianOperationModel(modifier.Name, request, response, Name: name, Value: value));
                }

                return;
            case "header.Blacklist":
            {
                read.CheckKeys(settings, where, new[] { "scope", "names", Keys.Comment }, Array.Empty<string>());
                var names = new List<string>();
                if (settings.Find("names") is { } namesProperty && read.Expect(namesProperty, JsonKind.Array, "an array of header names"))
                {
                    foreach (JsonNode item in namesProperty.Value.Items!)
                    {
                        if (item.Kind != JsonKind.String || !HttpRules.IsHeaderName(item.Text!))
                        {
                            diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: each entry of \"names\" must be a header name", item);
                            continue;
                        }

                        names.Add(item.Text!);
                    }
                }
                else
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"{where} needs \"names\": the headers to remove", settings.Start, 1);
                }

                operations.Add(new MartianOperationModel(modifier.Name, request, response, Names: EquatableArray.From(names)));
                return;
            }

            case "querystring.Modifier":
                read.CheckKeys(settings, where, new[] { "scope", "name", "value", Keys.Comment }, Array.Empty<string>());
                if (Text(settings, "name", read, where) is { } key && Text(settings, "value", read, where) is { } queryValue)
                {
                    operations.Add(new MartianOperationModel(modifier.Name, request, false, Name: key, Value: queryValue));
                }

                return;
            case "body.Modifier":
            {
                read.CheckKeys(settings, where, new[] { "scope", "contentType", "body", Keys.Comment }, Array.Empty<string>());
                string? contentType = settings.Find("contentType") is { } typeProperty && read.Expect(typeProperty, JsonKind.String, "a media type") ? typeProperty.Value.Text : null;
                if (Text(settings, "body", read, where) is { } body)
                {
                    try
                    {
                        Convert.FromBase64String(body);
                    }
                    catch (FormatException)
                    {
                        diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"body\" must be base64, as martian reads it (e.g. \"eyJhIjoxfQ==\" for {{\"a\":1}})", settings.Find("body")!.Value);
                        return;
                    }

                    if (contentType is not null && !HttpRules.IsHeaderValue(contentType))
                    {
                        diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"contentType\" holds a character a header cannot", settings.Find("contentType")!.Value);
                        return;
                    }

                    operations.Add(new MartianOperationModel(modifier.Name, request, response, ContentType: contentType, Body: body));
                }

                return;
            }

            case "url.Modifier":
            {
                read.CheckKeys(settings, where, new[] { "scope", "scheme", "host", "path", "query", Keys.Comment }, Array.Empty<string>());
                string? scheme = Optional(settings, "scheme", read);
                string? host = Optional(settings, "host", read);
                string? path = Optional(settings, "path", read);
                string? query = Optional(settings, "query", read);
                if (scheme is not null and not ("http" or "https"))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"scheme\" must be http or https", settings.Find("scheme")!.Value);
                    return;
                }

                if (host is not null && Uri.CheckHostName(host.Split(':')[0]) == UriHostNameType.Unknown)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"host\" must be a host name or address, with an optional port", settings.Find("host")!.Value);
                    return;
                }

                if (path is not null && (path.Length == 0 || path[0] != '/'))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"path\" must start with \"/\"", settings.Find("path")!.Value);
                    return;
                }

                operations.Add(new MartianOperationModel(modifier.Name, request, false, Scheme: scheme, Host: host, Path: path, Query: query));
                return;
            }
        }
    }

    /// <summary>The modifier's <c>scope</c>: <c>["request"]</c>, <c>["response"]</c> or both (the default when absent).</summary>
    private static (bool Request, bool Response) Scope(JsonNode settings, ConfigReader read, string where)
    {
        if (settings.Find("scope") is not { } scope || !read.Expect(scope, JsonKind.Array, "an array such as [\"request\", \"response\"]"))
        {
            return (true, true);
        }

        bool request = false;
        bool response = false;
        foreach (JsonNode item in scope.Value.Items!)
        {
            switch (item.Kind == JsonKind.String ? item.Text : null)
            {
                case "request":
                    request = true;
                    break;
                case "response":
                    response = true;
                    break;
                default:
                    read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: each entry of \"scope\" must be \"request\" or \"response\"", item);
                    break;
            }
        }

        return (request, response);
    }

    private static string? HeaderName(JsonNode settings, ConfigReader read, string where)
    {
        if (Text(settings, "name", read, where) is not { } name)
        {
            return null;
        }

        if (!HttpRules.IsHeaderName(name) || HttpRules.Contains(NotSettable, name))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"{where}: \"{name}\" is not a header a modifier can set (a header name, and not one that frames the message)", settings.Find("name")!.Value);
            return null;
        }

        return name;
    }

    private static string? Text(JsonNode settings, string key, ConfigReader read, string where)
    {
        if (settings.Find(key) is not { } property)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"{where} needs \"{key}\"", settings.Start, 1);
            return null;
        }

        return read.Expect(property, JsonKind.String, "a string") ? property.Value.Text : null;
    }

    private static string? Optional(JsonNode settings, string key, ConfigReader read) =>
        settings.Find(key) is { } property && read.Expect(property, JsonKind.String, "a string") && property.Value.Text!.Length > 0 ? property.Value.Text : null;
}

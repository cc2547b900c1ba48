using System;
using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.RequestTemplates;

/// <summary>A backend's request built from templates: a body, headers, or both.</summary>
internal sealed record RequestTemplates(RequestBodyModel? Body, EquatableArray<HeaderTemplateModel> Headers);

/// <summary>
/// The gateway's own <c>gateway/request</c> namespace on a backend: a request body and headers built from the route,
/// the client request and earlier responses, with one placeholder grammar and one rendering table
/// (docs/configuration.md, request templates).
/// </summary>
internal sealed class RequestTemplatesConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/request", ConfigScope.Backend);

    private static readonly string[] Supported = { "body", "headers", Keys.Comment };

    private readonly ConfigReader _read;
    private readonly DiagnosticBag _diagnostics;
    private readonly ConfigSource _source;

    public RequestTemplatesConfig(ConfigReader read, ConfigSource source)
    {
        _read = read;
        _diagnostics = read.Diagnostics;
        _source = source;
    }

    public RequestTemplates Read(ExtraConfig extra, string method, TemplateParser.Scope scope)
    {
        if (extra.Find(Namespace) is not { } request)
        {
            return new RequestTemplates(null, EquatableArray<HeaderTemplateModel>.Empty);
        }

        _read.CheckKeys(request, "\"gateway/request\"", Supported, Array.Empty<string>());
        var templates = new TemplateParser(_diagnostics, _source);
        RequestBodyModel? body = null;
        if (request.Find("body") is { } bodyProperty)
        {
            body = ParseBodyTemplate(bodyProperty, method, scope, templates);
        }

        var headers = new List<HeaderTemplateModel>();
        if (request.Find("headers") is { } headersProperty && _read.Expect(headersProperty, JsonKind.Object, "an object of header names and value templates"))
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (JsonProperty header in headersProperty.Value.Properties!)
            {
                if (header.Name == Keys.Comment)
                {
                    continue;
                }

                if (ParseHeaderTemplate(header, scope, templates, seen) is { } parsed)
                {
                    headers.Add(parsed);
                }
            }
        }

        return new RequestTemplates(body, EquatableArray.From(headers));
    }

    private RequestBodyModel? ParseBodyTemplate(JsonProperty property, string method, TemplateParser.Scope scope, TemplateParser templates)
    {
        if (method is "GET" or "HEAD")
        {
            _diagnostics.ReportAtKey(DiagnosticKind.MalformedBodyTemplate, $"a {method} backend never sends a body (neither the client's nor a template; docs/compatibility.md, request bodies); remove \"body\", or give the backend \"method\": \"POST\" (or PUT, PATCH, DELETE) to send one", property);
            return null;
        }

        JsonNode value = property.Value;
        switch (value.Kind)
        {
            case JsonKind.String:
            {
                string text = value.Text!;
                if (!TemplateParser.IsSinglePlaceholder(text))
                {
                    templates.Report(DiagnosticKind.MalformedBodyTemplate, "a string body must be one whole-response placeholder such as \"{resp0}\" (the raw body of an earlier backend); write a JSON template as a JSON object or array instead", value, -1, 0);
                    return null;
                }

                int? source = templates.ResolveWholeResponseBody(text.Substring(1, text.Length - 2), value, scope);
                return source is null ? null : new RequestBodyModel(source.Value, EquatableArray<TemplatePartModel>.Empty);
            }

            case JsonKind.Object:
            case JsonKind.Array:
            {
                var parts = new List<TemplatePartModel>();
                var literal = new StringBuilder();
                bool ok = CompileJsonTemplate(value, scope, templates, parts, literal);
                FlushJsonLiteral(parts, literal);
                return ok ? new RequestBodyModel(-1, EquatableArray.From(parts)) : null;
            }

            default:
                _diagnostics.Report(DiagnosticKind.MalformedBodyTemplate, $"\"body\" must be a JSON template (an object or an array) or a whole-response placeholder such as \"{{resp0}}\", not {JsonNode.Describe(value.Kind)}", value);
                return null;
        }
    }

    /// <summary>
    /// Writes the template as compact JSON into literal parts, with a slot for every placeholder in a string value: a
    /// string that is only the placeholder takes the value with its JSON type, a longer string takes it as text.
    /// </summary>
    private bool CompileJsonTemplate(JsonNode node, TemplateParser.Scope scope, TemplateParser templates, List<TemplatePartModel> parts, StringBuilder literal)
    {
        bool ok = true;
        switch (node.Kind)
        {
            case JsonKind.Object:
            {
                literal.Append('{');
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (int i = 0; i < node.Properties!.Count; i++)
                {
                    JsonProperty member = node.Properties[i];
                    if (!names.Add(member.Name))
                    {
                        _diagnostics.ReportAtKey(DiagnosticKind.MalformedBodyTemplate, $"the template repeats the key \"{member.Name}\"; a backend would see only one of them", member);
                        ok = false;
                    }

                    literal.Append(i > 0 ? "," : string.Empty);
                    JsonText.WriteString(member.Name, literal);
                    literal.Append(':');
                    ok &= CompileJsonTemplate(member.Value, scope, templates, parts, literal);
                }

                literal.Append('}');
                return ok;
            }

            case JsonKind.Array:
                literal.Append('[');
                for (int i = 0; i < node.Items!.Count; i++)
                {
                    literal.Append(i > 0 ? "," : string.Empty);
                    ok &= CompileJsonTemplate(node.Items[i], scope, templates, parts, literal);
                }

                literal.Append(']');
                return ok;
            case JsonKind.String:
            {
                string text = node.Text!;
                bool whole = TemplateParser.IsSinglePlaceholder(text);
                EquatableArray<TemplatePartModel>? pieces = templates.ParseText(text, node, scope, whole ? TemplatePosition.JsonValue : TemplatePosition.JsonText);
                if (pieces is null)
                {
                    return false;
                }

                if (!whole)
                {
                    literal.Append('"');
                }

                foreach (TemplatePartModel piece in pieces.Value)
                {
                    if (piece.Kind == TemplatePartKind.Literal)
                    {
                        JsonText.WriteEscaped(piece.Text, literal);
                        continue;
                    }

                    FlushJsonLiteral(parts, literal);
                    parts.Add(piece);
                }

                if (!whole)
                {
                    literal.Append('"');
                }

                return true;
            }

            default:
                literal.Append(JsonText.Compact(node));
                return true;
        }
    }

    private static void FlushJsonLiteral(List<TemplatePartModel> parts, StringBuilder literal)
    {
        if (literal.Length > 0)
        {
            parts.Add(new TemplatePartModel(TemplatePartKind.Literal, literal.ToString(), TemplatePosition.JsonValue, -1, EquatableArray<string>.Empty));
            literal.Clear();
        }
    }

    private HeaderTemplateModel? ParseHeaderTemplate(JsonProperty header, TemplateParser.Scope scope, TemplateParser templates, HashSet<string> seen)
    {
        if (!Gateway.Http.HttpRules.IsHeaderName(header.Name))
        {
            _diagnostics.ReportAtKey(DiagnosticKind.InvalidHeaderTemplate, $"\"{header.Name}\" is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)", header);
            return null;
        }

        foreach (string reserved in Gateway.Http.HttpRules.NotSettable)
        {
            if (string.Equals(reserved, header.Name, StringComparison.OrdinalIgnoreCase))
            {
                _diagnostics.ReportAtKey(DiagnosticKind.InvalidHeaderTemplate, $"\"{header.Name}\" cannot be set: the HTTP client writes it, or it only concerns one connection", header);
                return null;
            }
        }

        if (!seen.Add(header.Name))
        {
            _diagnostics.ReportAtKey(DiagnosticKind.InvalidHeaderTemplate, $"the header \"{header.Name}\" is set twice (names are case-insensitive)", header);
            return null;
        }

        if (!_read.Expect(header, JsonKind.String, "a header value template"))
        {
            return null;
        }

        string template = header.Value.Text!;
        EquatableArray<TemplatePartModel>? parts = templates.ParseText(template, header.Value, scope, TemplatePosition.HeaderValue);
        if (parts is null)
        {
            return null;
        }

        // Literal text is known now: a character a header value cannot hold makes the template never valid.
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if ((c < 0x20 && c != '\t') || c >= 0x7F)
            {
                string shown = c < 0x20 || c == 0x7F ? $"U+{(int)c:X4}" : $"'{c}'";
                templates.Report(DiagnosticKind.InvalidHeaderTemplate, $"the value of \"{header.Name}\" contains {shown}; a header value holds visible ASCII characters, spaces and tabs only", header.Value, i, 1);
                return null;
            }
        }

        return new HeaderTemplateModel(header.Name, template, parts.Value);
    }
}

using System;
using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

// Request bodies and headers built from templates ("gateway/request"), and the APISIX proxy-chain plugin.
internal sealed partial class ConfigParser
{
    private sealed record RequestTemplates(RequestBodyModel? Body, EquatableArray<HeaderTemplateModel> Headers);

    private RequestTemplates ParseRequestTemplates(JsonNode? request, string method, TemplateParser.Scope scope)
    {
        if (request is null)
        {
            return new RequestTemplates(null, EquatableArray<HeaderTemplateModel>.Empty);
        }

        _read.CheckKeys(request, "\"gateway/request\"", Keys.RequestSupported, Array.Empty<string>());
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
            _diagnostics.ReportAtKey(DiagnosticKind.MalformedBodyTemplate, $"a {method} backend sends no body; give the backend \"method\": \"POST\" (or PUT, PATCH, DELETE) to send this one", property);
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

    /// <summary>
    /// Marks what later steps read of each backend beyond its shaped data: its raw body (<c>{respN}</c>) and the response
    /// headers named in <c>{respN.headers.Name}</c>, so the runtime keeps exactly those.
    /// </summary>
    private static void KeepWhatLaterStepsRead(List<BackendModel> backends)
    {
        for (int n = 0; n < backends.Count; n++)
        {
            bool raw = false;
            var headers = new List<string>();
            foreach (BackendModel later in backends)
            {
                foreach (TemplatePartModel part in AllParts(later))
                {
                    if (part.Source != n)
                    {
                        continue;
                    }

                    raw |= part.Kind == TemplatePartKind.WholeResponse;
                    if (part.Kind == TemplatePartKind.ResponseHeader && !headers.Exists(h => string.Equals(h, part.Path[0], StringComparison.OrdinalIgnoreCase)))
                    {
                        headers.Add(part.Path[0]);
                    }
                }

                raw |= later.Body is { WholeResponse: var whole } && whole == n;
            }

            if (raw || headers.Count > 0)
            {
                backends[n] = backends[n] with { KeepRawBody = raw, CapturedHeaders = EquatableArray.From(headers) };
            }
        }
    }

    /// <summary>Every template part of a backend: URL, body and headers.</summary>
    internal static IEnumerable<TemplatePartModel> AllParts(BackendModel backend)
    {
        foreach (TemplatePartModel part in backend.Url)
        {
            yield return part;
        }

        if (backend.Body is not null)
        {
            foreach (TemplatePartModel part in backend.Body.Parts)
            {
                yield return part;
            }
        }

        foreach (HeaderTemplateModel header in backend.Headers)
        {
            foreach (TemplatePartModel part in header.Parts)
            {
                yield return part;
            }
        }
    }

    /// <summary>
    /// The APISIX proxy-chain plugin (peers.md §1): <c>services</c>, each with an absolute <c>uri</c> or a
    /// <c>host</c> + <c>url_pattern</c> like a backend, and an optional <c>token_header</c>.
    /// </summary>
    private ProxyChainModel? ParseProxyChain(JsonNode node, List<RouteSegmentModel>? route, List<string>? rootHosts)
    {
        int errorsBefore = _diagnostics.ErrorCount;
        _read.CheckKeys(node, "\"proxy-chain\"", Keys.ProxyChainSupported, Array.Empty<string>());
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
        _read.CheckKeys(node, "a proxy-chain service", Keys.ProxyChainServiceSupported, Array.Empty<string>());

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

        return new ProxyChainServiceModel(method, HostGroup(hosts), pattern, url.Value);
    }
}

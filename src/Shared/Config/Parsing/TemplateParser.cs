using System;
using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

/// <summary>
/// Splits templates into literal text and slots at build time, with one placeholder grammar for URLs, header values
/// and JSON bodies: <c>{param}</c> route parameters, <c>{respN_a.b}</c> values of an earlier backend's response
/// (docs/configuration.md, placeholders; numeric segments index arrays, <c>*</c> takes every element), <c>{respN}</c> an earlier
/// backend's whole body, <c>{respN.headers.Name}</c> its response header, <c>{input_headers.Name}</c> and
/// <c>{input_query.name}</c> the client's header and query value, <c>{JWT.claim}</c> a claim of the client's validated
/// token.
/// </summary>
internal sealed class TemplateParser
{
    private readonly DiagnosticBag _diagnostics;
    private readonly ConfigSource _source;

    public TemplateParser(DiagnosticBag diagnostics, ConfigSource source)
    {
        _diagnostics = diagnostics;
        _source = source;
    }

    /// <summary>What the pattern may refer to: the endpoint's parameters and the backends before this one.</summary>
    public sealed class Scope
    {
        public Scope(List<string> routeParameters, bool sequential, int backendIndex, List<string?> groups, bool claims = false)
        {
            RouteParameters = routeParameters;
            Sequential = sequential;
            BackendIndex = backendIndex;
            Groups = groups;
            Claims = claims;
        }

        public List<string> RouteParameters { get; }

        public bool Sequential { get; }

        public int BackendIndex { get; }

        /// <summary>The <c>group</c> of every backend of the endpoint, by index.</summary>
        public List<string?> Groups { get; }

        /// <summary>True when the endpoint validates a token (<c>auth/validator</c>), so <c>{JWT.claim}</c> can be read.</summary>
        public bool Claims { get; }

        /// <summary>
        /// On an endpoint whose steps form a dependency graph (<c>gateway/step.depends_on</c>): the backends this one
        /// runs after, directly or not (<c>Ancestors[m]</c>), the only ones it may read. Null otherwise.
        /// </summary>
        public bool[]? Ancestors { get; set; }

        /// <summary>The steps' <c>gateway/step.id</c> names and their indexes, for <c>{resp.id.field}</c>.</summary>
        public Dictionary<string, int>? StepIds { get; set; }

        /// <summary>True when the step runs once per element of an array (<c>gateway/step.for_each</c>): <c>{item…}</c> reads the element.</summary>
        public bool ForEach { get; set; }
    }

    /// <summary>Returns the parts of a <c>url_pattern</c>, or null when the pattern has an error (already reported).</summary>
    public EquatableArray<TemplatePartModel>? ParseUrl(string pattern, JsonNode node, Scope scope)
    {
        // Offsets in diagnostics are relative to the value as written.
        int offsetShift = 0;
        if (pattern.Length == 0 || pattern[0] != '/')
        {
            pattern = "/" + pattern; // KrakenD adds the leading slash.
            offsetShift = -1;
        }

        var parts = new List<TemplatePartModel>();
        var literal = new StringBuilder();
        bool inQuery = false;
        bool ok = true;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '{')
            {
                int close = pattern.IndexOf('}', i + 1);
                string? literalDefault = null;
                string? name = close < 0 ? null : PlaceholderDefaults.Split(pattern.Substring(i + 1, close - i - 1), out literalDefault);
                if (name is null || !IsPlaceholderName(name))
                {
                    Report(DiagnosticKind.MalformedTemplate, "'{' does not start a placeholder: write {name} with letters, digits, '_', '-', '.', ':', '/' or '*'", node, i + offsetShift, 1);
                    ok = false;
                    i++;
                    continue;
                }

                FlushLiteral(parts, literal, inQuery);
                TemplatePosition position = inQuery ? TemplatePosition.QueryValue : TemplatePosition.PathSegment;
                TemplatePartModel? part = WithDefault(
                    ResolvePlaceholder(name, position, node, i + offsetShift, close - i + 1, scope),
                    literalDefault,
                    position,
                    node,
                    i + offsetShift + name.Length + 2,
                    close - i - name.Length - 2);
                if (part is null)
                {
                    ok = false;
                }
                else
                {
                    parts.Add(part);
                }

                i = close + 1;
                continue;
            }

            if (c == '}')
            {
                Report(DiagnosticKind.MalformedTemplate, "'}' without a matching '{'", node, i + offsetShift, 1);
                ok = false;
                i++;
                continue;
            }

            if (c == '#')
            {
                Report(DiagnosticKind.MalformedTemplate, "a url_pattern cannot contain a fragment ('#'); it is never sent to the backend", node, i + offsetShift, 1);
                ok = false;
                i++;
                continue;
            }

            if (c == '?' && !inQuery)
            {
                FlushLiteral(parts, literal, inQuery);
                inQuery = true;
            }

            i += AppendLiteral(literal, pattern, i);
        }

        FlushLiteral(parts, literal, inQuery);
        return ok ? EquatableArray.From(parts) : null;
    }

    /// <summary>
    /// Splits a text template (a header value, a JSON body string) into literal text and slots. Every <c>{name}</c>
    /// written with placeholder characters is a placeholder and must resolve; other braces are text. Returns null
    /// after reporting an error.
    /// </summary>
    public EquatableArray<TemplatePartModel>? ParseText(string template, JsonNode node, Scope scope, TemplatePosition position)
    {
        var parts = new List<TemplatePartModel>();
        var literal = new StringBuilder();
        bool ok = true;
        int i = 0;
        while (i < template.Length)
        {
            int close = template[i] == '{' ? template.IndexOf('}', i + 1) : -1;
            string? literalDefault = null;
            string? name = close < 0 ? null : PlaceholderDefaults.Split(template.Substring(i + 1, close - i - 1), out literalDefault);
            if (name is null || !IsPlaceholderName(name))
            {
                literal.Append(template[i]);
                i++;
                continue;
            }

            if (literal.Length > 0)
            {
                parts.Add(new TemplatePartModel(TemplatePartKind.Literal, literal.ToString(), position, -1, EquatableArray<string>.Empty));
                literal.Clear();
            }

            TemplatePartModel? part = WithDefault(ResolvePlaceholder(name, position, node, i, close - i + 1, scope), literalDefault, position, node, i + name.Length + 2, close - i - name.Length - 2);
            if (part is null)
            {
                ok = false;
            }
            else
            {
                parts.Add(part);
            }

            i = close + 1;
        }

        if (literal.Length > 0)
        {
            parts.Add(new TemplatePartModel(TemplatePartKind.Literal, literal.ToString(), position, -1, EquatableArray<string>.Empty));
        }

        return ok ? EquatableArray.From(parts) : null;
    }

    /// <summary>
    /// The value of a step's condition: exactly one placeholder (no default), resolved in <paramref name="scope"/> as a
    /// typed JSON value. Null after reporting why it cannot be one.
    /// </summary>
    public TemplatePartModel? ParseConditionValue(string value, JsonNode node, Scope scope)
    {
        if (!IsSinglePlaceholder(value) || value.IndexOf('|') >= 0)
        {
            Report(DiagnosticKind.InvalidValue, "a condition's \"value\" is one placeholder, as in \"{resp.user.type}\", \"{input_headers.X-Guest}\" or \"{id}\" (no default: \"exists\" tells whether it is there)", node, -1, 0);
            return null;
        }

        return ResolvePlaceholder(value.Substring(1, value.Length - 2), TemplatePosition.JsonValue, node, 0, value.Length, scope);
    }

    /// <summary>
    /// Parses <c>for_each.in</c>: one placeholder naming an array in a response the step depends on (a field, or a
    /// group object; not a whole raw body, a header or a client value). <c>{resp0_orders.*.id}</c> is a short form of
    /// the array <c>{resp0_orders}</c> with the key <c>id</c>: <paramref name="starKey"/> receives the path after the
    /// <c>*</c> (empty for <c>{resp0_orders.*}</c>), null when there is no <c>*</c>. Null after reporting why not.
    /// </summary>
    public TemplatePartModel? ParseArraySource(string value, JsonNode node, Scope scope, out string[]? starKey)
    {
        const string Example = "one placeholder naming an array in a response this step depends on, as in \"{resp.orders.items}\", \"{resp0_orders.items}\" or \"{resp0_orders.*.id}\" (the array, then the key of each element)";
        starKey = null;
        if (!IsSinglePlaceholder(value) || value.IndexOf('|') >= 0)
        {
            Report(DiagnosticKind.InvalidValue, $"\"in\" is {Example}, with no default", node, -1, 0);
            return null;
        }

        string name = value.Substring(1, value.Length - 2);
        int star = name.IndexOf(".*", StringComparison.Ordinal);
        if (star >= 0)
        {
            string rest = name.Substring(star + 2);
            if (star == 0 || (rest.Length > 0 && (rest[0] != '.' || rest.Length == 1)) || rest.IndexOf('*') >= 0)
            {
                Report(DiagnosticKind.InvalidValue, $"\"in\" is {Example}: one '*', standing for the elements of the array", node, 0, value.Length);
                return null;
            }

            starKey = rest.Length == 0 ? Array.Empty<string>() : rest.Substring(1).Split('.');
            if (Array.IndexOf(starKey, string.Empty) >= 0)
            {
                Report(DiagnosticKind.InvalidValue, $"\"in\" is {Example}: the key after the '*' is a path with single dots", node, 0, value.Length);
                starKey = null;
                return null;
            }

            name = name.Substring(0, star);
        }
        else if (name.IndexOf('*') >= 0)
        {
            Report(DiagnosticKind.InvalidValue, $"\"in\" is {Example}: '*' stands for the elements of the array, as a whole segment", node, 0, value.Length);
            return null;
        }

        TemplatePartModel? part = ResolvePlaceholder(name, TemplatePosition.JsonValue, node, 0, value.Length, scope);
        if (part is not null && part.Kind != TemplatePartKind.ResponseValue)
        {
            Report(DiagnosticKind.InvalidValue, $"\"in\" is {Example}", node, 0, value.Length);
            return null;
        }

        return part;
    }

    /// <summary>True when <paramref name="value"/> is exactly one placeholder, as in <c>"{resp0_user}"</c> or <c>"{resp0_tier|\"basic\"}"</c>.</summary>
    public static bool IsSinglePlaceholder(string value) =>
        value.Length > 2 && value[0] == '{' && value[value.Length - 1] == '}' && value.IndexOf('}') == value.Length - 1
        && IsPlaceholderName(PlaceholderDefaults.Split(value.Substring(1, value.Length - 2), out _));

    /// <summary>
    /// Adds a placeholder's default (<c>|</c> and a JSON scalar) to its part, checked for where it lands: text in a URL
    /// or a header needs a text form (not null; not empty in a path segment; only header characters in a header).
    /// Null after reporting an error at the default.
    /// </summary>
    private TemplatePartModel? WithDefault(TemplatePartModel? part, string? literal, TemplatePosition position, JsonNode node, int at, int length)
    {
        if (part is null || literal is null)
        {
            return part;
        }

        if (!PlaceholderDefaults.TryRead(literal, out string compact, out string? text))
        {
            Report(DiagnosticKind.MalformedTemplate, $"the default '{literal}' is not a JSON scalar: write a string in double quotes (\"unknown\"), a number, true, false or null", node, at, length);
            return null;
        }

        string? problem = position switch
        {
            TemplatePosition.JsonValue => null,
            _ when text is null => "null has no text form; write a string, a number or a boolean here",
            TemplatePosition.PathSegment when text.Length == 0 => "an empty default would leave an empty path segment",
            TemplatePosition.HeaderValue when !Gateway.Http.HttpRules.IsHeaderValue(text) => "a header value cannot hold this text (control or non-ASCII characters)",
            _ => null,
        };
        if (problem is not null)
        {
            Report(DiagnosticKind.MalformedTemplate, $"the default {literal} cannot be used here: {problem}", node, at, length);
            return null;
        }

        return part with { Default = compact, DefaultText = text };
    }

    /// <summary>Resolves <c>{respN}</c> as a whole request body; null after reporting why it cannot be one.</summary>
    public int? ResolveWholeResponseBody(string name, JsonNode node, Scope scope)
    {
        if (!TrySplitWholeResponse(name, out int backend))
        {
            Report(DiagnosticKind.MalformedBodyTemplate, $"a string body must be one whole-response placeholder such as \"{{resp0}}\" (the raw body of an earlier backend); write a JSON template as a JSON object or array instead", node, -1, 0);
            return null;
        }

        return CheckResponseReference(name, backend, node, 0, name.Length + 2, scope) ? backend : null;
    }

    private TemplatePartModel? ResolvePlaceholder(string name, TemplatePosition position, JsonNode node, int at, int length, Scope scope)
    {
        // {resp.user.id}: a step by its id, the field as in the step's own response (its group is added here).
        if (name.StartsWith("resp.", System.StringComparison.Ordinal))
        {
            return ResolveNamedReference(name, position, node, at, length, scope);
        }

        if (name == "item" || name.StartsWith("item.", System.StringComparison.Ordinal))
        {
            return ResolveItem(name, position, node, at, length, scope);
        }

        int parameter = scope.RouteParameters.IndexOf(name);
        if (parameter >= 0)
        {
            return new TemplatePartModel(TemplatePartKind.RouteParameter, name, position, parameter, EquatableArray<string>.Empty);
        }

        if (TrySplitPrefixed(name, "input_headers.", out string header) || TrySplitPrefixed(name, "input_query.", out header))
        {
            bool isHeader = name.StartsWith("input_headers.", System.StringComparison.Ordinal);
            if (isHeader && !Gateway.Http.HttpRules.IsHeaderName(header))
            {
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}}: \"{header}\" is not a valid header name", node, at, length);
                return null;
            }

            return new TemplatePartModel(isHeader ? TemplatePartKind.ClientHeader : TemplatePartKind.ClientQuery, name, position, -1, new EquatableArray<string>(new[] { header }));
        }

        if (TrySplitResponseHeader(name, out int headerSource, out string responseHeader))
        {
            if (!Gateway.Http.HttpRules.IsHeaderName(responseHeader))
            {
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}}: \"{responseHeader}\" is not a valid header name", node, at, length);
                return null;
            }

            return CheckResponseReference(name, headerSource, node, at, length, scope)
                ? new TemplatePartModel(TemplatePartKind.ResponseHeader, name, position, headerSource, new EquatableArray<string>(new[] { responseHeader }))
                : null;
        }

        if (TrySplitWholeResponse(name, out int whole))
        {
            if (position is not (TemplatePosition.JsonValue or TemplatePosition.JsonText))
            {
                string where = position == TemplatePosition.HeaderValue ? "a header" : "a url_pattern";
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}} is backend {whole}'s whole body and cannot go in {where}; use it as a body (\"body\": \"{{{name}}}\"), in a JSON body template, or name a field, as in {{{name}_id}}", node, at, length);
                return null;
            }

            return CheckResponseReference(name, whole, node, at, length, scope)
                ? new TemplatePartModel(TemplatePartKind.WholeResponse, name, position, whole, EquatableArray<string>.Empty)
                : null;
        }

        if (TrySplitResponseReference(name, out int backend, out string path))
        {
            if (!CheckResponseReference(name, backend, node, at, length, scope))
            {
                return null;
            }

            string[] segments = path.Split('.');
            int wildcards = 0;
            foreach (string segment in segments)
            {
                if (segment.Length == 0)
                {
                    Report(DiagnosticKind.MalformedTemplate, $"{{{name}}} has an empty field name; separate fields with single dots, as in {{resp0_user.id}}", node, at, length);
                    return null;
                }

                if (segment == "*")
                {
                    wildcards++;
                }
                else if (segment.IndexOf('*') >= 0)
                {
                    Report(DiagnosticKind.MalformedTemplate, $"{{{name}}}: '*' stands alone as a segment and takes every element of an array, as in {{resp0_items.*.id}}", node, at, length);
                    return null;
                }
            }

            if (wildcards > 1)
            {
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}} has {wildcards} '*' segments; one is allowed (it collects a flat list)", node, at, length);
                return null;
            }

            string? group = scope.Groups[backend];
            if (group is not null)
            {
                // The response a later backend reads is backend N's after its own group: {"group": {...}}.
                if (segments[0] != group || segments.Length == 1)
                {
                    string hint = segments[0] == group
                        ? $"it names the whole group object; name a field inside it, as in {{resp{backend}_{group}.id}}"
                        : $"backend {backend} wraps its response in the group \"{group}\", so write {{resp{backend}_{group}.{path}}}";
                    if (segments[0] == group && position is TemplatePosition.JsonValue or TemplatePosition.JsonText)
                    {
                        return new TemplatePartModel(TemplatePartKind.ResponseValue, name, position, backend, EquatableArray<string>.Empty);
                    }

                    Report(DiagnosticKind.UnreachableGroupReference, $"{{{name}}} can never be resolved: {hint}", node, at, length);
                    return null;
                }

                var inner = new string[segments.Length - 1];
                System.Array.Copy(segments, 1, inner, 0, inner.Length);
                segments = inner;
            }

            return new TemplatePartModel(TemplatePartKind.ResponseValue, name, position, backend, new EquatableArray<string>(segments));
        }

        if (TrySplitPrefixed(name, "JWT.", out string claim))
        {
            if (!scope.Claims)
            {
                Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}} reads a claim of the client's token: it can be used in the backends of an endpoint that validates one, with \"auth/validator\" in its extra_config", node, at, length);
                return null;
            }

            if (claim.IndexOf('*') >= 0)
            {
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}}: '*' cannot be used in a claim; name the claim, as in {{JWT.sub}}", node, at, length);
                return null;
            }

            EquatableArray<string> claimPath = Gateway.Components.JwtValidator.ClaimPaths.Split(claim);
            foreach (string segment in claimPath)
            {
                if (segment.Length == 0)
                {
                    Report(DiagnosticKind.MalformedTemplate, $"{{{name}}} has an empty claim name; separate nested claims with single dots, as in {{JWT.realm_access.roles}}", node, at, length);
                    return null;
                }
            }

            return new TemplatePartModel(TemplatePartKind.Claim, name, position, -1, claimPath);
        }

        string defined = scope.RouteParameters.Count == 0 ? "the endpoint defines no parameters" : "the endpoint defines " + string.Join(", ", scope.RouteParameters.ConvertAll(p => "{" + p + "}"));
        Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}} is not a parameter of the endpoint ({defined}), a response reference like {{resp0_field}}, a client value like {{input_headers.X-Name}} or {{input_query.name}}, nor a token claim like {{JWT.sub}}", node, at, length);
        return null;
    }

    /// <summary>
    /// <c>{resp.ID}</c> (the whole body), <c>{resp.ID.headers.Name}</c> (a response header) and <c>{resp.ID.a.b}</c> (a
    /// field of the step's response, inside its group when it has one): rewritten as the index form and resolved as such.
    /// </summary>
    private TemplatePartModel? ResolveNamedReference(string name, TemplatePosition position, JsonNode node, int at, int length, Scope scope)
    {
        string rest = name.Substring(5);
        int dot = rest.IndexOf('.');
        string id = dot < 0 ? rest : rest.Substring(0, dot);
        string? field = dot < 0 ? null : rest.Substring(dot + 1);
        if (scope.StepIds is null || !scope.StepIds.TryGetValue(id, out int backend))
        {
            string known = scope.StepIds is null || scope.StepIds.Count == 0 ? "no step of this endpoint has an \"id\"" : "the ids are " + string.Join(", ", Gateway.Components.Step.StepConfig.SortedNames(scope.StepIds));
            Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}} names the step \"{id}\", but {known}; name a step with \"id\" in its \"gateway/step\", or use its index as in {{resp0_field}}", node, at, length);
            return null;
        }

        if (field is null || field.Length == 0)
        {
            return ResolvePlaceholder($"resp{backend}", position, node, at, length, scope);
        }

        if (field.StartsWith("headers.", System.StringComparison.Ordinal))
        {
            return ResolvePlaceholder($"resp{backend}.{field}", position, node, at, length, scope);
        }

        string? group = backend < scope.Groups.Count ? scope.Groups[backend] : null;
        return ResolvePlaceholder(group is null ? $"resp{backend}_{field}" : $"resp{backend}_{group}.{field}", position, node, at, length, scope);
    }

    /// <summary>
    /// <c>{item}</c> or <c>{item.a.b}</c>: the element a <c>for_each</c> step is called for, or a field inside it. Only in
    /// such a step; no <c>*</c> (one element is one value).
    /// </summary>
    private TemplatePartModel? ResolveItem(string name, TemplatePosition position, JsonNode node, int at, int length, Scope scope)
    {
        if (!scope.ForEach)
        {
            Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}} is an element of the array a step runs over: it can be used only in a step with \"gateway/step\": {{\"for_each\": ...}}", node, at, length);
            return null;
        }

        string[] segments = name == "item" ? System.Array.Empty<string>() : name.Substring("item.".Length).Split('.');
        foreach (string segment in segments)
        {
            if (segment.Length == 0 || segment.IndexOf('*') >= 0)
            {
                Report(DiagnosticKind.MalformedTemplate, $"{{{name}}}: name a field of the element with single dots and no '*', as in {{item.id}}", node, at, length);
                return null;
            }
        }

        // {item} of a scalar element ({"ids": [1, 2]}) renders as any value; an object in a URL fails the call, as a value would.
        return new TemplatePartModel(TemplatePartKind.Item, name, position, -1, new EquatableArray<string>(segments));
    }

    /// <summary>A reference to backend <paramref name="backend"/> needs a sequential endpoint and an earlier backend.</summary>
    private bool CheckResponseReference(string name, int backend, JsonNode node, int at, int length, Scope scope)
    {
        if (scope.Ancestors is { } ancestors)
        {
            if (backend < ancestors.Length && ancestors[backend])
            {
                return true;
            }

            string which = backend == scope.BackendIndex ? "this step itself" : backend < ancestors.Length ? $"backend {backend}, which it does not depend on" : $"backend {backend}, which does not exist (the endpoint has {ancestors.Length})";
            Report(DiagnosticKind.ResponseReferenceNotDependency, $"{{{name}}} is used by backend {scope.BackendIndex} but refers to {which}; a step reads only the steps it depends on, directly or through their own \"depends_on\" (add {backend} to its \"gateway/step\".\"depends_on\")", node, at, length);
            return false;
        }

        if (!scope.Sequential)
        {
            Report(DiagnosticKind.ResponseReferenceNotSequential, $"{{{name}}} reads backend {backend}'s response, but only a sequential endpoint calls backends in order; add \"extra_config\": {{\"proxy\": {{\"sequential\": true}}}} to the endpoint", node, at, length);
            return false;
        }

        if (backend >= scope.BackendIndex)
        {
            string which = backend == scope.BackendIndex ? "this backend itself" : backend < scope.Groups.Count ? $"backend {backend}, which runs later" : $"backend {backend}, which does not exist (the endpoint has {scope.Groups.Count})";
            Report(DiagnosticKind.ForwardResponseReference, $"{{{name}}} is used by backend {scope.BackendIndex} but refers to {which}; a backend can only read responses of backends before it (0 to {scope.BackendIndex - 1})", node, at, length);
            return false;
        }

        return true;
    }

    private static bool TrySplitPrefixed(string name, string prefix, out string rest)
    {
        rest = string.Empty;
        if (!name.StartsWith(prefix, System.StringComparison.Ordinal) || name.Length == prefix.Length)
        {
            return false;
        }

        rest = name.Substring(prefix.Length);
        return true;
    }

    /// <summary><c>resp2</c> → backend 2.</summary>
    private static bool TrySplitWholeResponse(string name, out int backend)
    {
        int end = ReadStepIndex(name, out backend);
        return end > 0 && end == name.Length;
    }

    /// <summary><c>resp2.headers.X-Id</c> → backend 2, header <c>X-Id</c>.</summary>
    private static bool TrySplitResponseHeader(string name, out int backend, out string header)
    {
        header = string.Empty;
        int end = ReadStepIndex(name, out backend);
        if (end < 0 || string.CompareOrdinal(name, end, ".headers.", 0, 9) != 0 || name.Length == end + 9)
        {
            return false;
        }

        header = name.Substring(end + 9);
        return true;
    }

    /// <summary>Reads <c>respN</c> at the start of <paramref name="name"/>; returns the index after N, or -1.</summary>
    private static int ReadStepIndex(string name, out int backend)
    {
        backend = 0;
        if (!name.StartsWith("resp", System.StringComparison.Ordinal))
        {
            return -1;
        }

        int i = 4;
        while (i < name.Length && char.IsDigit(name[i]))
        {
            i++;
        }

        if (i == 4 || i - 4 > 4)
        {
            return -1;
        }

        backend = int.Parse(name.Substring(4, i - 4), System.Globalization.CultureInfo.InvariantCulture);
        return i;
    }


    /// <summary><c>resp3_user.id</c> → backend 3, path <c>user.id</c>.</summary>
    private static bool TrySplitResponseReference(string name, out int backend, out string path)
    {
        backend = 0;
        path = string.Empty;
        if (!name.StartsWith("resp", System.StringComparison.Ordinal))
        {
            return false;
        }

        int i = 4;
        while (i < name.Length && char.IsDigit(name[i]))
        {
            i++;
        }

        if (i == 4 || i - 4 > 4 || i >= name.Length || name[i] != '_' || i + 1 >= name.Length)
        {
            return false;
        }

        backend = int.Parse(name.Substring(4, i - 4), System.Globalization.CultureInfo.InvariantCulture);
        path = name.Substring(i + 1);
        return true;
    }

    private static bool IsPlaceholderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (char c in name)
        {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':' || c == '/' || c == '*';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Copies one character of literal text, percent-encoding what cannot appear in a request line as written
    /// (space, quotes, non-ASCII...). Valid <c>%XX</c> escapes and URL delimiters are kept.
    /// </summary>
    private static int AppendLiteral(StringBuilder literal, string pattern, int i)
    {
        char c = pattern[i];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || "-._~:/?[]@!$&'()*+,;=".IndexOf(c) >= 0
            || (c == '%' && i + 2 < pattern.Length && IsHex(pattern[i + 1]) && IsHex(pattern[i + 2]));
        if (keep)
        {
            literal.Append(c);
            return 1;
        }

        int count = char.IsHighSurrogate(c) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1]) ? 2 : 1;
        foreach (byte b in Encoding.UTF8.GetBytes(pattern.Substring(i, count)))
        {
            literal.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return count;
    }

    private static bool IsHex(char c) => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

    private static void FlushLiteral(List<TemplatePartModel> parts, StringBuilder literal, bool inQuery)
    {
        if (literal.Length > 0)
        {
            parts.Add(new TemplatePartModel(TemplatePartKind.Literal, literal.ToString(), inQuery ? TemplatePosition.QueryValue : TemplatePosition.PathSegment, -1, EquatableArray<string>.Empty));
            literal.Clear();
        }
    }

    public void Report(DiagnosticKind kind, string message, JsonNode node, int indexInValue, int length)
    {
        // Point inside the string when it was written without escapes (so offsets map one to one).
        int contentStart = node.Start + 1;
        string? value = node.Text;
        bool verbatim = node.Kind == JsonKind.String && value is not null && node.Length == value.Length + 2
            && string.CompareOrdinal(_source.Text, contentStart, value, 0, value.Length) == 0;
        if (verbatim && indexInValue >= 0 && indexInValue + length <= value!.Length)
        {
            _diagnostics.Report(kind, message, contentStart + indexInValue, length);
        }
        else
        {
            _diagnostics.Report(kind, message, node);
        }
    }
}

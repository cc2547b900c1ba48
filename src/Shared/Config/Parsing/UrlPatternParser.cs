using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

/// <summary>
/// Splits a backend <c>url_pattern</c> into literal text and slots at build time: <c>{param}</c> route parameters
/// and <c>{respN_a.b}</c> references to an earlier backend's response (krakend.md §4.2, §8.5.2).
/// </summary>
internal sealed class UrlPatternParser
{
    private readonly DiagnosticBag _diagnostics;
    private readonly ConfigSource _source;

    public UrlPatternParser(DiagnosticBag diagnostics, ConfigSource source)
    {
        _diagnostics = diagnostics;
        _source = source;
    }

    /// <summary>What the pattern may refer to: the endpoint's parameters and the backends before this one.</summary>
    public sealed class Scope
    {
        public Scope(List<string> routeParameters, bool sequential, int backendIndex, List<string?> groups)
        {
            RouteParameters = routeParameters;
            Sequential = sequential;
            BackendIndex = backendIndex;
            Groups = groups;
        }

        public List<string> RouteParameters { get; }

        public bool Sequential { get; }

        public int BackendIndex { get; }

        /// <summary>The <c>group</c> of every backend of the endpoint, by index.</summary>
        public List<string?> Groups { get; }
    }

    /// <summary>Returns the parts, or null when the pattern has an error (already reported).</summary>
    public EquatableArray<TemplatePartModel>? Parse(string pattern, JsonNode node, Scope scope)
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
                string? name = close < 0 ? null : pattern.Substring(i + 1, close - i - 1);
                if (name is null || !IsPlaceholderName(name))
                {
                    Report(DiagnosticKind.MalformedTemplate, "'{' does not start a placeholder: write {name} with letters, digits, '_', '-', '.', ':' or '/'", node, i + offsetShift, 1);
                    ok = false;
                    i++;
                    continue;
                }

                FlushLiteral(parts, literal, inQuery);
                TemplatePartModel? part = ResolvePlaceholder(name, inQuery, node, i + offsetShift, close - i + 1, scope);
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

    private TemplatePartModel? ResolvePlaceholder(string name, bool inQuery, JsonNode node, int at, int length, Scope scope)
    {
        int parameter = scope.RouteParameters.IndexOf(name);
        if (parameter >= 0)
        {
            return new TemplatePartModel(TemplatePartKind.RouteParameter, name, inQuery, parameter, EquatableArray<string>.Empty);
        }

        if (TrySplitResponseReference(name, out int backend, out string path))
        {
            if (!scope.Sequential)
            {
                Report(DiagnosticKind.ResponseReferenceNotSequential, $"{{{name}}} reads backend {backend}'s response, but only a sequential endpoint calls backends in order; add \"extra_config\": {{\"proxy\": {{\"sequential\": true}}}} to the endpoint", node, at, length);
                return null;
            }

            if (backend >= scope.BackendIndex)
            {
                string which = backend == scope.BackendIndex ? "this backend itself" : $"backend {backend}, which runs later";
                Report(DiagnosticKind.ForwardResponseReference, $"{{{name}}} is used by backend {scope.BackendIndex} but refers to {which}; a backend can only read responses of backends before it (0 to {scope.BackendIndex - 1})", node, at, length);
                return null;
            }

            string[] segments = path.Split('.');
            foreach (string segment in segments)
            {
                if (segment.Length == 0)
                {
                    Report(DiagnosticKind.MalformedTemplate, $"{{{name}}} has an empty field name; separate fields with single dots, as in {{resp0_user.id}}", node, at, length);
                    return null;
                }
            }

            string? group = scope.Groups[backend];
            if (group is not null)
            {
                // The response a later backend reads is backend N's after its own group: {"group": {...}}.
                if (segments[0] != group || segments.Length == 1)
                {
                    string hint = segments[0] == group
                        ? $"it names the whole group object, which cannot be put in a URL; name a field inside it, as in {{resp{backend}_{group}.id}}"
                        : $"backend {backend} wraps its response in the group \"{group}\", so write {{resp{backend}_{group}.{path}}}";
                    Report(DiagnosticKind.UnreachableGroupReference, $"{{{name}}} can never be resolved: {hint}", node, at, length);
                    return null;
                }

                var inner = new string[segments.Length - 1];
                System.Array.Copy(segments, 1, inner, 0, inner.Length);
                segments = inner;
            }

            return new TemplatePartModel(TemplatePartKind.ResponseValue, name, inQuery, backend, new EquatableArray<string>(segments));
        }

        if (name.StartsWith("JWT.", System.StringComparison.Ordinal))
        {
            Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}}: JWT placeholders are not supported yet", node, at, length);
            return null;
        }

        string defined = scope.RouteParameters.Count == 0 ? "the endpoint defines no parameters" : "the endpoint defines " + string.Join(", ", scope.RouteParameters.ConvertAll(p => "{" + p + "}"));
        Report(DiagnosticKind.UndefinedPlaceholder, $"{{{name}}} is not a parameter of the endpoint ({defined}) nor a response reference like {{resp0_field}}", node, at, length);
        return null;
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
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
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
            parts.Add(new TemplatePartModel(TemplatePartKind.Literal, literal.ToString(), inQuery, -1, EquatableArray<string>.Empty));
            literal.Clear();
        }
    }

    private void Report(DiagnosticKind kind, string message, JsonNode node, int indexInValue, int length)
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

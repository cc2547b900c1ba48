using System;
using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Lua;

/// <summary>A Lua source file named in <c>sources</c>: its name as written and its text, compiled into the gateway.</summary>
internal sealed record LuaSourceModel(string Name, string Text);

/// <summary>
/// One Lua namespace's scripts: the <c>sources</c> (run first, in order, on every call), the <c>pre</c> and <c>post</c>
/// code, and its switches. The text is compiled into the gateway: nothing is read at run time.
/// </summary>
internal sealed record LuaScriptModel(EquatableArray<LuaSourceModel> Sources, string? Pre, string? Post, bool AllowOpenLibs, bool SkipNext);

/// <summary><c>modifier/lua-endpoint</c> at the configuration root: a <c>pre</c> script on every request, before routing.</summary>
internal sealed record LuaServiceModel(LuaScriptModel Script) : GatewayComponentModel;

/// <summary><c>modifier/lua-endpoint</c> on an endpoint: a <c>pre</c> script on the client's HTTP request.</summary>
internal sealed record LuaEndpointModel(LuaScriptModel Script) : EndpointComponentModel;

/// <summary><c>modifier/lua-proxy</c> on an endpoint: <c>pre</c> before the backends, <c>post</c> on the merged answer.</summary>
internal sealed record LuaProxyModel(LuaScriptModel Script, EquatableArray<string> RouteParameters) : EndpointComponentModel;

/// <summary>
/// <c>modifier/lua-backend</c> on a backend: <c>pre</c> on its request, <c>post</c> on its response. The request's params
/// are the endpoint's route parameters and the <c>sequential_propagated_params</c> of earlier backends.
/// </summary>
internal sealed record LuaBackendModel(LuaScriptModel Script, string Endpoint, int Index, EquatableArray<string> RouteParameters, EquatableArray<PropagatedParamModel> Propagated) : BackendComponentModel;

/// <summary>
/// KrakenD's Lua scripting (docs/configuration.md, Lua): <c>modifier/lua-endpoint</c> (configuration root and
/// endpoint), <c>modifier/lua-proxy</c> (endpoint) and <c>modifier/lua-backend</c> (backend). Every script is checked
/// here, by the build and by <c>gateway check</c>: a syntax error is reported at its line in the configuration (or in
/// the source file), a source that cannot be found or whose md5 differs is an error, and <c>live</c> is refused since
/// the scripts are compiled into the gateway.
/// </summary>
internal static class LuaConfig
{
    public static readonly ConfigNamespace EndpointNamespace = new("modifier/lua-endpoint", ConfigScope.Root | ConfigScope.Endpoint);

    public static readonly ConfigNamespace ProxyNamespace = new("modifier/lua-proxy", ConfigScope.Endpoint);

    public static readonly ConfigNamespace BackendNamespace = new("modifier/lua-backend", ConfigScope.Backend);

    private static readonly string[] Supported = { "sources", "md5", "pre", "post", "live", "allow_open_libs", "skip_next", Keys.Comment };

    /// <summary>The standard library's global names: each is nil in a script without <c>allow_open_libs</c>.</summary>
    private static readonly string[] StandardGlobals =
    {
        "assert", "error", "getmetatable", "ipairs", "load", "loadstring", "next", "pairs", "pcall", "print", "rawequal", "rawget",
        "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "_G", "_VERSION",
        "coroutine", "math", "os", "string", "table", "utf8",
    };

    /// <summary>Standard names a script never gets, even with <c>allow_open_libs</c> (docs/compatibility.md, Lua).</summary>
    private static readonly string[] NeverAvailable = { "io", "debug", "package", "require", "dofile", "loadfile", "collectgarbage" };

    public static GatewayComponentModel? ReadService(JsonNode node, GatewayReadContext context) =>
        Read(node, context.Read, context.Source, EndpointNamespace.Name, phases: Phases.Pre) is { } script ? new LuaServiceModel(script) : null;

    public static EndpointComponentModel? ReadEndpoint(JsonNode node, EndpointReadContext context) =>
        Read(node, context.Read, context.Source, EndpointNamespace.Name, phases: Phases.Pre) is { } script ? new LuaEndpointModel(script) : null;

    public static EndpointComponentModel? ReadProxy(JsonNode node, EndpointReadContext context)
    {
        if (Read(node, context.Read, context.Source, ProxyNamespace.Name, phases: Phases.Pre | Phases.Post) is not { } script)
        {
            return null;
        }

        var parameters = new List<string>();
        foreach (RouteSegmentModel segment in context.Route ?? new List<RouteSegmentModel>())
        {
            if (segment.IsParameter)
            {
                parameters.Add(segment.Text);
            }
        }

        return new LuaProxyModel(script, EquatableArray.From(parameters));
    }

    public static BackendComponentModel? ReadBackend(JsonNode node, BackendReadContext context) =>
        Read(node, context.Read, context.Source, BackendNamespace.Name, phases: Phases.Pre | Phases.Post) is { } script
            ? new LuaBackendModel(script, context.Endpoint, context.Index, context.RouteParameters, context.Propagated)
            : null;

    [Flags]
    private enum Phases
    {
        Pre = 1,
        Post = 2,
    }

    private static LuaScriptModel? Read(JsonNode node, ConfigReader read, ConfigSource source, string ns, Phases phases)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        string where = $"\"{ns}\"";
        read.CheckKeys(node, where, Supported, Array.Empty<string>());

        bool allowOpenLibs = read.ParseBool(node.Find("allow_open_libs"));
        bool skipNext = read.ParseBool(node.Find("skip_next"));
        if (node.Find("live") is { } live && read.ParseBool(live))
        {
            diagnostics.Report(DiagnosticKind.UnsupportedFeature, "\"live\": true (reading the Lua sources again on every request) cannot work here: the gateway compiles its sources into the binary when it is built; remove \"live\" and rebuild to change a script", live.Value);
        }

        if ((phases & Phases.Post) == 0 && node.Find("post") is { } ignoredPost)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"post\" has no effect in {where}: it runs on the client's request only (use \"modifier/lua-proxy\" or \"modifier/lua-backend\" for responses)", ignoredPost);
        }

        if ((phases & Phases.Post) == 0 && node.Find("skip_next") is { } ignoredSkip)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"skip_next\" has no effect in {where}; it skips the backends in \"modifier/lua-proxy\" and the backend call in \"modifier/lua-backend\"", ignoredSkip);
        }

        var sources = new List<LuaSourceModel>();
        var sourceNodes = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        if (node.Find("sources") is { } sourcesProperty && read.Expect(sourcesProperty, JsonKind.Array, "an array of Lua file names"))
        {
            foreach (JsonNode item in read.StringItems(sourcesProperty, "a Lua file name"))
            {
                string name = item.Text!;
                string? text = read.Files.Read(name);
                if (text is null)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"the Lua source \"{name}\" cannot be read: relative names are read from the configuration's folder, and the build passes every *.lua file under that folder to the compiler (looked for {read.Files.FullPath(name)})", item);
                    continue;
                }

                // A UTF-8 byte order mark is not Lua.
                text = text.Length > 0 && text[0] == '\uFEFF' ? text.Substring(1) : text;
                if (LuaSyntax.Check(text, out IReadOnlyCollection<string> globals) is { } error)
                {
                    diagnostics.Report(DiagnosticKind.LuaSyntax, $"the Lua source \"{name}\" does not compile: {name}:{error.Line}: {error.Message}", item);
                    continue;
                }

                CheckLibraries(globals, allowOpenLibs, $"the Lua source \"{name}\"", read, item.Start, item.Length);
                sources.Add(new LuaSourceModel(name, text));
                sourceNodes[name] = item;
            }
        }

        if (node.Find("md5") is { } md5 && read.Expect(md5, JsonKind.Object, "an object of file names and their md5 sums"))
        {
            foreach (JsonProperty sum in md5.Value.Properties!)
            {
                if (sum.Name == Keys.Comment || !read.Expect(sum, JsonKind.String, "an md5 sum in hexadecimal"))
                {
                    continue;
                }

                LuaSourceModel? file = sources.Find(s => s.Name == sum.Name);
                if (file is null)
                {
                    if (!sourceNodes.ContainsKey(sum.Name) && diagnostics.ErrorCount == errorsBefore)
                    {
                        diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, $"\"md5\" names \"{sum.Name}\", which is not one of the \"sources\"", sum);
                    }

                    continue;
                }

                string actual = Md5Hex(file.Text);
                if (!string.Equals(actual, sum.Value.Text, StringComparison.OrdinalIgnoreCase))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"the md5 sum of \"{sum.Name}\" is {actual}, not {sum.Value.Text}: the file differs from the one the configuration was written for", sum.Value);
                }
            }
        }

        string? pre = Code(node, "pre", allowOpenLibs, read, source);
        string? post = (phases & Phases.Post) != 0 ? Code(node, "post", allowOpenLibs, read, source) : null;
        if (diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        return new LuaScriptModel(EquatableArray.From(sources), pre, post, allowOpenLibs, skipNext && (phases & Phases.Post) != 0);
    }

    /// <summary>A <c>pre</c> or <c>post</c> script, syntax-checked; a mistake is reported at its place inside the JSON string.</summary>
    private static string? Code(JsonNode node, string key, bool allowOpenLibs, ConfigReader read, ConfigSource source)
    {
        if (node.Find(key) is not { } property || !read.Expect(property, JsonKind.String, "Lua code"))
        {
            return null;
        }

        string code = property.Value.Text!;
        if (code.Trim().Length == 0)
        {
            return null;
        }

        if (LuaSyntax.Check(code, out IReadOnlyCollection<string> globals) is { } error)
        {
            int at = OffsetInString(source.Text, property.Value, error.Index);
            read.Diagnostics.Report(DiagnosticKind.LuaSyntax, $"the \"{key}\" script does not compile: line {error.Line}: {error.Message}", at, 1);
            return null;
        }

        CheckLibraries(globals, allowOpenLibs, $"the \"{key}\" script", read, property.Value.Start, property.Value.Length);
        return code;
    }

    /// <summary>A warning for each standard name a script reads that it will not have.</summary>
    private static void CheckLibraries(IReadOnlyCollection<string> globals, bool allowOpenLibs, string what, ConfigReader read, int start, int length)
    {
        var missing = new List<string>();
        foreach (string name in globals)
        {
            if (Array.IndexOf(NeverAvailable, name) >= 0 || (!allowOpenLibs && Array.IndexOf(StandardGlobals, name) >= 0))
            {
                missing.Add(name);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        missing.Sort(StringComparer.Ordinal);
        var never = missing.FindAll(n => Array.IndexOf(NeverAvailable, n) >= 0);
        string message = never.Count == missing.Count
            ? $"{what} uses {string.Join(", ", missing)}, which scripts never get here (no files, modules or debug library; docs/compatibility.md, Lua): calling it fails the request"
            : $"{what} uses {string.Join(", ", missing)} from Lua's standard library, which a script only has with \"allow_open_libs\": true; without it, the call fails the request";
        read.Diagnostics.Report(DiagnosticKind.LuaLibraries, message, start, length);
    }

    /// <summary>
    /// The offset in the configuration of the <paramref name="index"/>-th character of a JSON string's value, reading
    /// its escapes (a script in JSON is full of <c>\"</c> and <c>\n</c>).
    /// </summary>
    internal static int OffsetInString(string text, JsonNode value, int index)
    {
        int raw = value.Start + 1;
        int end = value.Start + value.Length - 1;
        int decoded = 0;
        while (raw < end && decoded < index)
        {
            if (text[raw] != '\\')
            {
                raw++;
                decoded++;
                continue;
            }

            if (raw + 1 < end && text[raw + 1] == 'u')
            {
                raw += 6;
            }
            else
            {
                raw += 2;
            }

            decoded++;
        }

        return Math.Min(raw, Math.Max(value.Start, end));
    }

    /// <summary>KrakenD's check of a source: the md5 of its text, in lower-case hexadecimal (a check of integrity, not of authenticity).</summary>
#pragma warning disable CA5351, CA1850 // MD5 (with the netstandard2.0 API the generator has) is what the configuration format names; it detects a changed file, it protects nothing.
    internal static string Md5Hex(string text)
    {
        using var md5 = System.Security.Cryptography.MD5.Create();
        byte[] hash = md5.ComputeHash(Encoding.UTF8.GetBytes(text));
        var hex = new StringBuilder(hash.Length * 2);
        foreach (byte b in hash)
        {
            hex.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return hex.ToString();
    }
#pragma warning restore CA5351, CA1850
}

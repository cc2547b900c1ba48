using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Lua;

/// <summary>
/// The generated part of Lua scripting: each stage's scripts as constants (the sources' text compiled into the
/// gateway), the pool of states that runs them, and the stage. The service-level <c>modifier/lua-endpoint</c> has one
/// pool for the gateway, shared by every endpoint's first stage.
/// </summary>
internal static class LuaEmitter
{
    private const string Runtime = HandlerEmitter.Runtime;
    private const string Lua = "global::Gateway.Components.Lua";

    public const string ServiceStageExpression = "CreateLuaService(backends)";
    public const string EndpointStageExpression = "CreateLuaEndpoint(backends)";
    public const string ProxyStageExpression = "CreateLuaProxy(backends)";

    public static string Describe(LuaScriptModel script, string ns)
    {
        var parts = new List<string>();
        if (script.Sources.Count > 0)
        {
            parts.Add($"{script.Sources.Count} source file(s)");
        }

        if (script.Pre is not null)
        {
            parts.Add("pre");
        }

        if (script.Post is not null)
        {
            parts.Add("post");
        }

        if (script.SkipNext)
        {
            parts.Add("skip_next");
        }

        if (script.AllowOpenLibs)
        {
            parts.Add("with the standard library");
        }

        return $"{ns} Lua ({string.Join(", ", parts)})";
    }

    /// <summary>The service-level script's members in each handler: its stage over the gateway's one pool.</summary>
    public static void EmitServiceMembers(SourceWriter w, EndpointModel endpoint, LuaServiceModel service)
    {
        w.Line();
        w.Line("/// <summary>modifier/lua-endpoint of the service: runs first, on the client's request (one pool of Lua states for the gateway).</summary>");
        w.Open($"private static {Lua}.LuaEndpointStage CreateLuaService({Runtime}.Forwarding.BackendRegistry backends)");
        w.Line($"{Lua}.LuaScriptPool pool = backends.Shared(\"modifier/lua-endpoint\", static () => new {Lua}.LuaScriptPool(\"modifier/lua-endpoint of the service\", {ScriptSet(service.Script)}));");
        w.Line($"return new {Lua}.LuaEndpointStage(pool, {CSharp.String(endpoint.Path)}, {Parameters(endpoint)});");
        w.Close();
    }

    public static void EmitEndpointMembers(SourceWriter w, EndpointModel endpoint, LuaEndpointModel model)
    {
        w.Line();
        w.Line($"/// <summary>{CSharp.Doc(Describe(model.Script, "modifier/lua-endpoint"))}: on the client's request, after the token check.</summary>");
        w.Open($"private static {Lua}.LuaEndpointStage CreateLuaEndpoint({Runtime}.Forwarding.BackendRegistry backends)");
        w.Line($"var pool = new {Lua}.LuaScriptPool({CSharp.String($"modifier/lua-endpoint of {endpoint.Method} {endpoint.Path}")}, {ScriptSet(model.Script)});");
        w.Line($"return new {Lua}.LuaEndpointStage(pool, {CSharp.String(endpoint.Path)}, {Parameters(endpoint)});");
        w.Close();
    }

    public static void EmitProxyMembers(SourceWriter w, EndpointModel endpoint, LuaProxyModel model)
    {
        w.Line();
        w.Line($"/// <summary>{CSharp.Doc(Describe(model.Script, "modifier/lua-proxy"))}: pre before the backends, post on the merged answer.</summary>");
        w.Open($"private static {Lua}.LuaProxyStage CreateLuaProxy({Runtime}.Forwarding.BackendRegistry backends)");
        w.Line($"var pool = new {Lua}.LuaScriptPool({CSharp.String($"modifier/lua-proxy of {endpoint.Method} {endpoint.Path}")}, {ScriptSet(model.Script)});");
        w.Line($"return new {Lua}.LuaProxyStage(pool, {CSharp.String(endpoint.Path)}, {Parameters(endpoint)});");
        w.Close();
    }

    /// <summary>The expression, in a backend's definition, that builds its stage and pool.</summary>
    public static string BackendStageExpression(LuaBackendModel model)
    {
        string where = $"modifier/lua-backend of {model.Endpoint}, backend {model.Index.ToString(CultureInfo.InvariantCulture)}";
        string path = model.Endpoint.Substring(model.Endpoint.IndexOf(' ') + 1);
        var propagated = new List<string>();
        foreach (PropagatedParamModel parameter in model.Propagated)
        {
            string jsonPath = parameter.Value.Kind == TemplatePartKind.WholeResponse
                ? "null"
                : $"new {Runtime}.Json.JsonPath({HandlerEmitter.JsonPathSegments(parameter.Value.Path)})";
            propagated.Add($"new({CSharp.String(parameter.Name)}, {parameter.Value.Source.ToString(CultureInfo.InvariantCulture)}, {jsonPath})");
        }

        string propagatedArray = propagated.Count == 0
            ? $"global::System.Array.Empty<{Lua}.LuaPropagatedParam>()"
            : $"new {Lua}.LuaPropagatedParam[] {{ {string.Join(", ", propagated)} }}";
        return $"new {Lua}.LuaBackendStage(new {Lua}.LuaScriptPool({CSharp.String(where)}, {ScriptSet(model.Script)}), {CSharp.String(path)}, {Strings(model.RouteParameters)}, {propagatedArray})";
    }

    /// <summary>The scripts as C# constants: the sources' text is compiled into the gateway.</summary>
    private static string ScriptSet(LuaScriptModel script)
    {
        var sources = new List<string>();
        foreach (LuaSourceModel source in script.Sources)
        {
            sources.Add($"new({CSharp.String(source.Name)}, {CSharp.String(source.Text)})");
        }

        string sourceArray = sources.Count == 0
            ? $"global::System.Array.Empty<{Lua}.LuaScriptSource>()"
            : $"new {Lua}.LuaScriptSource[] {{ {string.Join(", ", sources)} }}";
        return $"new {Lua}.LuaScriptSet({sourceArray}, Pre: {Nullable(script.Pre)}, Post: {Nullable(script.Post)}, AllowOpenLibs: {Bool(script.AllowOpenLibs)}, SkipNext: {Bool(script.SkipNext)})";
    }

    private static string Parameters(EndpointModel endpoint)
    {
        var names = new List<string>();
        foreach (RouteSegmentModel segment in endpoint.Route)
        {
            if (segment.IsParameter)
            {
                names.Add(segment.Text);
            }
        }

        return Strings(EquatableArray.From(names));
    }

    private static string Strings(EquatableArray<string> values)
    {
        if (values.Count == 0)
        {
            return "global::System.Array.Empty<string>()";
        }

        var items = new List<string>();
        foreach (string value in values)
        {
            items.Add(CSharp.String(value));
        }

        return $"new[] {{ {string.Join(", ", items)} }}";
    }

    private static string Nullable(string? value) => value is null ? "null" : CSharp.String(value);

    private static string Bool(bool value) => value ? "true" : "false";
}

using System.Collections.Generic;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Shaping;

/// <summary>The generated part of a shaped backend: its plan (target, allow/deny or flatmap_filter, mapping), built once.</summary>
internal static class ShapingEmitter
{
    public static void EmitPlan(SourceWriter w, BackendModel backend, int index)
    {
        if (backend.Target is null && backend.Allow.Count == 0 && backend.Deny.Count == 0 && backend.Mapping.Count == 0 && backend.Flatmap.Count == 0)
        {
            return;
        }

        var args = new List<string>
        {
            $"target: {(backend.Target is null ? "null" : CSharp.String(backend.Target))}",
            $"allow: {HandlerEmitter.Strings(backend.Allow)}",
            $"deny: {HandlerEmitter.Strings(backend.Deny)}",
        };
        if (backend.Mapping.Count == 0)
        {
            args.Add("mapping: null");
        }
        else
        {
            var renames = new List<string>();
            foreach (MappingModel rename in backend.Mapping)
            {
                renames.Add($"new({CSharp.String(rename.From)}, {CSharp.String(rename.To)})");
            }

            args.Add($"mapping: new global::System.Collections.Generic.KeyValuePair<string, string>[] {{ {string.Join(", ", renames)} }}");
        }

        args.Add($"flatmap: {(backend.Flatmap.Count == 0 ? "null" : HandlerEmitter.Flatmap(backend.Flatmap))}");
        w.Line();
        w.Line($"/// <summary>Backend {index}: target, then allow/deny or flatmap_filter, then mapping.</summary>");
        w.Line($"private static readonly global::Gateway.Components.Shaping.ShapingPlan s_shaping{index} = new(");
        w.Indent();
        for (int i = 0; i < args.Count; i++)
        {
            w.Line(args[i] + (i == args.Count - 1 ? ");" : ","));
        }

        w.Outdent();
    }
}

using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Shaping;

/// <summary>
/// How a backend's data is shaped, in order: <c>target</c>, then <c>flatmap_filter</c> (which replaces the rest) or
/// <c>allow</c>/<c>deny</c>, then <c>mapping</c> (docs/configuration.md, backend). What is replaced is already left out.
/// </summary>
internal sealed record ShapingModel(
    string? Target,
    EquatableArray<string> Allow,
    EquatableArray<string> Deny,
    EquatableArray<MappingModel> Mapping,
    EquatableArray<FlatmapOperationModel> Flatmap);

/// <summary>
/// Shaping: the backend keys <c>target</c>, <c>allow</c>, <c>deny</c>, <c>mapping</c>, and the backend's
/// <c>proxy.flatmap_filter</c> (read by the proxy component). Its run-time part is <c>ShapingPlan</c>.
/// </summary>
internal static class ShapingConfig
{
    private static readonly string[] ReplacedByFlatmap = { "allow", "deny", "mapping" };

    /// <summary>Reads the backend's own shaping keys.</summary>
    public static ShapingModel ReadKeys(JsonNode backend, ConfigReader read)
    {
        string? target = null;
        if (backend.Find("target") is { } targetProperty && read.Expect(targetProperty, JsonKind.String, "a dotted field path") && targetProperty.Value.Text!.Length > 0)
        {
            target = targetProperty.Value.Text;
        }

        EquatableArray<string> allow = read.ParseFieldList(backend.Find("allow"));
        EquatableArray<string> deny = read.ParseFieldList(backend.Find("deny"));
        if (allow.Count > 0 && backend.Find("deny") is { } denyProperty && deny.Count > 0)
        {
            read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"deny\" has no effect beside a non-empty \"allow\": only the allowed fields are kept", denyProperty);
        }

        EquatableArray<MappingModel> mapping = read.ParseMapping(backend.Find("mapping"));
        return new ShapingModel(target, allow, allow.Count > 0 ? EquatableArray<string>.Empty : deny, mapping, EquatableArray<FlatmapOperationModel>.Empty);
    }

    /// <summary>Adds the backend's flatmap_filter, which replaces allow, deny and mapping (each written one is warned about).</summary>
    public static ShapingModel WithFlatmap(ShapingModel keys, EquatableArray<FlatmapOperationModel> flatmap, JsonNode backend, ConfigReader read)
    {
        if (flatmap.Count == 0)
        {
            return keys;
        }

        foreach (string replaced in ReplacedByFlatmap)
        {
            if (backend.Find(replaced) is { } property)
            {
                read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{replaced}\" has no effect: the backend's flatmap_filter replaces allow, deny and mapping", property);
            }
        }

        return new ShapingModel(keys.Target, EquatableArray<string>.Empty, EquatableArray<string>.Empty, EquatableArray<MappingModel>.Empty, flatmap);
    }
}

using System.Collections.Generic;
using Gateway.Components;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;

namespace Gateway.Config.Parsing;

/// <summary>
/// The namespaces of one <c>extra_config</c> object, found through <see cref="ComponentRegistry"/>: each registered
/// namespace allowed at this scope under its name or a legacy name (the name wins when both are present, as in
/// KrakenD); anything else is reported as not supported, at its key.
/// </summary>
internal sealed class ExtraConfig
{
    private readonly Dictionary<ConfigNamespace, JsonNode> _found = new();

    private ExtraConfig()
    {
    }

    public static ExtraConfig Read(JsonProperty? extraConfig, ConfigScope scope, string where, ConfigReader read)
    {
        var config = new ExtraConfig();
        if (extraConfig is null || !read.Expect(extraConfig, JsonKind.Object, "an object of namespaces"))
        {
            return config;
        }

        var byName = new HashSet<ConfigNamespace>();
        foreach (JsonProperty entry in extraConfig.Value.Properties!)
        {
            ConfigNamespace? known = null;
            foreach (ConfigNamespace candidate in ComponentRegistry.All())
            {
                if ((candidate.Scopes & scope) != 0 && candidate.IsNamed(entry.Name))
                {
                    known = candidate;
                }
            }

            if (known is null)
            {
                if (entry.Name != Keys.Comment)
                {
                    read.Diagnostics.ReportAtKey(
                        DiagnosticKind.UnsupportedFeature,
                        Unsupported.Reason(entry.Name) is { } instead
                            ? $"the extra_config namespace \"{entry.Name}\" cannot be supported: {instead}"
                            : $"the extra_config namespace \"{entry.Name}\" in {where} is not supported yet; remove it (the gateway will not silently ignore it)",
                        entry);
                }

                continue;
            }

            bool isName = entry.Name == known.Name;
            if (!read.Expect(entry, JsonKind.Object, "an object") || (byName.Contains(known) && !isName))
            {
                continue;
            }

            config._found[known] = entry.Value;
            if (isName)
            {
                byName.Add(known);
            }
        }

        Components.ObservedOnly.ObservedOnlyConfig.Report(config, extraConfig, read);
        return config;
    }

    /// <summary>The object under <paramref name="ns"/>, or null when this <c>extra_config</c> does not hold it.</summary>
    public JsonNode? Find(ConfigNamespace ns) => _found.TryGetValue(ns, out JsonNode? node) ? node : null;
}

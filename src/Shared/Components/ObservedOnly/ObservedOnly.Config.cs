using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.ObservedOnly;

/// <summary>
/// KrakenD namespaces that only observe (metrics and log shipping to other systems, API documentation): accepted
/// wherever KrakenD accepts them, with a warning (GW3002) saying what the gateway offers instead, since dropping them
/// changes no answer (docs/compatibility.md, telemetry).
/// </summary>
internal static class ObservedOnlyConfig
{
    private const string Exports = "the gateway exposes Prometheus metrics, OTLP metrics and traces, and structured logs instead (telemetry/opentelemetry, telemetry/logging; docs/operations.md)";

    public static readonly (ConfigNamespace Namespace, string Instead)[] Namespaces =
    {
        (new ConfigNamespace("telemetry/metrics", ConfigScope.Root | ConfigScope.Endpoint | ConfigScope.Backend), Exports),
        (new ConfigNamespace("telemetry/opencensus", ConfigScope.Root | ConfigScope.Endpoint | ConfigScope.Backend), Exports),
        (new ConfigNamespace("telemetry/influx", ConfigScope.Root), Exports),
        (new ConfigNamespace("telemetry/gelf", ConfigScope.Root), Exports),
        (new ConfigNamespace("telemetry/logstash", ConfigScope.Root), Exports),
        (new ConfigNamespace("telemetry/newrelic", ConfigScope.Root), Exports),
        (new ConfigNamespace("telemetry/instana", ConfigScope.Root), Exports),
        (new ConfigNamespace("documentation/openapi", ConfigScope.Root | ConfigScope.Endpoint), "it describes the API for generated documentation, which the gateway does not serve"),
    };

    /// <summary>Reports each observe-only namespace of this <c>extra_config</c> as accepted without effect.</summary>
    public static void Report(ExtraConfig extra, JsonProperty? extraConfig, ConfigReader read)
    {
        if (extraConfig is null || extraConfig.Value.Kind != JsonKind.Object)
        {
            return;
        }

        foreach ((ConfigNamespace ns, string instead) in Namespaces)
        {
            if (extra.Find(ns) is null)
            {
                continue;
            }

            foreach (JsonProperty entry in extraConfig.Value.Properties!)
            {
                if (entry.Name == ns.Name)
                {
                    read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{ns.Name}\" is accepted and has no effect: {instead}", entry);
                }
            }
        }
    }
}

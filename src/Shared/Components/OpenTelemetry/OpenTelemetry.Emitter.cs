using System.Collections.Generic;
using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.OpenTelemetry;

/// <summary>The generated part of <c>telemetry/opentelemetry</c>: the settings and exporters, built once in <c>CompiledGateway</c>.</summary>
internal static class OpenTelemetryEmitter
{
    public const string TypeName = "global::Gateway.Components.OpenTelemetry.OpenTelemetrySettings";

    private const string Prometheus = "global::Gateway.Runtime.Telemetry.PrometheusExport";
    private const string Otlp = "global::Gateway.Runtime.Telemetry.OtlpExport";

    public static string[] Arguments(OpenTelemetryModel model) =>
    [
        $"serviceName: {Text(model.ServiceName)}",
        $"serviceVersion: {Text(model.ServiceVersion)}",
        $"deployEnvironment: {Text(model.DeployEnv)}",
        $"metricReportingPeriodSeconds: {(model.MetricReportingPeriodSeconds is { } seconds ? seconds.ToString(CultureInfo.InvariantCulture) : "null")}",
        $"traceSampleRate: {(model.TraceSampleRate is { } rate ? rate.ToString("R", CultureInfo.InvariantCulture) : "null")}",
        $"prometheus: {PrometheusExporters(model.Prometheus)}",
        $"otlp: {OtlpExporters(model.Otlp)}",
    ];

    public static string Describe(OpenTelemetryModel model) =>
        $"telemetry/opentelemetry: {model.Prometheus.Count} prometheus and {model.Otlp.Count} otlp exporter(s)";

    private static string PrometheusExporters(IEnumerable<PrometheusExporterModel> exporters)
    {
        var items = new List<string>();
        foreach (PrometheusExporterModel exporter in exporters)
        {
            string address = exporter.ListenIp is null ? string.Empty : $", ListenAddress = global::System.Net.IPAddress.Parse({CSharp.String(exporter.ListenIp)})";
            items.Add($"new() {{ Name = {CSharp.String(exporter.Name)}, Port = {exporter.Port.ToString(CultureInfo.InvariantCulture)}{address} }}");
        }

        return $"new {Prometheus}[] {{ {string.Join(", ", items)} }}";
    }

    private static string OtlpExporters(IEnumerable<OtlpExporterModel> exporters)
    {
        var items = new List<string>();
        foreach (OtlpExporterModel exporter in exporters)
        {
            items.Add($"new() {{ Name = {CSharp.String(exporter.Name)}, Endpoint = new global::System.Uri({CSharp.String(exporter.Endpoint)}), UseHttp = {Bool(exporter.UseHttp)}, DisableMetrics = {Bool(exporter.DisableMetrics)}, DisableTraces = {Bool(exporter.DisableTraces)} }}");
        }

        return $"new {Otlp}[] {{ {string.Join(", ", items)} }}";
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Text(string? value) => value is null ? "null" : CSharp.String(value);
}

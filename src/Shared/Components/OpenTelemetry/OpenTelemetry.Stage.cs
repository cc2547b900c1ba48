using Gateway.Runtime.Hosting;
using Gateway.Runtime.Telemetry;

namespace Gateway.Components.OpenTelemetry;

/// <summary>
/// <c>telemetry/opentelemetry</c> at run time: fills the metrics and traces settings the operator left unset, and
/// adds the configuration's exporters of each kind the operator did not declare (docs/operations.md). The per-request
/// work is <see cref="GatewayTelemetry"/>'s, and exists only when an exporter does.
/// </summary>
public sealed class OpenTelemetrySettings : IGatewayComponent
{
    private readonly string? _serviceName;
    private readonly string? _serviceVersion;
    private readonly string? _deployEnvironment;
    private readonly int? _metricReportingPeriodSeconds;
    private readonly double? _traceSampleRate;
    private readonly PrometheusExport[] _prometheus;
    private readonly OtlpExport[] _otlp;

    public OpenTelemetrySettings(string? serviceName, string? serviceVersion, string? deployEnvironment, int? metricReportingPeriodSeconds, double? traceSampleRate, PrometheusExport[] prometheus, OtlpExport[] otlp)
    {
        _serviceName = serviceName;
        _serviceVersion = serviceVersion;
        _deployEnvironment = deployEnvironment;
        _metricReportingPeriodSeconds = metricReportingPeriodSeconds;
        _traceSampleRate = traceSampleRate;
        _prometheus = prometheus;
        _otlp = otlp;
    }

    public void ConfigureHost(GatewayHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        OpenTelemetryOptions otel = host.Options.Telemetry.OpenTelemetry;
        otel.Sdk ??= OpenTelemetryProviders.Build;
        otel.ServiceName ??= _serviceName;
        otel.ServiceVersion ??= _serviceVersion;
        otel.DeployEnvironment ??= _deployEnvironment;
        otel.MetricReportingPeriod ??= _metricReportingPeriodSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
        otel.TraceSampleRate ??= _traceSampleRate;
        if (otel.Prometheus.Count == 0)
        {
            otel.Prometheus.AddRange(_prometheus);
        }

        if (otel.Otlp.Count == 0)
        {
            otel.Otlp.AddRange(_otlp);
        }
    }
}

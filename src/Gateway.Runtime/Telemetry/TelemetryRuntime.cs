using Gateway.Runtime.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// Builds what <see cref="TelemetryOptions"/> asks for, once, when the server is built: the per-request recorder
/// (<see cref="GatewayTelemetry"/>), the Prometheus aggregation and, through <see cref="OpenTelemetryOptions.Sdk"/>, the
/// OpenTelemetry providers with their OTLP exporters. Nothing is built for a signal nobody exports, so an unconfigured
/// gateway has no meter, no activity source and no listener.
/// </summary>
public sealed class TelemetryRuntime : IDisposable
{
    private readonly GatewayInstruments? _instruments;
    private readonly TelemetryExports? _exports;

    private TelemetryRuntime(GatewayTelemetry? recorder, MetricsEndpoint? metrics, GatewayInstruments? instruments, TelemetryExports? exports)
    {
        Recorder = recorder;
        Metrics = metrics;
        _instruments = instruments;
        _exports = exports;
    }

    /// <summary>What is recorded per request; null when nothing is.</summary>
    public GatewayTelemetry? Recorder { get; }

    /// <summary>The Prometheus scrape endpoint; null when metrics are not scraped.</summary>
    public MetricsEndpoint? Metrics { get; }

    /// <summary>
    /// The ports of the Prometheus exporters that have a port of their own (the server listens on them too).
    /// </summary>
    public static IEnumerable<PrometheusExport> OwnPorts(TelemetryOptions options) =>
        options.OpenTelemetry.MetricsEnabled ? options.OpenTelemetry.Prometheus.Where(p => !p.DisableMetrics && p.Port is not null) : [];

    /// <summary>
    /// Stops the start when metrics are to be pushed or requests traced (by an argument or an <c>OTEL_*</c> variable)
    /// but the binary was compiled without the OpenTelemetry SDK: a configuration without <c>telemetry/opentelemetry</c>,
    /// built without <c>-p:GatewayOpenTelemetry=true</c>. Prometheus metrics need no SDK.
    /// </summary>
    public static void CheckSupported(TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        OpenTelemetryOptions otel = options.OpenTelemetry;
        if ((otel.MetricsPushed || otel.TracesEnabled) && otel.Sdk is null)
        {
            throw new GatewayStartupException(
                "OTLP export and tracing are not compiled into this gateway: its configuration has no \"telemetry/opentelemetry\" namespace. " +
                "Add one (docs/operations.md), or build with -p:GatewayOpenTelemetry=true to turn them on by arguments and OTEL_* variables alone; " +
                "Prometheus metrics (--metrics) need neither");
        }
    }

    /// <param name="options">What is asked for.</param>
    /// <param name="log">The gateway's log output, for the access log.</param>
    /// <param name="loggers">The logging filters: the access log is written when its category is enabled at information.</param>
    public static TelemetryRuntime Create(TelemetryOptions options, GatewayLoggerProvider log, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckSupported(options);
        OpenTelemetryOptions otel = options.OpenTelemetry;

        PrometheusMetrics? scraped = null;
        MetricsEndpoint? endpoint = null;
        if (otel.MetricsScraped is { } export)
        {
            scraped = new PrometheusMetrics(otel.ResourceAttributes());
            endpoint = new MetricsEndpoint(scraped.Render, export.Path, export.Port);
        }

        GatewayInstruments? instruments = otel.MetricsEnabled ? new GatewayInstruments(scraped, otel.MetricsPushed) : null;
        TelemetryExports? exports = otel.MetricsPushed || otel.TracesEnabled ? otel.Sdk!(otel) : null;
        bool accessLog = (options.AccessLog ?? true) && loggers.CreateLogger(GatewayLog.AccessCategory).IsEnabled(LogLevel.Information);
        var recorder = new GatewayTelemetry(accessLog ? log : null, instruments, exports?.Source, options.AccessLogSkipPaths);
        return new TelemetryRuntime(recorder.ObservesRequests ? recorder : null, endpoint, instruments, exports);
    }

    /// <summary>Exports what is still buffered (spans, the last metrics), then stops the providers.</summary>
    public void Dispose()
    {
        _exports?.Dispose();
        _instruments?.Dispose();
    }
}

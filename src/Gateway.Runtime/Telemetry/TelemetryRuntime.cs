using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// Builds what <see cref="TelemetryOptions"/> asks for, once, when the server is built: the per-request recorder
/// (<see cref="GatewayTelemetry"/>), and the OpenTelemetry meter and tracer providers with their exporters. Nothing
/// is built for a signal nobody exports, so an unconfigured gateway has no meter, no activity source and no listener.
/// </summary>
public sealed class TelemetryRuntime : IDisposable
{
    private readonly MeterProvider? _meters;
    private readonly TracerProvider? _tracer;
    private readonly ActivitySource? _source;

    private TelemetryRuntime(GatewayTelemetry? recorder, MetricsEndpoint? metrics, MeterProvider? meters, TracerProvider? tracer, ActivitySource? source)
    {
        Recorder = recorder;
        Metrics = metrics;
        _meters = meters;
        _tracer = tracer;
        _source = source;
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

    /// <param name="options">What is asked for.</param>
    /// <param name="log">The gateway's log output, for the access log.</param>
    /// <param name="loggers">The logging filters: the access log is written when its category is enabled at information.</param>
    public static TelemetryRuntime Create(TelemetryOptions options, GatewayLoggerProvider log, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        OpenTelemetryOptions otel = options.OpenTelemetry;
        ResourceBuilder resource = ResourceBuilder.CreateEmpty().AddService(otel.ServiceName ?? "gateway", serviceVersion: otel.ServiceVersion, autoGenerateServiceInstanceId: false);
        if (!string.IsNullOrEmpty(otel.DeployEnvironment))
        {
            resource.AddAttributes([new KeyValuePair<string, object>("deployment.environment.name", otel.DeployEnvironment)]);
        }

        GatewayInstruments? instruments = null;
        MeterProvider? meters = null;
        MetricsEndpoint? endpoint = null;
        if (otel.MetricsEnabled)
        {
            instruments = new GatewayInstruments();
            MeterProviderBuilder builder = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(GatewayInstruments.MeterName);
            PrometheusExport? scraped = otel.Prometheus.Find(p => !p.DisableMetrics);
            PrometheusText? text = null;
            BaseExportingMetricReader? pull = null;
            if (scraped is not null)
            {
                // A pull reader: it collects only when a scrape asks (cumulative values, as Prometheus expects).
                text = new PrometheusText();
                pull = new BaseExportingMetricReader(text);
                builder.AddReader(pull);
            }

            foreach (OtlpExport otlp in otel.Otlp.Where(o => !o.DisableMetrics))
            {
                builder.AddOtlpExporter(otlp.Name + "-metrics", (exporter, reader) =>
                {
                    Configure(exporter, otlp, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)(otel.MetricReportingPeriod ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
                });
            }

            meters = builder.Build();
            if (scraped is not null)
            {
                endpoint = new MetricsEndpoint(text!, pull!, scraped.Path, scraped.Port);
            }
        }

        ActivitySource? source = null;
        TracerProvider? tracer = null;
        if (otel.TracesEnabled)
        {
            source = new ActivitySource(GatewayTelemetry.ActivitySourceName);
            TracerProviderBuilder builder = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(GatewayTelemetry.ActivitySourceName)
                // A traced client's decision is kept; otherwise trace_sample_rate of the requests are recorded.
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(Math.Clamp(otel.TraceSampleRate ?? 1.0, 0, 1))));
            foreach (OtlpExport otlp in otel.Otlp.Where(o => !o.DisableTraces))
            {
                builder.AddOtlpExporter(otlp.Name + "-traces", exporter => Configure(exporter, otlp, "v1/traces"));
            }

            otel.ConfigureTracing?.Invoke(builder);
            tracer = builder.Build();
        }

        bool accessLog = (options.AccessLog ?? true) && loggers.CreateLogger(Hosting.GatewayLog.AccessCategory).IsEnabled(LogLevel.Information);
        var recorder = new GatewayTelemetry(accessLog ? log : null, instruments, source);
        return new TelemetryRuntime(recorder.ObservesRequests ? recorder : null, endpoint, meters, tracer, source);
    }

    private static void Configure(OtlpExporterOptions exporter, OtlpExport otlp, string signalPath)
    {
        // Set in code, an OTLP/HTTP endpoint is used as it is: the signal's path is the gateway's to add.
        exporter.Protocol = otlp.UseHttp ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = otlp.UseHttp ? new Uri(otlp.Endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath) : otlp.Endpoint;
    }

    /// <summary>Exports what is still buffered (spans, the last metrics), then stops the providers.</summary>
    public void Dispose()
    {
        _tracer?.ForceFlush(5000);
        _tracer?.Dispose();
        _meters?.ForceFlush(5000);
        _meters?.Dispose();
        _source?.Dispose();
        Recorder?.Instruments?.Dispose();
    }
}

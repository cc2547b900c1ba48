using System.Net;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// Logs, metrics and traces, as the operator (arguments, then environment) and the configuration (<c>telemetry/logging</c>,
/// <c>telemetry/opentelemetry</c>) ask for them. Unset values (null, empty lists) are filled by the configuration's
/// components, so an operator's choice always wins; <see cref="Hosting.GatewayServer"/> applies the defaults that remain.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary><c>--log-format</c>; text when nobody sets it.</summary>
    public LogFormat? LogFormat { get; set; }

    /// <summary><c>--log-level</c>: the least severe entry written; information when nobody sets it.</summary>
    public LogLevel? LogLevel { get; set; }

    /// <summary><c>--no-access-log</c> sets it false; on when nobody sets it.</summary>
    public bool? AccessLog { get; set; }

    /// <summary><c>router.logger_skip_paths</c>: request paths, exactly as sent, that get no access log line.</summary>
    public ISet<string> AccessLogSkipPaths { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary><c>telemetry/logging.prefix</c>: text put before each line (a field of its own in JSON).</summary>
    public string? LogPrefix { get; set; }

    /// <summary><c>telemetry/logging.stdout</c>: false sends the log to standard error; standard output when nobody sets it.</summary>
    public bool? LogToStandardOutput { get; set; }

    /// <summary><c>telemetry/logging.syslog_facility</c> when <c>syslog</c> is on (<c>local0</c> to <c>local7</c>); null: no syslog.</summary>
    public string? SyslogFacility { get; set; }

    /// <summary>The syslog socket; the first of <see cref="SyslogSink.DefaultPaths"/> that accepts when null (tests set their own).</summary>
    public string? SyslogPath { get; set; }

    /// <summary>Where the log goes instead of the standard streams (tests capture it here). Not owned.</summary>
    public Stream? LogStream { get; set; }

    public OpenTelemetryOptions OpenTelemetry { get; } = new();
}

/// <summary>Metrics and traces (OpenTelemetry). Off unless an exporter is configured.</summary>
public sealed class OpenTelemetryOptions
{
    /// <summary><c>OTEL_SDK_DISABLED=true</c>: no metrics or traces, whatever the configuration says.</summary>
    public bool Disabled { get; set; }

    /// <summary><c>OTEL_METRICS_EXPORTER=none</c>: no metrics, whoever configured an exporter.</summary>
    public bool MetricsOff { get; set; }

    /// <summary><c>OTEL_TRACES_EXPORTER=none</c>: no traces, whoever configured an exporter.</summary>
    public bool TracesOff { get; set; }

    /// <summary><c>service_name</c>, <c>OTEL_SERVICE_NAME</c>, <c>--service-name</c>; <c>gateway</c> when nobody sets it.</summary>
    public string? ServiceName { get; set; }

    public string? ServiceVersion { get; set; }

    /// <summary><c>deploy_env</c>: the <c>deployment.environment</c> resource attribute.</summary>
    public string? DeployEnvironment { get; set; }

    /// <summary><c>trace_sample_rate</c> (0 to 1); 1 when nobody sets it, as KrakenD.</summary>
    public double? TraceSampleRate { get; set; }

    /// <summary><c>metric_reporting_period</c>: how often metrics are pushed over OTLP; 30 s when nobody sets it, as KrakenD.</summary>
    public TimeSpan? MetricReportingPeriod { get; set; }

    /// <summary>Where Prometheus scrapes the metrics; empty when metrics are not exposed for scraping.</summary>
    public List<PrometheusExport> Prometheus { get; } = [];

    /// <summary>Where metrics and traces are pushed over OTLP.</summary>
    public List<OtlpExport> Otlp { get; } = [];

    /// <summary>
    /// Builds the SDK's providers (<see cref="OpenTelemetryProviders.Build"/>): set by the <c>telemetry/opentelemetry</c>
    /// component, so that only binaries whose configuration has it carry the SDK. Null: no metrics or traces can be
    /// exported, and asking for them stops the start (<see cref="TelemetryRuntime.CheckSupported"/>).
    /// </summary>
    public Func<OpenTelemetryOptions, TelemetryExports>? Sdk { get; set; }

    /// <summary>Also exports spans elsewhere (tests add an in-memory exporter here); spans are recorded when set.</summary>
    public Action<OpenTelemetry.Trace.TracerProviderBuilder>? ConfigureTracing { get; set; }

    /// <summary>The resource attributes: <c>service.name</c> (gateway when nobody sets it), <c>service.version</c>,
    /// <c>deployment.environment.name</c>.</summary>
    internal IEnumerable<KeyValuePair<string, string>> ResourceAttributes()
    {
        yield return new("service.name", ServiceName ?? "gateway");
        if (!string.IsNullOrEmpty(ServiceVersion))
        {
            yield return new("service.version", ServiceVersion);
        }

        if (!string.IsNullOrEmpty(DeployEnvironment))
        {
            yield return new("deployment.environment.name", DeployEnvironment);
        }
    }

    internal bool MetricsEnabled => MetricsScraped is not null || MetricsPushed;

    /// <summary>Prometheus scrapes the metrics: the gateway aggregates them itself (<see cref="PrometheusMetrics"/>).</summary>
    internal PrometheusExport? MetricsScraped => !Disabled && !MetricsOff ? Prometheus.Find(p => !p.DisableMetrics) : null;

    /// <summary>Metrics are pushed over OTLP: the OpenTelemetry SDK's work (<see cref="Sdk"/>).</summary>
    internal bool MetricsPushed => !Disabled && !MetricsOff && Otlp.Exists(o => !o.DisableMetrics);

    internal bool TracesEnabled => !Disabled && !TracesOff && (Otlp.Exists(o => !o.DisableTraces) || ConfigureTracing is not null);
}

/// <summary>A Prometheus scrape endpoint: the gateway's own port, or a port of its own.</summary>
public sealed class PrometheusExport
{
    public const string DefaultPath = "/__stats/metrics";

    /// <summary>The exporter's <c>name</c> in the configuration (for messages only).</summary>
    public string Name { get; set; } = "prometheus";

    /// <summary>A port of its own for the metrics (answering nothing else); null serves them on the gateway's port.</summary>
    public int? Port { get; set; }

    /// <summary>The address of <see cref="Port"/>; the gateway's listen address when null.</summary>
    public IPAddress? ListenAddress { get; set; }

    /// <summary>The scrape path. On a port of its own, <c>/metrics</c> (KrakenD's) answers too.</summary>
    public string Path { get; set; } = DefaultPath;

    public bool DisableMetrics { get; set; }
}

/// <summary>An OTLP collector that receives metrics and traces.</summary>
public sealed class OtlpExport
{
    public string Name { get; set; } = "otlp";

    /// <summary>The collector's base URL (<c>http://collector:4317</c>); for OTLP/HTTP the signal paths are added.</summary>
    public required Uri Endpoint { get; set; }

    /// <summary>OTLP over HTTP with protobuf bodies instead of gRPC.</summary>
    public bool UseHttp { get; set; }

    public bool DisableMetrics { get; set; }

    public bool DisableTraces { get; set; }
}

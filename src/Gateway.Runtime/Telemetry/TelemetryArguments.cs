using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// The command-line flags and environment variables of logs, metrics and traces (docs/operations.md). The gateway's
/// own (<c>--log-format</c>, <c>GATEWAY_LOG_FORMAT</c>, ...) and OpenTelemetry's standard <c>OTEL_*</c> variables.
/// What an operator sets here wins over <c>telemetry/logging</c> and <c>telemetry/opentelemetry</c>: exporters given
/// here replace the configuration's exporters of the same kind.
/// </summary>
public static class TelemetryArguments
{
    /// <summary>The name of the exporters an operator declares with flags or variables.</summary>
    public const string OperatorExporter = "operator";

    public const string Usage =
        "  --log-format text|json            one line of text, or one JSON object, per entry (env GATEWAY_LOG_FORMAT)\n" +
        "  --log-level LEVEL                 debug, info, warning, error or critical (env GATEWAY_LOG_LEVEL)\n" +
        "  --no-access-log                   no line per request (env GATEWAY_ACCESS_LOG=false)\n" +
        "  --syslog-socket PATH              the syslog socket of telemetry/logging.syslog (env GATEWAY_SYSLOG_SOCKET;\n" +
        "                                    default /dev/log)\n" +
        "  --metrics                         Prometheus metrics at /__stats/metrics (env GATEWAY_METRICS=true)\n" +
        "  --metrics-port N                  ... on a port of their own (env GATEWAY_METRICS_PORT, OTEL_EXPORTER_PROMETHEUS_PORT)\n" +
        "  --metrics-listen-ip IP            the address of that port (env OTEL_EXPORTER_PROMETHEUS_HOST)\n" +
        "  --metrics-path PATH               the scrape path (env GATEWAY_METRICS_PATH; default /__stats/metrics)\n" +
        "  --otlp-endpoint URL               push metrics and traces to an OTLP collector (env OTEL_EXPORTER_OTLP_ENDPOINT)\n" +
        "  --otlp-protocol grpc|http/protobuf  (env OTEL_EXPORTER_OTLP_PROTOCOL; default grpc)\n" +
        "  --trace-sample-rate R             the share of requests traced, 0 to 1 (env OTEL_TRACES_SAMPLER_ARG)\n" +
        "  --service-name NAME               the service.name resource attribute (env OTEL_SERVICE_NAME)";

    /// <summary>Flags without a value.</summary>
    public static bool IsSwitch(string arg) => arg is "--no-access-log" or "--metrics";

    /// <summary>Flags followed by a value.</summary>
    public static bool TakesValue(string arg) =>
        arg is "--log-format" or "--log-level" or "--syslog-socket" or "--metrics-port" or "--metrics-listen-ip" or "--metrics-path" or "--otlp-endpoint" or "--otlp-protocol" or "--trace-sample-rate" or "--service-name";

    /// <summary>Applies one flag; an error text when its value is not valid.</summary>
    public static string? Apply(TelemetryOptions options, string arg, string? value)
    {
        ArgumentNullException.ThrowIfNull(options);
        OpenTelemetryOptions otel = options.OpenTelemetry;
        switch (arg)
        {
            case "--no-access-log":
                options.AccessLog = false;
                return null;
            case "--metrics":
                OperatorPrometheus(otel);
                return null;
            case "--log-format":
                return SetFormat(options, value!);
            case "--log-level":
                return SetLevel(options, value!);
            case "--syslog-socket":
                if (string.IsNullOrEmpty(value))
                {
                    return "'' is not a path";
                }

                options.SyslogPath = value;
                return null;
            case "--metrics-port":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                {
                    return $"'{value}' is not a port number (1-65535)";
                }

                OperatorPrometheus(otel).Port = port;
                return null;
            case "--metrics-listen-ip":
                if (!IPAddress.TryParse(value, out IPAddress? address))
                {
                    return $"'{value}' is not an IP address";
                }

                OperatorPrometheus(otel).ListenAddress = address;
                return null;
            case "--metrics-path":
                if (string.IsNullOrEmpty(value) || value[0] != '/' || value.Contains('?', StringComparison.Ordinal))
                {
                    return $"'{value}' is not a path (it starts with '/')";
                }

                OperatorPrometheus(otel).Path = value;
                return null;
            case "--otlp-endpoint":
                if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
                {
                    return $"'{value}' is not an http(s) URL";
                }

                OperatorOtlp(otel).Endpoint = endpoint;
                return null;
            case "--otlp-protocol":
                if (value is not ("grpc" or "http/protobuf"))
                {
                    return $"'{value}' is not grpc or http/protobuf";
                }

                OperatorOtlp(otel).UseHttp = value == "http/protobuf";
                return null;
            case "--trace-sample-rate":
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate is < 0 or > 1 || double.IsNaN(rate))
                {
                    return $"'{value}' is not a rate between 0 and 1";
                }

                otel.TraceSampleRate = rate;
                return null;
            case "--service-name":
                otel.ServiceName = value;
                return null;
            default:
                return $"unknown argument '{arg}'";
        }
    }

    /// <summary>Reads the environment (before the arguments, which win); an error text naming the variable.</summary>
    public static string? ReadEnvironment(TelemetryOptions options, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(variable);
        OpenTelemetryOptions otel = options.OpenTelemetry;
        (string Name, string Flag)[] mapped =
        [
            ("GATEWAY_LOG_FORMAT", "--log-format"),
            ("GATEWAY_LOG_LEVEL", "--log-level"),
            ("GATEWAY_SYSLOG_SOCKET", "--syslog-socket"),
            ("GATEWAY_METRICS_PORT", "--metrics-port"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "--metrics-port"),
            ("OTEL_EXPORTER_PROMETHEUS_HOST", "--metrics-listen-ip"),
            ("GATEWAY_METRICS_PATH", "--metrics-path"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "--otlp-endpoint"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "--otlp-protocol"),
            ("OTEL_SERVICE_NAME", "--service-name"),
        ];
        foreach ((string name, string flag) in mapped)
        {
            if (variable(name) is { Length: > 0 } value && Apply(options, flag, value) is { } error)
            {
                return $"{name}: {error}";
            }
        }

        if (variable("GATEWAY_ACCESS_LOG") is { Length: > 0 } access)
        {
            if (!bool.TryParse(access, out bool on))
            {
                return $"GATEWAY_ACCESS_LOG: '{access}' is not true or false";
            }

            options.AccessLog = on;
        }

        if (variable("GATEWAY_METRICS") is { Length: > 0 } metrics && bool.TryParse(metrics, out bool metricsOn) && metricsOn)
        {
            OperatorPrometheus(otel);
        }

        // OTEL_METRICS_EXPORTER / OTEL_TRACES_EXPORTER: comma-separated exporter names; "none" turns a signal off.
        string? metricExporters = variable("OTEL_METRICS_EXPORTER");
        string? traceExporters = variable("OTEL_TRACES_EXPORTER");
        if (Names(metricExporters).Contains("prometheus"))
        {
            OperatorPrometheus(otel);
        }

        if ((Names(metricExporters).Contains("otlp") || Names(traceExporters).Contains("otlp")) && FindOperator(otel.Otlp) is null)
        {
            // The specification's default collector.
            OperatorOtlp(otel);
        }

        otel.MetricsOff = metricExporters == "none";
        otel.TracesOff = traceExporters == "none";

        string? sampler = variable("OTEL_TRACES_SAMPLER");
        if (sampler is "always_off" or "parentbased_always_off")
        {
            otel.TraceSampleRate = 0;
        }
        else if (sampler is "always_on" or "parentbased_always_on")
        {
            otel.TraceSampleRate = 1;
        }
        else if (variable("OTEL_TRACES_SAMPLER_ARG") is { Length: > 0 } ratio && Apply(options, "--trace-sample-rate", ratio) is { } ratioError)
        {
            return "OTEL_TRACES_SAMPLER_ARG: " + ratioError;
        }

        if (variable("OTEL_METRIC_EXPORT_INTERVAL") is { Length: > 0 } interval)
        {
            if (!int.TryParse(interval, NumberStyles.None, CultureInfo.InvariantCulture, out int milliseconds) || milliseconds < 100)
            {
                return $"OTEL_METRIC_EXPORT_INTERVAL: '{interval}' is not a number of milliseconds (at least 100)";
            }

            otel.MetricReportingPeriod = TimeSpan.FromMilliseconds(milliseconds);
        }

        otel.Disabled = string.Equals(variable("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase);
        return null;
    }

    private static string[] Names(string? list) => list?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static string? SetFormat(TelemetryOptions options, string value)
    {
        if (value is not ("text" or "json"))
        {
            return $"'{value}' is not text or json";
        }

        options.LogFormat = value == "json" ? LogFormat.Json : LogFormat.Text;
        return null;
    }

    private static string? SetLevel(TelemetryOptions options, string value)
    {
        if (ParseLevel(value) is not { } level)
        {
            return $"'{value}' is not one of debug, info, warning, error, critical";
        }

        options.LogLevel = level;
        return null;
    }

    /// <summary>A level by the gateway's names or KrakenD's (<c>DEBUG</c>, <c>INFO</c>, <c>WARNING</c>, <c>ERROR</c>, <c>CRITICAL</c>), any case.</summary>
    public static LogLevel? ParseLevel(string value) => value.ToUpperInvariant() switch
    {
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "INFO" or "INFORMATION" => LogLevel.Information,
        "WARN" or "WARNING" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "CRITICAL" => LogLevel.Critical,
        _ => null,
    };

    private static PrometheusExport OperatorPrometheus(OpenTelemetryOptions otel)
    {
        if (FindOperator(otel.Prometheus) is { } existing)
        {
            return existing;
        }

        var created = new PrometheusExport { Name = OperatorExporter };
        otel.Prometheus.Add(created);
        return created;
    }

    private static OtlpExport OperatorOtlp(OpenTelemetryOptions otel)
    {
        if (FindOperator(otel.Otlp) is { } existing)
        {
            return existing;
        }

        var created = new OtlpExport { Name = OperatorExporter, Endpoint = new Uri("http://localhost:4317") };
        otel.Otlp.Add(created);
        return created;
    }

    private static PrometheusExport? FindOperator(List<PrometheusExport> exporters) => exporters.Find(e => e.Name == OperatorExporter);

    private static OtlpExport? FindOperator(List<OtlpExport> exporters) => exporters.Find(e => e.Name == OperatorExporter);
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.OpenTelemetry;

/// <summary>A Prometheus exporter of <c>telemetry/opentelemetry</c>: the metrics on a port of their own.</summary>
internal sealed record PrometheusExporterModel(string Name, int Port, string? ListenIp);

/// <summary>An OTLP exporter: where metrics and traces are pushed.</summary>
internal sealed record OtlpExporterModel(string Name, string Endpoint, bool UseHttp, bool DisableMetrics, bool DisableTraces);

/// <summary><c>telemetry/opentelemetry</c> as read; null where the configuration says nothing.</summary>
internal sealed record OpenTelemetryModel(
    string? ServiceName,
    string? ServiceVersion,
    string? DeployEnv,
    int? MetricReportingPeriodSeconds,
    double? TraceSampleRate,
    EquatableArray<PrometheusExporterModel> Prometheus,
    EquatableArray<OtlpExporterModel> Otlp) : GatewayComponentModel;

/// <summary>
/// KrakenD's <c>telemetry/opentelemetry</c> at the configuration root (docs/configuration.md, metrics and traces): the
/// service's name, the sampling rate, how often metrics are pushed, and the exporters: <c>prometheus</c> (a scrape port
/// each) and <c>otlp</c> (a collector each, gRPC or HTTP). Exporters set by the operator (<c>--metrics-port</c>,
/// <c>--otlp-endpoint</c>, <c>OTEL_*</c>) replace the configuration's of the same kind.
/// </summary>
internal static class OpenTelemetryConfig
{
    public static readonly ConfigNamespace Namespace = new("telemetry/opentelemetry", ConfigScope.Root);

    private static readonly string[] Supported = { "service_name", "service_version", "deploy_env", "metric_reporting_period", "trace_sample_rate", "exporters", Keys.Comment };

    /// <summary>Per-layer switches and skipped paths: a configuration that sets them expects behaviour the gateway does not have yet.</summary>
    private static readonly string[] NotYet = { "layers", "skip_paths" };

    private static readonly string[] PrometheusKeys = { "name", "port", "listen_ip", "disable_metrics", "process_metrics", "go_metrics", Keys.Comment };

    private static readonly string[] OtlpKeys = { "name", "host", "port", "use_http", "disable_metrics", "disable_traces", Keys.Comment };

    /// <summary>
    /// <paramref name="model"/> with the OpenTelemetry SDK compiled in: unchanged when its configuration has
    /// <c>telemetry/opentelemetry</c>, else with one that exports nothing until an operator asks (build property
    /// <c>GatewayOpenTelemetry</c>).
    /// </summary>
    public static GatewayModel WithSdk(GatewayModel model)
    {
        foreach (GatewayComponentModel component in model.Components)
        {
            if (component is OpenTelemetryModel)
            {
                return model;
            }
        }

        var components = new List<GatewayComponentModel>(model.Components)
        {
            new OpenTelemetryModel(null, null, null, null, null, EquatableArray<PrometheusExporterModel>.Empty, EquatableArray<OtlpExporterModel>.Empty),
        };
        return model with { Components = EquatableArray.From(components) };
    }

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static GatewayComponentModel? Read(JsonNode node, GatewayReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"telemetry/opentelemetry\"", Supported, NotYet);

        string? serviceName = Text(node, "service_name", read);
        string? serviceVersion = Text(node, "service_version", read);
        string? deployEnv = Text(node, "deploy_env", read);

        int? period = null;
        if (node.Find("metric_reporting_period") is { } periodProperty && read.Expect(periodProperty, JsonKind.Number, "a number of seconds"))
        {
            if (int.TryParse(periodProperty.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) && seconds >= 1)
            {
                period = seconds;
            }
            else
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"metric_reporting_period\" {periodProperty.Value.Text} is not a whole number of seconds (at least 1)", periodProperty.Value);
            }
        }

        double? rate = null;
        if (node.Find("trace_sample_rate") is { } rateProperty && read.Expect(rateProperty, JsonKind.Number, "a number between 0 and 1"))
        {
            if (double.TryParse(rateProperty.Value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0 && value <= 1)
            {
                rate = value;
            }
            else
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"trace_sample_rate\" {rateProperty.Value.Text} is not between 0 (no request traced) and 1 (every request)", rateProperty.Value);
            }
        }

        var prometheus = new List<PrometheusExporterModel>();
        var otlp = new List<OtlpExporterModel>();
        JsonProperty? exporters = node.Find("exporters");
        if (exporters is null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"telemetry/opentelemetry\" needs \"exporters\": at least one \"prometheus\" or \"otlp\" exporter", node);
        }
        else if (read.Expect(exporters, JsonKind.Object, "an object with \"prometheus\" and \"otlp\" lists"))
        {
            read.CheckKeys(exporters.Value, "\"exporters\"", new[] { "prometheus", "otlp", Keys.Comment }, Array.Empty<string>());
            // In file order, so that a duplicate name is reported where it appears the second time.
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty kind in exporters.Value.Properties!)
            {
                foreach (JsonNode item in kind.Name is "prometheus" or "otlp" ? Items(kind, read) : new List<JsonNode>())
                {
                    if (kind.Name == "prometheus" && ReadPrometheus(item, read, names, prometheus.Count) is { } scraped)
                    {
                        prometheus.Add(scraped);
                    }
                    else if (kind.Name == "otlp" && ReadOtlp(item, read, names, otlp.Count) is { } pushed)
                    {
                        otlp.Add(pushed);
                    }
                }
            }

            if (diagnostics.ErrorCount == errorsBefore && prometheus.Count == 0 && otlp.Count == 0)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"exporters\" declares no exporter: add a \"prometheus\" or an \"otlp\" one", exporters.Value);
            }
        }

        return diagnostics.ErrorCount > errorsBefore
            ? null
            : new OpenTelemetryModel(serviceName, serviceVersion, deployEnv, period, rate, EquatableArray.From(prometheus), EquatableArray.From(otlp));
    }

    private static PrometheusExporterModel? ReadPrometheus(JsonNode item, ConfigReader read, HashSet<string> names, int index)
    {
        read.CheckKeys(item, "a prometheus exporter", PrometheusKeys, Array.Empty<string>());
        string name = ExporterName(item, read, names, "prometheus", index);
        int port = Port(item, read, 9090);
        string? listenIp = Text(item, "listen_ip", read);
        if (listenIp is not null && !IPAddress.TryParse(listenIp, out _))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"listen_ip\" \"{listenIp}\" is not an IP address", item.Find("listen_ip")!.Value);
        }

        foreach (string key in new[] { "process_metrics", "go_metrics" })
        {
            if (item.Find(key) is { } flag && read.ParseBool(flag))
            {
                read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{key}\" has no effect: the gateway exports its own request and backend metrics only", flag);
            }
        }

        if (read.ParseBool(item.Find("disable_metrics")))
        {
            // An exporter that exports nothing: as if it were not declared.
            return null;
        }

        if (index > 0)
        {
            read.Diagnostics.Report(DiagnosticKind.NoEffect, $"only the first prometheus exporter is served; \"{name}\" has no effect", item);
            return null;
        }

        return new PrometheusExporterModel(name, port, listenIp);
    }

    private static OtlpExporterModel? ReadOtlp(JsonNode item, ConfigReader read, HashSet<string> names, int index)
    {
        read.CheckKeys(item, "an otlp exporter", OtlpKeys, Array.Empty<string>());
        string name = ExporterName(item, read, names, "otlp", index);
        bool useHttp = read.ParseBool(item.Find("use_http"));
        int port = Port(item, read, useHttp ? 4318 : 4317);
        string host = Text(item, "host", read) ?? "localhost";
        string endpoint;
        if (host.StartsWith("http://", StringComparison.Ordinal) || host.StartsWith("https://", StringComparison.Ordinal))
        {
            // A URL: its scheme says whether the collector speaks TLS.
            if (!Uri.TryCreate(host, UriKind.Absolute, out Uri? uri) || uri.PathAndQuery != "/")
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"host\" \"{host}\" is not a host name or an http(s)://host URL", item.Find("host")!.Value);
                return null;
            }

            endpoint = $"{uri.Scheme}://{uri.Host}:{port.ToString(CultureInfo.InvariantCulture)}";
        }
        else if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"host\" \"{host}\" is not a host name", item.Find("host")!.Value);
            return null;
        }
        else
        {
            endpoint = $"http://{(host.IndexOf(':') >= 0 ? "[" + host + "]" : host)}:{port.ToString(CultureInfo.InvariantCulture)}";
        }

        bool noMetrics = read.ParseBool(item.Find("disable_metrics"));
        bool noTraces = read.ParseBool(item.Find("disable_traces"));
        return noMetrics && noTraces ? null : new OtlpExporterModel(name, endpoint, useHttp, noMetrics, noTraces);
    }

    /// <summary>An exporter's <c>name</c>: unique among all exporters (KrakenD refuses duplicates); a default one from its kind and position.</summary>
    private static string ExporterName(JsonNode item, ConfigReader read, HashSet<string> names, string kind, int index)
    {
        string? name = Text(item, "name", read);
        if (name is not null && !names.Add(name))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"another exporter is already named \"{name}\"; exporter names must be unique", item.Find("name")!.Value);
        }

        return name ?? kind + index.ToString(CultureInfo.InvariantCulture);
    }

    private static int Port(JsonNode item, ConfigReader read, int fallback)
    {
        if (item.Find("port") is not { } property || !read.Expect(property, JsonKind.Number, "a port number"))
        {
            return fallback;
        }

        if (int.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && Hosts.IsPort(port))
        {
            return port;
        }

        read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"port\" {property.Value.Text}: {Hosts.PortRule}", property.Value);
        return fallback;
    }

    private static string? Text(JsonNode node, string key, ConfigReader read) =>
        node.Find(key) is { } property && read.Expect(property, JsonKind.String, "a string") ? property.Value.Text : null;

    /// <summary>The objects of an exporter list (KrakenD also accepts a single object); anything else reported at its place.</summary>
    private static List<JsonNode> Items(JsonProperty property, ConfigReader read)
    {
        string key = property.Name;
        var items = new List<JsonNode>();
        if (property.Value.Kind == JsonKind.Object)
        {
            items.Add(property.Value);
            return items;
        }

        if (!read.Expect(property, JsonKind.Array, $"a list of {key} exporters"))
        {
            return items;
        }

        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind == JsonKind.Object)
            {
                items.Add(item);
            }
            else
            {
                read.Diagnostics.Report(DiagnosticKind.WrongType, $"each entry of \"{key}\" must be an object, not {JsonNode.Describe(item.Kind)}", item);
            }
        }

        return items;
    }
}

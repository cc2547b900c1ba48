using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Runtime.Telemetry;

/// <summary>What the OpenTelemetry SDK built for one server: the activity source of the gateway's spans and the
/// providers that push metrics and traces (each null when its signal is off).</summary>
public sealed class TelemetryExports : IDisposable
{
    private readonly MeterProvider? _meters;
    private readonly TracerProvider? _tracer;

    internal TelemetryExports(ActivitySource? source, MeterProvider? meters, TracerProvider? tracer)
    {
        Source = source;
        _meters = meters;
        _tracer = tracer;
    }

    internal ActivitySource? Source { get; }

    /// <summary>Exports what is still buffered (spans, the last metrics), then stops the providers.</summary>
    public void Dispose()
    {
        _tracer?.ForceFlush(5000);
        _tracer?.Dispose();
        _meters?.ForceFlush(5000);
        _meters?.Dispose();
        Source?.Dispose();
    }
}

/// <summary>
/// The OpenTelemetry SDK's side of the gateway's telemetry: the tracer provider and the meter provider with their OTLP
/// exporters (Prometheus metrics are the gateway's own, <see cref="PrometheusMetrics"/>). Only the
/// <c>telemetry/opentelemetry</c> component refers to it (<see cref="OpenTelemetryOptions.Sdk"/>), so a binary compiled
/// from a configuration without that namespace does not carry the SDK (about 2 MB of the native binary;
/// docs/operations.md).
/// </summary>
public static class OpenTelemetryProviders
{
    /// <summary>Builds the providers <paramref name="otel"/> asks for; <see cref="OpenTelemetryOptions.Sdk"/>'s value.</summary>
    public static TelemetryExports Build(OpenTelemetryOptions otel)
    {
        ArgumentNullException.ThrowIfNull(otel);
        ResourceBuilder resource = ResourceBuilder.CreateEmpty()
            .AddAttributes(otel.ResourceAttributes().Select(a => new KeyValuePair<string, object>(a.Key, a.Value)));

        MeterProvider? meters = null;
        if (otel.MetricsPushed)
        {
            // The meter GatewayInstruments creates when metrics are pushed.
            MeterProviderBuilder builder = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(GatewayInstruments.MeterName);
            foreach (OtlpExport otlp in otel.Otlp.Where(o => !o.DisableMetrics))
            {
                builder.AddOtlpExporter(otlp.Name + "-metrics", (exporter, reader) =>
                {
                    Configure(exporter, otlp, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)(otel.MetricReportingPeriod ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
                });
            }

            meters = builder.Build();
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

        return new TelemetryExports(source, meters, tracer);
    }

    private static void Configure(OtlpExporterOptions exporter, OtlpExport otlp, string signalPath)
    {
        // Set in code, an OTLP/HTTP endpoint is used as it is: the signal's path is the gateway's to add.
        exporter.Protocol = otlp.UseHttp ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = otlp.UseHttp ? new Uri(otlp.Endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath) : otlp.Endpoint;
    }
}

using Gateway.Runtime.Hosting;
using Gateway.Runtime.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Tests.Telemetry;

public sealed class TelemetryRuntimeTests : IDisposable
{
    private readonly GatewayLoggerProvider _log = new(new LogSink(Stream.Null), LogFormat.Text);

    public void Dispose() => _log.Dispose();

    [Fact]
    public void Create_NothingAskedFor_NoRecorderNoEndpoint()
    {
        using TelemetryRuntime runtime = Create(new TelemetryOptions { AccessLog = false });

        // The dispatcher then takes its plain path: no record, no meter, no span per request.
        Assert.Null(runtime.Recorder);
        Assert.Null(runtime.Metrics);
    }

    [Fact]
    public void Create_AccessLogOnly_RecorderWithoutInstrumentsOrSpans()
    {
        using TelemetryRuntime runtime = Create(new TelemetryOptions());

        Assert.NotNull(runtime.Recorder);
        Assert.True(runtime.Recorder.AccessLog);
        Assert.Null(runtime.Recorder.Instruments);
        Assert.Null(runtime.Recorder.Tracing);
    }

    [Fact]
    public void Create_AccessLogFilteredOut_NoRecorder()
    {
        using ILoggerFactory warnings = LoggerFactory.Create(b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Warning));
        using TelemetryRuntime runtime = TelemetryRuntime.Create(new TelemetryOptions(), _log, warnings);

        Assert.Null(runtime.Recorder);
    }

    [Fact]
    public void Create_OtlpTracesDisabledBySdkSwitch_NoSpans()
    {
        var options = new TelemetryOptions { AccessLog = false };
        options.OpenTelemetry.Otlp.Add(new OtlpExport { Endpoint = new Uri("http://127.0.0.1:9") });
        options.OpenTelemetry.Disabled = true;

        using TelemetryRuntime runtime = Create(options);

        Assert.Null(runtime.Recorder);
    }

    [Fact]
    public void Create_PrometheusExporter_InstrumentsAndScrapeEndpoint()
    {
        var options = new TelemetryOptions { AccessLog = false };
        options.OpenTelemetry.Prometheus.Add(new PrometheusExport());

        using TelemetryRuntime runtime = Create(options);

        Assert.NotNull(runtime.Recorder?.Instruments);
        Assert.Null(runtime.Recorder.Tracing);
        Assert.NotNull(runtime.Metrics);
        runtime.Recorder.Instruments.RequestStarted();
        Assert.Contains("gateway_server_active_requests 1", runtime.Metrics.Collect().Split('\n'));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Create_OtlpOrTracingAskedWithoutTheSdk_StartupErrorNamesTheNamespaceAndTheBuildProperty(bool traces)
    {
        var options = new TelemetryOptions { AccessLog = false };
        options.OpenTelemetry.Otlp.Add(new OtlpExport { Endpoint = new Uri("http://127.0.0.1:9"), DisableMetrics = traces, DisableTraces = !traces });
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(_log));

        GatewayStartupException error = Assert.Throws<GatewayStartupException>(() => TelemetryRuntime.Create(options, _log, loggers));

        Assert.Contains("\"telemetry/opentelemetry\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("-p:GatewayOpenTelemetry=true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_PrometheusWithoutTheSdk_ScrapedWithoutTheSdk()
    {
        var options = new TelemetryOptions { AccessLog = false };
        options.OpenTelemetry.Prometheus.Add(new PrometheusExport());
        options.OpenTelemetry.ServiceName = "hotels";
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(_log));

        using TelemetryRuntime runtime = TelemetryRuntime.Create(options, _log, loggers);

        Assert.NotNull(runtime.Recorder?.Instruments);
        Assert.Null(runtime.Recorder.Tracing);
        runtime.Recorder.Instruments.RequestStarted();
        string[] lines = runtime.Metrics!.Collect().Split('\n');
        Assert.Contains("gateway_server_active_requests 1", lines);
        Assert.Contains("target_info{service_name=\"hotels\"} 1", lines);
    }

    private TelemetryRuntime Create(TelemetryOptions options)
    {
        options.OpenTelemetry.Sdk ??= OpenTelemetryProviders.Build;
        // The gateway's own provider, as GatewayServer registers it: the access log is on when its category is enabled.
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Information));
        return TelemetryRuntime.Create(options, _log, loggers);
    }
}

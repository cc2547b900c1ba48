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

    private TelemetryRuntime Create(TelemetryOptions options)
    {
        // The gateway's own provider, as GatewayServer registers it: the access log is on when its category is enabled.
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(_log).SetMinimumLevel(LogLevel.Information));
        return TelemetryRuntime.Create(options, _log, loggers);
    }
}

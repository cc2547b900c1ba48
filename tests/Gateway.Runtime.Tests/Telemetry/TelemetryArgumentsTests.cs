using System.Net;
using Gateway.Runtime.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Tests.Telemetry;

public class TelemetryArgumentsTests
{
    [Fact]
    public void Apply_LogFlags_SetTheOptions()
    {
        var options = new TelemetryOptions();
        Assert.Null(TelemetryArguments.Apply(options, "--log-format", "json"));
        Assert.Null(TelemetryArguments.Apply(options, "--log-level", "WARNING"));
        Assert.Null(TelemetryArguments.Apply(options, "--no-access-log", null));
        Assert.Null(TelemetryArguments.Apply(options, "--syslog-socket", "/run/systemd/journal/syslog"));

        Assert.Equal("/run/systemd/journal/syslog", options.SyslogPath);
        Assert.Equal(LogFormat.Json, options.LogFormat);
        Assert.Equal(LogLevel.Warning, options.LogLevel);
        Assert.False(options.AccessLog);
        Assert.False(options.OpenTelemetry.MetricsEnabled);
        Assert.False(options.OpenTelemetry.TracesEnabled);
    }

    [Theory]
    [InlineData("--log-format", "xml")]
    [InlineData("--log-level", "loud")]
    [InlineData("--metrics-port", "0")]
    [InlineData("--metrics-port", "70000")]
    [InlineData("--metrics-listen-ip", "localhost")]
    [InlineData("--metrics-path", "metrics")]
    [InlineData("--otlp-endpoint", "collector:4317")]
    [InlineData("--otlp-protocol", "http/json")]
    [InlineData("--trace-sample-rate", "1.5")]
    [InlineData("--trace-sample-rate", "NaN")]
    public void Apply_InvalidValue_Refused(string flag, string value) => Assert.NotNull(TelemetryArguments.Apply(new TelemetryOptions(), flag, value));

    [Fact]
    public void Apply_MetricsFlags_OneOperatorPrometheusExporter()
    {
        var options = new TelemetryOptions();
        TelemetryArguments.Apply(options, "--metrics-port", "9091");
        TelemetryArguments.Apply(options, "--metrics-listen-ip", "127.0.0.1");
        TelemetryArguments.Apply(options, "--metrics-path", "/m");

        PrometheusExport exporter = Assert.Single(options.OpenTelemetry.Prometheus);
        Assert.Equal(9091, exporter.Port);
        Assert.Equal(IPAddress.Loopback, exporter.ListenAddress);
        Assert.Equal("/m", exporter.Path);
        Assert.True(options.OpenTelemetry.MetricsEnabled);
        Assert.False(options.OpenTelemetry.TracesEnabled);
    }

    [Fact]
    public void ReadEnvironment_OtelVariables_OtlpExporterSamplerAndInterval()
    {
        var options = new TelemetryOptions();
        var variables = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4318",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "edge",
            ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
            ["OTEL_TRACES_SAMPLER_ARG"] = "0.25",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
            ["GATEWAY_ACCESS_LOG"] = "false",
        };

        Assert.Null(TelemetryArguments.ReadEnvironment(options, variables.GetValueOrDefault));

        OtlpExport otlp = Assert.Single(options.OpenTelemetry.Otlp);
        Assert.Equal(new Uri("http://collector:4318"), otlp.Endpoint);
        Assert.True(otlp.UseHttp);
        Assert.Equal("edge", options.OpenTelemetry.ServiceName);
        Assert.Equal(0.25, options.OpenTelemetry.TraceSampleRate);
        Assert.Equal(TimeSpan.FromSeconds(5), options.OpenTelemetry.MetricReportingPeriod);
        Assert.False(options.AccessLog);
        Assert.True(options.OpenTelemetry.MetricsEnabled);
        Assert.True(options.OpenTelemetry.TracesEnabled);
    }

    [Fact]
    public void ReadEnvironment_SignalsTurnedOff_NothingEnabled()
    {
        var options = new TelemetryOptions();
        var variables = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317",
            ["OTEL_TRACES_EXPORTER"] = "none",
        };
        Assert.Null(TelemetryArguments.ReadEnvironment(options, variables.GetValueOrDefault));
        Assert.True(options.OpenTelemetry.MetricsEnabled);
        Assert.False(options.OpenTelemetry.TracesEnabled);

        variables["OTEL_SDK_DISABLED"] = "true";
        var disabled = new TelemetryOptions();
        Assert.Null(TelemetryArguments.ReadEnvironment(disabled, variables.GetValueOrDefault));
        Assert.False(disabled.OpenTelemetry.MetricsEnabled);
    }

    [Fact]
    public void ReadEnvironment_OtlpExporterNamedWithoutEndpoint_SpecificationDefault()
    {
        var options = new TelemetryOptions();
        Assert.Null(TelemetryArguments.ReadEnvironment(options, new Dictionary<string, string> { ["OTEL_TRACES_EXPORTER"] = "otlp" }.GetValueOrDefault));
        Assert.Equal(new Uri("http://localhost:4317"), Assert.Single(options.OpenTelemetry.Otlp).Endpoint);
    }

    [Theory]
    [InlineData("GATEWAY_LOG_FORMAT", "yaml")]
    [InlineData("GATEWAY_ACCESS_LOG", "sometimes")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "2")]
    [InlineData("OTEL_METRIC_EXPORT_INTERVAL", "fast")]
    [InlineData("OTEL_EXPORTER_PROMETHEUS_PORT", "x")]
    public void ReadEnvironment_InvalidValue_ErrorNamesTheVariable(string name, string value)
    {
        string? error = TelemetryArguments.ReadEnvironment(new TelemetryOptions(), new Dictionary<string, string> { [name] = value }.GetValueOrDefault);
        Assert.NotNull(error);
        Assert.StartsWith(name + ":", error, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text.Json;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>telemetry/logging</c> and <c>telemetry/opentelemetry</c> compiled from Configs/telemetry-root.json: the settings
/// they carry, the operator's precedence over them, and a gateway running with them.
/// </summary>
[Collection(nameof(MetricsGateways))]
public sealed class TelemetryRootTests
{
    [Fact]
    public void Components_NothingSetByTheOperator_ConfigurationFillsEverything()
    {
        GatewayOptions options = Configure(new GatewayOptions());

        TelemetryOptions telemetry = options.Telemetry;
        Assert.Equal(LogLevel.Warning, telemetry.LogLevel);
        Assert.Equal(LogFormat.Json, telemetry.LogFormat);
        Assert.Equal("[EDGE]", telemetry.LogPrefix);
        Assert.True(telemetry.LogToStandardOutput);
        OpenTelemetryOptions otel = telemetry.OpenTelemetry;
        Assert.Equal("edge-gateway", otel.ServiceName);
        Assert.Equal("2.1.0", otel.ServiceVersion);
        Assert.Equal("test", otel.DeployEnvironment);
        Assert.Equal(TimeSpan.FromSeconds(5), otel.MetricReportingPeriod);
        Assert.Equal(0.5, otel.TraceSampleRate);
        PrometheusExport scrape = Assert.Single(otel.Prometheus);
        Assert.Equal(("scrape", 9464, IPAddress.Loopback, PrometheusExport.DefaultPath), (scrape.Name, scrape.Port, scrape.ListenAddress, scrape.Path));
        OtlpExport collector = Assert.Single(otel.Otlp);
        Assert.Equal(new Uri("http://collector.test:4318"), collector.Endpoint);
        Assert.True(collector.UseHttp);
        Assert.True(collector.DisableMetrics);
        Assert.False(collector.DisableTraces);
    }

    [Fact]
    public void Components_OperatorSetValues_KeptAndTheirExportersReplaceTheConfigurations()
    {
        var preset = new GatewayOptions();
        Assert.Null(TelemetryArguments.Apply(preset.Telemetry, "--log-format", "text"));
        Assert.Null(TelemetryArguments.Apply(preset.Telemetry, "--log-level", "debug"));
        Assert.Null(TelemetryArguments.Apply(preset.Telemetry, "--metrics-port", "9100"));
        Assert.Null(TelemetryArguments.Apply(preset.Telemetry, "--service-name", "from-flag"));
        Assert.Null(TelemetryArguments.ReadEnvironment(preset.Telemetry, new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://otel.internal:4317" }.GetValueOrDefault));

        TelemetryOptions telemetry = Configure(preset).Telemetry;

        Assert.Equal(LogFormat.Text, telemetry.LogFormat);
        Assert.Equal(LogLevel.Debug, telemetry.LogLevel);
        Assert.Equal("[EDGE]", telemetry.LogPrefix);
        Assert.Equal("from-flag", telemetry.OpenTelemetry.ServiceName);
        Assert.Equal(0.5, telemetry.OpenTelemetry.TraceSampleRate);
        Assert.Equal(9100, Assert.Single(telemetry.OpenTelemetry.Prometheus).Port);
        Assert.Equal(new Uri("http://otel.internal:4317"), Assert.Single(telemetry.OpenTelemetry.Otlp).Endpoint);
    }

    [Fact]
    public async Task Gateway_ConfiguredTelemetry_JsonLinesWithPrefixAtWarningAndResourceOfTheService()
    {
        await using TestBackend backend = await TestBackend.StartAsync();
        backend.Answer("/accounts/1").WithJson("""{"id": 1}""");
        backend.Answer("/accounts/2").WithStatus(502);
        var log = new CapturedStream();
        string scrape;
        await using (GatewayUnderTest gateway = await GatewayUnderTest.StartAsync(
            Gateway.EndToEnd.TelemetryRoot.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://svc.test:8080"] = backend.BaseUrl },
            o =>
            {
                // The configuration's scrape port (9464) and collector are replaced as an operator would.
                o.Telemetry.OpenTelemetry.Prometheus.Add(new PrometheusExport());
                o.Telemetry.OpenTelemetry.Otlp.Add(new OtlpExport { Endpoint = new Uri("http://127.0.0.1:9"), DisableTraces = true });
                o.Telemetry.LogStream = log;
            }))
        {
            (await gateway.Client.GetAsync("/accounts/1")).Dispose();
            (await gateway.Client.GetAsync("/accounts/2")).Dispose();
            scrape = await gateway.Client.GetStringAsync(PrometheusExport.DefaultPath);
            await gateway.StopAsync();
        }

        // WARNING and up, as JSON objects with the prefix: the backend's failure, and no access line (information).
        JsonElement[] lines = log.JsonLines();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal("[EDGE]", l.GetProperty("prefix").GetString()));
        Assert.DoesNotContain(lines, l => l.GetProperty("level").GetString() is "info" or "debug");
        JsonElement failed = Assert.Single(lines, l => l.TryGetProperty("event", out JsonElement e) && e.GetString() == "backend_failed");
        Assert.Equal("/accounts/{account}", failed.GetProperty("endpoint").GetString());
        Assert.Equal(502, failed.GetProperty("status").GetInt32());

        string target = Assert.Single(scrape.Split('\n'), l => l.StartsWith("target_info{", StringComparison.Ordinal));
        Assert.Contains("service_name=\"edge-gateway\"", target, StringComparison.Ordinal);
        Assert.Contains("service_version=\"2.1.0\"", target, StringComparison.Ordinal);
        Assert.Contains("deployment_environment_name=\"test\"", target, StringComparison.Ordinal);
        Assert.Contains("http_route=\"/accounts/{account}\"", scrape, StringComparison.Ordinal);
    }

    private static GatewayOptions Configure(GatewayOptions options)
    {
        var host = new GatewayHost(WebApplication.CreateSlimBuilder(), options);
        foreach (IGatewayComponent component in Gateway.EndToEnd.TelemetryRoot.CompiledGateway.Definition.Components)
        {
            component.ConfigureHost(host);
        }

        return options;
    }
}

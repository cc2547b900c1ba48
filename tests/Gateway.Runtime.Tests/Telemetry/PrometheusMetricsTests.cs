using System.Diagnostics.Metrics;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Telemetry;

namespace Gateway.Runtime.Tests.Telemetry;

public class PrometheusMetricsTests
{
    [Theory]
    [InlineData("gateway.server.request.duration", "s", false, "gateway_server_request_duration_seconds")]
    [InlineData("gateway.server.incomplete_responses", "{response}", true, "gateway_server_incomplete_responses_total")]
    [InlineData("gateway.server.active_requests", "{request}", false, "gateway_server_active_requests")]
    [InlineData("body.size", "By", false, "body_size_bytes")]
    [InlineData("calls_total", null, true, "calls_total")]
    [InlineData("9lives-x", "1", false, "_9lives_x")]
    public void Name_OpenTelemetryName_PrometheusName(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusMetrics.Name(name, unit, counter));

    [Fact]
    public void Export_GatewayInstruments_CumulativeBucketsCountersGaugeAndEscapedLabels()
    {
        var scraped = new PrometheusMetrics([new("service.name", "svc \"quoted\"")]);
        using var instruments = new GatewayInstruments(scraped, pushed: false);
        instruments.RequestStarted();
        instruments.RequestStarted();
        instruments.RequestEnded("/users/{id}", "GET", 200, incomplete: false, seconds: 0.004);
        instruments.RequestStarted();
        instruments.RequestEnded("/users/{id}", "GET", 200, incomplete: true, seconds: 0.3);
        instruments.BackendCalled("/users/{id}", 1, BackendFailure.Timeout, 2);

        var endpoint = new MetricsEndpoint(scraped.Render, PrometheusExport.DefaultPath, null);
        string[] lines = endpoint.Collect().Split('\n');

        Assert.Contains("target_info{service_name=\"svc \\\"quoted\\\"\"} 1", lines);
        Assert.Contains("# TYPE gateway_server_request_duration_seconds histogram", lines);
        const string Labels = "http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/users/{id}\"";
        Assert.Contains($"gateway_server_request_duration_seconds_bucket{{{Labels},le=\"0.001\"}} 0", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_bucket{{{Labels},le=\"0.005\"}} 1", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_bucket{{{Labels},le=\"0.25\"}} 1", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_bucket{{{Labels},le=\"0.5\"}} 2", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_bucket{{{Labels},le=\"+Inf\"}} 2", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_sum{{{Labels}}} 0.304", lines);
        Assert.Contains($"gateway_server_request_duration_seconds_count{{{Labels}}} 2", lines);
        Assert.Contains("# TYPE gateway_server_incomplete_responses_total counter", lines);
        Assert.Contains("gateway_server_incomplete_responses_total{http_request_method=\"GET\",http_route=\"/users/{id}\"} 1", lines);
        Assert.Contains("# TYPE gateway_server_active_requests gauge", lines);
        Assert.Contains("gateway_server_active_requests 1", lines);
        Assert.Contains("gateway_backend_request_duration_seconds_count{gateway_backend_index=\"1\",gateway_backend_outcome=\"timeout\",http_route=\"/users/{id}\"} 1", lines);

        // A second scrape sees cumulative values, not what happened since the first.
        instruments.RequestEnded("/users/{id}", "GET", 200, incomplete: false, seconds: 0.004);
        Assert.Contains($"gateway_server_request_duration_seconds_count{{{Labels}}} 3", endpoint.Collect().Split('\n'));
    }

    [Fact]
    public void Outcome_EveryFailureKind_HasItsOwnName()
    {
        BackendFailure[] kinds = Enum.GetValues<BackendFailure>();
        string[] names = kinds.Select(BackendOutcome.Name).ToArray();
        Assert.Equal(kinds.Length, names.Distinct().Count());
        Assert.DoesNotContain("unknown", names);
        Assert.Equal("unresolved_placeholder", BackendOutcome.Name(BackendFailure.UnresolvedPlaceholder));
        Assert.Equal("success", BackendOutcome.Name(BackendFailure.None));
    }

    [Fact]
    public void Render_ProcessAndRuntime_ReadAtScrapeTimeAndMoving()
    {
        var scraped = new PrometheusMetrics([]);
        Dictionary<string, double> before = Values(scraped.Render());
        byte[][] kept = [.. Enumerable.Range(0, 64).Select(_ => new byte[16 * 1024])];
        using FileStream opened = File.OpenRead(typeof(PrometheusMetricsTests).Assembly.Location);
        Dictionary<string, double> after = Values(scraped.Render());

        // 1 MiB allocated between the scrapes; a file opened; every generation has a series.
        Assert.True(after["dotnet_gc_heap_total_allocated_bytes_total"] - before["dotnet_gc_heap_total_allocated_bytes_total"] >= kept.Length * 16 * 1024);
        Assert.True(after["process_open_fds"] >= before["process_open_fds"] + 1, $"{before["process_open_fds"]} -> {after["process_open_fds"]}");
        Assert.True(after["process_max_fds"] >= after["process_open_fds"]);
        Assert.True(after["process_resident_memory_bytes"] > 1024 * 1024);
        Assert.True(after["process_cpu_seconds_total"] >= before["process_cpu_seconds_total"] && after["process_cpu_seconds_total"] > 0);
        Assert.InRange(after["process_start_time_seconds"], DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 86_400, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Contains("dotnet_gc_collections_total{gc_heap_generation=\"gen0\"}", after.Keys);
        Assert.Contains("dotnet_gc_collections_total{gc_heap_generation=\"gen2\"}", after.Keys);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", scraped.Render().Split('\n'));
        GC.KeepAlive(kept);
    }

    /// <summary>Each sample line's series and value.</summary>
    private static Dictionary<string, double> Values(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => (Series: line[..line.LastIndexOf(' ')], Value: line[(line.LastIndexOf(' ') + 1)..]))
            .Where(sample => double.TryParse(sample.Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
            .ToDictionary(sample => sample.Series, sample => double.Parse(sample.Value, System.Globalization.CultureInfo.InvariantCulture));
}

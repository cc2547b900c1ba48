using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Logs, metrics and traces of a gateway compiled from Configs/telemetry.json, against loopback backends: what the
/// access log and the failure log say, what a scrape shows, which spans a request makes and what backends receive, and
/// that no value a client or a backend sent ever reaches any of them.
/// </summary>
/// <summary>
/// Gateways with metrics run alone: every gateway in a process names its meter "Gateway", and a meter provider listens
/// to that name process-wide, so a request of another test's gateway that started before this provider was built and
/// ended after would count here (the in-flight gauge read -1 once under load). A real process runs one gateway.
/// </summary>
[CollectionDefinition(nameof(MetricsGateways), DisableParallelization = true)]
public sealed class MetricsGateways
{
}

[Collection(nameof(MetricsGateways))]
public sealed class TelemetryTests : IAsyncLifetime
{
    /// <summary>Put in every place a client or a backend can put a value; must appear in no log, metric or span.</summary>
    private const string Secret = "S3CR3T-7f2c";

    private TestBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/accounts").WithJson($$"""{"token": "{{Secret}}-token", "note": "{{Secret}}-note"}""").WithHeader("X-Leak", Secret + "-header").WithHeader("Set-Cookie", "s=" + Secret);
        _backend.Answer("/tokens").WithStatus(500).WithBody($"{Secret}-error-body", "text/plain").WithHeader("X-Leak", Secret);
        _backend.Answer("/broken").WithStatus(503).WithJson($$"""{"error": "{{Secret}}"}""");
        _backend.Answer("/service").WithJson($$"""{"from_service": "{{Secret}}-service"}""");
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private Dictionary<string, string> Hosts => new() { ["http://svc.test:8080"] = _backend.BaseUrl };

    // ---- Logs ----

    [Fact]
    public async Task AccessLog_Json_OneObjectPerRequestWithTemplateStatusCompletenessAndBackendCounts()
    {
        var log = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.LogFormat = LogFormat.Json, log))
        {
            using HttpResponseMessage mixed = await gateway.Client.GetAsync("/mixed/12");
            Assert.Equal(HttpStatusCode.OK, mixed.StatusCode);
            using HttpResponseMessage missing = await gateway.Client.GetAsync("/not/a/route/12");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            await gateway.StopAsync();
        }

        JsonElement[] lines = log.JsonLines();
        JsonElement access = Assert.Single(lines, l => l.GetProperty("logger").GetString() == "Gateway.Access" && l.GetProperty("endpoint").GetString() == "/mixed/{id}");
        Assert.Equal("access", access.GetProperty("event").GetString());
        Assert.Equal("GET", access.GetProperty("method").GetString());
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.Equal("false", access.GetProperty("completed").GetString());
        Assert.Equal(2, access.GetProperty("backends_called").GetInt32());
        Assert.Equal(1, access.GetProperty("backends_failed").GetInt32());
        Assert.True(access.GetProperty("bytes_out").GetInt64() > 0);
        Assert.True(access.GetProperty("duration_ms").GetDouble() > 0);
        Assert.Equal("-", access.GetProperty("trace_id").GetString());
        Assert.True(DateTime.TryParse(access.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));

        JsonElement unmatched = Assert.Single(lines, l => l.GetProperty("logger").GetString() == "Gateway.Access" && l.GetProperty("status").GetInt32() == 404);
        Assert.Equal(GatewayTelemetry.Unmatched, unmatched.GetProperty("endpoint").GetString());
        Assert.Equal(0, unmatched.GetProperty("backends_called").GetInt32());

        // The failing backend, by template and index, with its kind, status and duration.
        JsonElement failed = Assert.Single(lines, l => l.TryGetProperty("event", out JsonElement e) && e.GetString() == "backend_failed");
        Assert.Equal("warn", failed.GetProperty("level").GetString());
        Assert.Equal("/mixed/{id}", failed.GetProperty("endpoint").GetString());
        Assert.Equal(1, failed.GetProperty("backend").GetInt32());
        Assert.Equal("status", failed.GetProperty("failure").GetString());
        Assert.Equal(503, failed.GetProperty("status").GetInt32());
        Assert.True(failed.GetProperty("duration_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task AccessLog_Text_OneLinePerRequest_NoAccessLogTurnsItOff()
    {
        var on = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.LogPrefix = "[GW]", on))
        {
            (await gateway.Client.GetAsync("/unresolved/5")).Dispose();
            await gateway.StopAsync();
        }

        string line = Assert.Single(on.Lines(), l => l.Contains(" info Gateway.Access: ", StringComparison.Ordinal));
        Assert.StartsWith("[GW] ", line, StringComparison.Ordinal);
        Assert.Contains("GET /unresolved/{id} 200 ", line, StringComparison.Ordinal);
        Assert.Contains("completed=false backends=2 failed=1", line, StringComparison.Ordinal);
        Assert.Contains(on.Lines(), l => l.Contains("warn Gateway: GET /unresolved/{id}: backend 1 failed (unresolved_placeholder, status 0)", StringComparison.Ordinal));

        var off = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.AccessLog = false, off))
        {
            (await gateway.Client.GetAsync("/unresolved/5")).Dispose();
            await gateway.StopAsync();
        }

        Assert.DoesNotContain(off.Lines(), l => l.Contains("Gateway.Access", StringComparison.Ordinal));
        // Failures are still logged without the access log.
        Assert.Contains(off.Lines(), l => l.Contains("backend 1 failed (unresolved_placeholder", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(LogFormat.Json)]
    [InlineData(LogFormat.Text)]
    public async Task Secrets_InEveryPlace_ReachNoLogMetricOrSpan(LogFormat format)
    {
        var log = new CapturedStream();
        var spans = new List<Activity>();
        string metrics;
        await using (GatewayUnderTest gateway = await StartAsync(
            o =>
            {
                o.Telemetry.LogFormat = format;
                o.Telemetry.LogLevel = Microsoft.Extensions.Logging.LogLevel.Trace;
                o.Telemetry.OpenTelemetry.Prometheus.Add(new PrometheusExport());
                o.Telemetry.OpenTelemetry.ConfigureTracing = t => t.AddProcessor(new SimpleActivityExportProcessor(new CollectingExporter(spans)));
            },
            log))
        {
            using (var request = new HttpRequestMessage(HttpMethod.Post, $"/accounts/{Secret}-path?q={Secret}-query&other={Secret}-other"))
            {
                request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {Secret}-auth");
                request.Headers.TryAddWithoutValidation("Cookie", $"session={Secret}-cookie");
                request.Headers.TryAddWithoutValidation("X-Secret", $"{Secret}-header");
                request.Headers.TryAddWithoutValidation("traceparent", $"00-{Secret}-garbage-01");
                request.Content = new StringContent($$"""{"password": "{{Secret}}-body"}""", Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await gateway.Client.SendAsync(request);
                Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
            }

            (await gateway.Client.GetAsync($"/mixed/{Secret}-id?q={Secret}")).Dispose();
            (await gateway.Client.GetAsync($"/unresolved/{Secret}-id")).Dispose();
            (await gateway.Client.PostAsync($"/chained?token={Secret}", new StringContent($$"""{"card": "{{Secret}}-card"}""", Encoding.UTF8, "application/json"))).Dispose();
            (await gateway.Client.GetAsync($"/{Secret}-unmatched?{Secret}=1")).Dispose();
            (await gateway.Client.SendAsync(new HttpRequestMessage(new HttpMethod(Secret.Replace("-", "", StringComparison.Ordinal)), "/mixed/1"))).Dispose();
            metrics = await gateway.Client.GetStringAsync(PrometheusExport.DefaultPath);
            await gateway.StopAsync();
        }

        // The values did travel (so the test could fail): the backends saw them.
        Assert.Contains(_backend.ReceivedWith("/tokens/"), r => r.RawTarget.Contains(Secret, StringComparison.Ordinal) && r.Headers["X-From"].Contains(Secret, StringComparison.Ordinal) && r.Body.Contains(Secret, StringComparison.Ordinal));
        Assert.Contains(_backend.ReceivedWith("/accounts/"), r => r.Headers.TryGetValue("Cookie", out string? cookie) && cookie.Contains(Secret, StringComparison.Ordinal));

        string written = log.Text();
        Assert.True(log.Lines().Count(l => l.Contains("Gateway.Access", StringComparison.Ordinal)) >= 6, written);
        Assert.Contains(log.Lines(), l => l.Contains("backend 1 failed (status, status 500)", StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, written, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret.Replace("-", "", StringComparison.Ordinal), written, StringComparison.Ordinal);
        Assert.Contains("/accounts/{account}", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, metrics, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret.Replace("-", "", StringComparison.Ordinal), metrics, StringComparison.Ordinal);
        Assert.NotEmpty(spans);
        foreach (Activity span in spans)
        {
            Assert.DoesNotContain(Secret, span.DisplayName, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, span.StatusDescription ?? string.Empty, StringComparison.Ordinal);
            foreach (KeyValuePair<string, object?> tag in span.TagObjects)
            {
                Assert.DoesNotContain(Secret, Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, StringComparison.Ordinal);
            }
        }
    }

    // ---- Metrics ----

    [Fact]
    public async Task Metrics_Scrape_CountsRequestsByTemplateBackendsByOutcomeAndIncompleteAnswers()
    {
        await using GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.OpenTelemetry.Prometheus.Add(new PrometheusExport()));
        for (int i = 0; i < 3; i++)
        {
            (await gateway.Client.GetAsync($"/mixed/{i}")).Dispose();
        }

        (await gateway.Client.GetAsync("/unresolved/7")).Dispose();
        using HttpResponseMessage scrape = await gateway.Client.GetAsync(PrometheusExport.DefaultPath);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", scrape.Content.Headers.ContentType!.ToString());
        string text = await scrape.Content.ReadAsStringAsync();

        Assert.Equal(3, Value(text, "gateway_server_request_duration_seconds_count", ("http_request_method", "GET"), ("http_response_status_code", "200"), ("http_route", "/mixed/{id}")));
        Assert.Equal(1, Value(text, "gateway_server_request_duration_seconds_count", ("http_request_method", "GET"), ("http_response_status_code", "200"), ("http_route", "/unresolved/{id}")));
        Assert.Equal(3, Value(text, "gateway_backend_request_duration_seconds_count", ("gateway_backend_index", "0"), ("gateway_backend_outcome", "success"), ("http_route", "/mixed/{id}")));
        Assert.Equal(3, Value(text, "gateway_backend_request_duration_seconds_count", ("gateway_backend_index", "1"), ("gateway_backend_outcome", "status"), ("http_route", "/mixed/{id}")));
        Assert.Equal(1, Value(text, "gateway_backend_request_duration_seconds_count", ("gateway_backend_index", "1"), ("gateway_backend_outcome", "unresolved_placeholder"), ("http_route", "/unresolved/{id}")));
        Assert.Equal(3, Value(text, "gateway_server_incomplete_responses_total", ("http_request_method", "GET"), ("http_route", "/mixed/{id}")));
        Assert.Equal(0, Value(text, "gateway_server_active_requests"));
        Assert.Contains("# TYPE gateway_server_request_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("gateway_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/mixed/{id}\",le=\"+Inf\"} 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_OwnPort_ServesOnlyMetricsThere()
    {
        int port = FreePort();
        await using GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.OpenTelemetry.Prometheus.Add(new PrometheusExport { Port = port, ListenAddress = IPAddress.Loopback }));
        (await gateway.Client.GetAsync("/mixed/1")).Dispose();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using HttpResponseMessage krakend = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, krakend.StatusCode);
        Assert.Equal(1, Value(await krakend.Content.ReadAsStringAsync(), "gateway_server_request_duration_seconds_count", ("http_request_method", "GET"), ("http_response_status_code", "200"), ("http_route", "/mixed/{id}")));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(PrometheusExport.DefaultPath)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/mixed/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.GetAsync(PrometheusExport.DefaultPath)).StatusCode);
    }

    // ---- Traces ----

    [Fact]
    public async Task Traces_OverOtlpHttp_ServerSpanParentsBackendAndServiceSpans_BackendsGetTheirSpanAsTraceparent()
    {
        await using var collector = await OtlpCollector.StartAsync();
        _backend.ClearReceived();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.OpenTelemetry.Otlp.Add(new OtlpExport { Endpoint = new Uri(collector.BaseUrl), UseHttp = true, DisableMetrics = true })))
        {
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/accounts/42?q=1") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
            {
                request.Headers.Add("X-Secret", "1");
                (await gateway.Client.SendAsync(request)).Dispose();
            }

            (await gateway.Client.PostAsync("/chained", new StringContent("{}", Encoding.UTF8, "application/json"))).Dispose();
            await gateway.StopAsync();
        }

        IReadOnlyList<OtlpSpan> spans = collector.Spans;
        OtlpSpan server = Assert.Single(spans, s => s.Name == "POST /accounts/{account}");
        Assert.Equal(2, server.Kind); // SPAN_KIND_SERVER
        Assert.Empty(server.ParentSpanId);
        OtlpSpan[] calls = spans.Where(s => s.ParentSpanId == server.SpanId).OrderBy(s => s.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(["POST /accounts/{account} backend 0", "POST /accounts/{account} backend 1"], calls.Select(s => s.Name));
        Assert.All(calls, c => Assert.Equal(server.TraceId, c.TraceId));
        Assert.All(calls, c => Assert.Equal(3, c.Kind)); // SPAN_KIND_CLIENT
        Assert.Equal("status", calls[1].Attributes["gateway.backend.outcome"]);
        Assert.Equal("500", calls[1].Attributes["http.response.status_code"]);

        // Each backend received its own call's span as the parent.
        ReceivedRequest first = Assert.Single(_backend.ReceivedWith("/accounts/42"));
        Assert.Equal($"00-{server.TraceId}-{calls[0].SpanId}-01", first.Headers["traceparent"]);
        ReceivedRequest second = Assert.Single(_backend.ReceivedWith("/tokens/"));
        Assert.Equal($"00-{server.TraceId}-{calls[1].SpanId}-01", second.Headers["traceparent"]);

        OtlpSpan chained = Assert.Single(spans, s => s.Name == "POST /chained");
        OtlpSpan service = Assert.Single(spans, s => s.Name == "POST /chained proxy-chain service 1");
        OtlpSpan backend = Assert.Single(spans, s => s.Name == "POST /chained backend 0");
        Assert.Equal(chained.SpanId, service.ParentSpanId);
        Assert.Equal(chained.SpanId, backend.ParentSpanId);
        Assert.Equal($"00-{chained.TraceId}-{service.SpanId}-01", Assert.Single(_backend.ReceivedWith("/service")).Headers["traceparent"]);
        Assert.Equal("gateway", collector.ServiceName);
    }

    [Fact]
    public async Task Traces_ClientTraceparent_ContinuesTheClientsTrace()
    {
        var spans = new List<Activity>();
        await using GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.OpenTelemetry.ConfigureTracing = t => t.AddProcessor(new SimpleActivityExportProcessor(new CollectingExporter(spans))));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/mixed/3");
        request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        (await gateway.Client.SendAsync(request)).Dispose();

        Activity server;
        lock (spans)
        {
            server = spans.Single(s => s.Kind == ActivityKind.Server);
        }

        Assert.Equal("0af7651916cd43dd8448eb211c80319c", server.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", server.ParentSpanId.ToHexString());
    }

    [Fact]
    public async Task Traces_ClientTraceHeadersForwarded_BackendGetsItsCallsSpanOnceAndTheTraceState()
    {
        var spans = new List<Activity>();
        _backend.ClearReceived();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.OpenTelemetry.ConfigureTracing = t => t.AddProcessor(new SimpleActivityExportProcessor(new CollectingExporter(spans)))))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/forwarded/5");
            request.Headers.TryAddWithoutValidation("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
            request.Headers.TryAddWithoutValidation("tracestate", "vendor=client");
            request.Headers.TryAddWithoutValidation("X-Other", "kept");
            (await gateway.Client.SendAsync(request)).Dispose();
            await gateway.StopAsync();
        }

        Activity call;
        lock (spans)
        {
            call = spans.Single(s => s.Kind == ActivityKind.Client);
        }

        // input_headers ["*"] forwards the client's traceparent and tracestate too: the backend gets the gateway's call
        // span instead (two values would arrive joined by a comma), and the trace's state as the client sent it.
        ReceivedRequest received = Assert.Single(_backend.ReceivedWith("/accounts/5"));
        Assert.Equal($"00-0af7651916cd43dd8448eb211c80319c-{call.SpanId.ToHexString()}-01", received.Headers["traceparent"]);
        Assert.Equal("vendor=client", received.Headers["tracestate"]);
        Assert.Equal("kept", received.Headers["X-Other"]);
    }

    [Fact]
    public async Task TelemetryOff_NothingRecorded_BackendsGetNoTraceparent()
    {
        var log = new CapturedStream();
        _backend.ClearReceived();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.AccessLog = false, log))
        {
            (await gateway.Client.GetAsync("/mixed/9")).Dispose();
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.GetAsync(PrometheusExport.DefaultPath)).StatusCode);
            await gateway.StopAsync();
        }

        Assert.All(_backend.ReceivedWith("/"), r => Assert.False(r.Headers.ContainsKey("traceparent")));
        Assert.DoesNotContain(log.Lines(), l => l.Contains("Gateway.Access", StringComparison.Ordinal));
    }

    // ---- helpers ----

    private Task<GatewayUnderTest> StartAsync(Action<GatewayOptions> configure, CapturedStream? log = null) =>
        GatewayUnderTest.StartAsync(Gateway.EndToEnd.Telemetry.CompiledGateway.Definition, Hosts, o =>
        {
            // This configuration has no telemetry/opentelemetry: the SDK is supplied as -p:GatewayOpenTelemetry=true would.
            o.Telemetry.OpenTelemetry.Sdk = OpenTelemetryProviders.Build;
            configure(o);
            o.Telemetry.LogStream = log ?? Stream.Null;
        });

    /// <summary>The value of one series of a scrape: the metric name and its labels in the exporter's order.</summary>
    private static double Value(string scrape, string name, params (string Name, string Value)[] labels)
    {
        string series = labels.Length == 0 ? name : name + "{" + string.Join(",", labels.Select(l => $"{l.Name}=\"{l.Value}\"")) + "}";
        string[] found = scrape.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal)).ToArray();
        Assert.True(found.Length == 1, $"{found.Length} series {series} in:\n{scrape}");
        string line = found[0];
        return double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Spans as the SDK exports them, kept for assertions.</summary>
    private sealed class CollectingExporter(List<Activity> spans) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            lock (spans)
            {
                foreach (Activity span in batch)
                {
                    spans.Add(span);
                }
            }

            return ExportResult.Success;
        }
    }
}

/// <summary>A stream the gateway's log sink writes to, read back as text once the gateway has stopped.</summary>
public sealed class CapturedStream : Stream
{
    private readonly MemoryStream _inner = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public string Text()
    {
        lock (_inner)
        {
            return Encoding.UTF8.GetString(_inner.ToArray());
        }
    }

    public string[] Lines() => Text().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Every line parsed as JSON: a line that is not one JSON object fails the test.</summary>
    public JsonElement[] JsonLines() => Lines().Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    public override void Write(byte[] buffer, int offset, int count)
    {
        lock (_inner)
        {
            _inner.Write(buffer, offset, count);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Telemetry;

/// <summary>What kind of value an instrument records.</summary>
public enum InstrumentKind
{
    Histogram,
    Counter,
    Gauge,
}

/// <summary>An instrument's OpenTelemetry name, unit and description (the Prometheus names derive from them).</summary>
public sealed record InstrumentInfo(string Name, string Unit, string Description, InstrumentKind Kind);

/// <summary>
/// The gateway's metrics, created only when metrics are exported: without them nobody records anything per request.
/// Each measurement goes to the gateway's own Prometheus aggregation when metrics are scraped
/// (<see cref="PrometheusMetrics"/>) and to the meter <c>Gateway</c> when they are pushed over OTLP (the OpenTelemetry
/// SDK listens to it). Labels are templates and closed sets, never request values, so the number of series is bounded
/// by the configuration (docs/operations.md, "Logs, metrics and traces").
/// </summary>
public sealed class GatewayInstruments : IDisposable
{
    public const string MeterName = "Gateway";

    public static readonly InstrumentInfo RequestDuration = new("gateway.server.request.duration", "s", "Duration of the gateway's answers, by endpoint template, method and status.", InstrumentKind.Histogram);

    public static readonly InstrumentInfo BackendDuration = new("gateway.backend.request.duration", "s", "Duration of backend calls, by endpoint template, backend index and outcome.", InstrumentKind.Histogram);

    public static readonly InstrumentInfo IncompleteResponses = new("gateway.server.incomplete_responses", "{response}", "Answers sent with X-KrakenD-Completed: false, by endpoint template and method.", InstrumentKind.Counter);

    public static readonly InstrumentInfo ActiveRequests = new("gateway.server.active_requests", "{request}", "Requests being served.", InstrumentKind.Gauge);

    /// <summary>Bucket bounds in seconds: from 1 ms to the longest endpoint timeouts.</summary>
    internal static readonly double[] SecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly PrometheusMetrics? _scraped;
    private readonly Meter? _meter;
    private readonly Histogram<double>? _requestDuration;
    private readonly Histogram<double>? _backendDuration;
    private readonly Counter<long>? _incomplete;
    private readonly UpDownCounter<long>? _active;

    /// <param name="scraped">The Prometheus aggregation, when metrics are scraped.</param>
    /// <param name="pushed">Whether the meter exists, for the SDK to push its measurements over OTLP.</param>
    public GatewayInstruments(PrometheusMetrics? scraped, bool pushed)
    {
        _scraped = scraped;
        if (!pushed)
        {
            return;
        }

        _meter = new Meter(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        _requestDuration = _meter.CreateHistogram(RequestDuration.Name, RequestDuration.Unit, RequestDuration.Description, tags: null, advice);
        _backendDuration = _meter.CreateHistogram(BackendDuration.Name, BackendDuration.Unit, BackendDuration.Description, tags: null, advice);
        _incomplete = _meter.CreateCounter<long>(IncompleteResponses.Name, IncompleteResponses.Unit, IncompleteResponses.Description);
        _active = _meter.CreateUpDownCounter<long>(ActiveRequests.Name, ActiveRequests.Unit, ActiveRequests.Description);
    }

    public void RequestStarted()
    {
        _scraped?.RequestStarted();
        _active?.Add(1);
    }

    public void RequestEnded(string endpoint, string method, int status, bool incomplete, double seconds)
    {
        _scraped?.RequestEnded(endpoint, method, status, incomplete, seconds);
        if (_meter is null)
        {
            return;
        }

        _active!.Add(-1);
        var tags = new TagList
        {
            { "http.route", endpoint },
            { "http.request.method", method },
            { "http.response.status_code", Boxed(status) },
        };
        _requestDuration!.Record(seconds, tags);
        if (incomplete)
        {
            _incomplete!.Add(1, new KeyValuePair<string, object?>("http.route", endpoint), new KeyValuePair<string, object?>("http.request.method", method));
        }
    }

    public void BackendCalled(string endpoint, int backend, BackendFailure failure, double seconds)
    {
        _scraped?.BackendCalled(endpoint, backend, failure, seconds);
        _backendDuration?.Record(
            seconds,
            new KeyValuePair<string, object?>("http.route", endpoint),
            new KeyValuePair<string, object?>("gateway.backend.index", Boxed(backend)),
            new KeyValuePair<string, object?>("gateway.backend.outcome", BackendOutcome.Name(failure)));
    }

    /// <summary>Status codes and backend indexes as label values, boxed once rather than on every request.</summary>
    private static readonly object[] s_boxed = CreateBoxed(600);

    private static object Boxed(int value) => (uint)value < (uint)s_boxed.Length ? s_boxed[value] : value;

    private static object[] CreateBoxed(int count)
    {
        var boxed = new object[count];
        for (int i = 0; i < count; i++)
        {
            boxed[i] = i;
        }

        return boxed;
    }

    public void Dispose() => _meter?.Dispose();
}

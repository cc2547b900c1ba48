using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// The gateway's metrics (meter <c>Gateway</c>), created only when metrics are exported: without a meter nobody
/// records anything per request. Labels are templates and closed sets, never request values, so the number of series
/// is bounded by the configuration (docs/operations.md, "Logs, metrics and traces").
/// </summary>
public sealed class GatewayInstruments : IDisposable
{
    public const string MeterName = "Gateway";

    /// <summary>Bucket bounds in seconds: from 1 ms to the longest endpoint timeouts.</summary>
    private static readonly double[] s_secondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Meter _meter;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _backendDuration;
    private readonly Counter<long> _incomplete;
    private readonly UpDownCounter<long> _active;

    public GatewayInstruments()
    {
        _meter = new Meter(MeterName);
        var advice = new InstrumentAdvice<double> { HistogramBucketBoundaries = s_secondsBuckets };
        _requestDuration = _meter.CreateHistogram("gateway.server.request.duration", "s", "Duration of the gateway's answers, by endpoint template, method and status.", tags: null, advice);
        _backendDuration = _meter.CreateHistogram("gateway.backend.request.duration", "s", "Duration of backend calls, by endpoint template, backend index and outcome.", tags: null, advice);
        _incomplete = _meter.CreateCounter<long>("gateway.server.incomplete_responses", "{response}", "Answers sent with X-KrakenD-Completed: false, by endpoint template and method.");
        _active = _meter.CreateUpDownCounter<long>("gateway.server.active_requests", "{request}", "Requests being served.");
    }

    public void RequestStarted() => _active.Add(1);

    public void RequestEnded(string endpoint, string method, int status, bool incomplete, double seconds)
    {
        _active.Add(-1);
        var tags = new TagList
        {
            { "http.route", endpoint },
            { "http.request.method", method },
            { "http.response.status_code", Boxed(status) },
        };
        _requestDuration.Record(seconds, tags);
        if (incomplete)
        {
            _incomplete.Add(1, new KeyValuePair<string, object?>("http.route", endpoint), new KeyValuePair<string, object?>("http.request.method", method));
        }
    }

    public void BackendCalled(string endpoint, int backend, BackendFailure failure, double seconds) =>
        _backendDuration.Record(
            seconds,
            new KeyValuePair<string, object?>("http.route", endpoint),
            new KeyValuePair<string, object?>("gateway.backend.index", Boxed(backend)),
            new KeyValuePair<string, object?>("gateway.backend.outcome", BackendOutcome.Name(failure)));

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

    public void Dispose() => _meter.Dispose();
}

using System.Diagnostics.Metrics;
using Gateway.Runtime.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// Writes a log line when Kestrel refuses a client before the request reaches the gateway: a limit (header count and
/// size, request headers timeout, body data rate, body size, connections) or a malformed request. Kestrel answers
/// those itself (<c>431</c>, <c>408</c>, <c>413</c>, <c>400</c>) and logs them only at debug level, with the client's
/// bytes in the message; the gateway reads the reason Kestrel records when it closes the connection (the
/// <c>error.type</c> of its <c>kestrel.connection.duration</c> measurement) and writes <c>client_rejected</c>: the
/// reason, the setting that decides it, and how many connections ended so since the previous line of that reason, at
/// most one line a second per reason (<see cref="LogThrottle"/>: a flood of bad requests cannot flood the log). Nothing
/// the client sent is written.
/// </summary>
/// <remarks>
/// The measurement is taken once per connection, when it ends; requests on a connection that stays open cost nothing.
/// </remarks>
internal sealed class KestrelRejections : IDisposable
{
    internal const string MeterName = "Microsoft.AspNetCore.Server.Kestrel";
    internal const string InstrumentName = "kestrel.connection.duration";

    /// <summary>The reasons logged, with what the client was answered and the setting that decides it.</summary>
    private static readonly Dictionary<string, (string Answer, string Setting)> s_reasons = new(StringComparer.Ordinal)
    {
        ["max_request_header_count_exceeded"] = ("431", "--max-request-headers"),
        ["max_request_headers_total_size_exceeded"] = ("431", "--max-request-header-bytes"),
        ["request_headers_timeout"] = ("408", "--request-headers-timeout"),
        ["min_request_body_data_rate"] = ("408", "--min-request-body-data-rate"),
        ["max_request_body_size_exceeded"] = ("413", "the 8 MiB request body limit"),
        ["max_concurrent_connections_exceeded"] = ("connection closed", "--max-connections"),
        ["invalid_request_line"] = ("400 or 414", "a malformed request line, or one longer than --max-request-line-bytes"),
        ["invalid_request_headers"] = ("400", "malformed request headers"),
        ["invalid_http_version"] = ("505", "an HTTP version the gateway does not serve"),
        ["unexpected_end_of_request_content"] = ("400", "a request body that ended early or had bad framing"),
    };

    private readonly ILogger _logger;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, LogThrottle> _throttles = new(StringComparer.Ordinal);

    /// <param name="logger">Where <c>client_rejected</c> goes.</param>
    /// <param name="meters">
    /// The meter factory of this gateway's own services: Kestrel's meter is made by it, so only this server's connections
    /// are counted, not those of another server in the same process (a test host's, say). Null counts every Kestrel's.
    /// </param>
    public KestrelRejections(ILogger logger, IMeterFactory? meters = null)
    {
        _logger = logger;
        foreach (string reason in s_reasons.Keys)
        {
            _throttles[reason] = new LogThrottle();
        }

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Name == InstrumentName && (meters is null || ReferenceEquals(instrument.Meter.Scope, meters)))
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (_, _, tags, state) => ((KestrelRejections)state!).Seen(tags));
        _listener.Start();
    }

    private void Seen(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "error.type" && tag.Value is string reason && _throttles.TryGetValue(reason, out LogThrottle? throttle))
            {
                Count(reason, throttle);
                return;
            }
        }
    }

    private void Count(string reason, LogThrottle throttle)
    {
        if (throttle.Count(out int count))
        {
            (string answer, string setting) = s_reasons[reason];
            GatewayLog.ClientRejected(_logger, reason, answer, setting, count);
        }
    }

    public void Dispose() => _listener.Dispose();
}

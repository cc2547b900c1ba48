using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// What the gateway records per request when an operator asked for it: the access log line, the metrics
/// (<see cref="GatewayInstruments"/>) and the spans (activity source <c>Gateway</c>). Built once at start-up, and only
/// when at least one of them is on: with none, the dispatcher never sees this class and a request pays nothing for it.
/// </summary>
/// <remarks>
/// Everything recorded is named by templates and closed sets (the endpoint's path template, a known method or
/// <c>_OTHER</c>, a status, a backend's index, a failure kind), never by what a client sent: no path parameter, query,
/// header, cookie or body value reaches a log line, a label or a span.
/// </remarks>
public sealed class GatewayTelemetry
{
    /// <summary>The activity source of the gateway's spans.</summary>
    public const string ActivitySourceName = "Gateway";

    /// <summary>The endpoint of a request no route matched (404, 405, 400): one marker, whatever the path was.</summary>
    public const string Unmatched = "(unmatched)";

    private static readonly string[] s_knownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"];

    private readonly GatewayLoggerProvider? _access;

    // router.logger_skip_paths, looked up by the raw path's characters without making a string; null when none.
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? _skipPaths;

    /// <param name="accessLog">Where access lines go; null for no access log.</param>
    /// <param name="instruments">The metrics; null when none are exported.</param>
    /// <param name="tracing">The spans' source; null when no spans are recorded.</param>
    /// <param name="accessLogSkipPaths">Request paths, exactly as sent, that get no access line (metrics and spans still record them).</param>
    public GatewayTelemetry(GatewayLoggerProvider? accessLog, GatewayInstruments? instruments, ActivitySource? tracing, IEnumerable<string>? accessLogSkipPaths = null)
    {
        _access = accessLog;
        if (accessLog is not null && accessLogSkipPaths is not null)
        {
            var skipped = new HashSet<string>(accessLogSkipPaths, StringComparer.Ordinal);
            _skipPaths = skipped.Count == 0 ? null : skipped.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        AccessLog = accessLog is not null;
        Instruments = instruments;
        Tracing = tracing;
    }

    public bool AccessLog { get; }

    public GatewayInstruments? Instruments { get; }

    public ActivitySource? Tracing { get; }

    /// <summary>True when anything is recorded per request.</summary>
    public bool ObservesRequests => AccessLog || Instruments is not null || Tracing is not null;

    /// <summary>
    /// The method as recorded: one of the standard methods, or <c>_OTHER</c> (a client may send any token as a method,
    /// and neither a log nor a metric label should carry it).
    /// </summary>
    public static string MethodName(string method)
    {
        foreach (string known in s_knownMethods)
        {
            if (ReferenceEquals(method, known) || string.Equals(method, known, StringComparison.Ordinal))
            {
                return known;
            }
        }

        return "_OTHER";
    }

    /// <summary>Starts recording a request: the in-flight gauge, the clock and, when tracing, the server span (current from here on).</summary>
    internal RequestRecord Begin(HttpContext context)
    {
        Instruments?.RequestStarted();
        Activity? span = null;
        if (Tracing is not null)
        {
            // A client that is itself traced continues its trace; anything unreadable starts a new one.
            IHeaderDictionary headers = context.Request.Headers;
            ActivityContext.TryParse(headers.TraceParent.ToString(), headers.TraceState.ToString(), isRemote: true, out ActivityContext parent);
            span = Tracing.StartActivity(ActivityKind.Server, parent, name: MethodName(context.Request.Method));
        }

        return new RequestRecord(this, span);
    }

    /// <summary>Ends a request: its span, metrics and access log line, from what the response carries.</summary>
    internal void End(HttpContext context, RequestRecord record)
    {
        double milliseconds = Stopwatch.GetElapsedTime(record.Started).TotalMilliseconds;
        HttpResponse response = context.Response;

        // A client that went away before its answer started was answered nothing: recorded as 499, nginx's "client
        // closed request", not as the status a failure answer nobody received would have had (a 504, say).
        int status = context.RequestAborted.IsCancellationRequested && !response.HasStarted ? StatusCodes.Status499ClientClosedRequest : response.StatusCode;
        string method = MethodName(context.Request.Method);
        string? completed = response.Headers.TryGetValue(GatewayHeaders.Completed, out Microsoft.Extensions.Primitives.StringValues value) ? value.ToString() : null;
        Instruments?.RequestEnded(record.Endpoint, method, status, completed == GatewayHeaders.False, milliseconds / 1000);
        Activity? span = record.Span;
        if (span is not null)
        {
            span.DisplayName = method + " " + record.Endpoint;
            span.SetTag("http.request.method", method);
            span.SetTag("http.route", record.Endpoint);
            span.SetTag("http.response.status_code", status);
            span.SetTag("gateway.completed", completed);
            span.SetTag("gateway.backends.called", record.BackendsCalled);
            span.SetTag("gateway.backends.failed", record.BackendsFailed);
            if (status >= 500)
            {
                span.SetStatus(ActivityStatusCode.Error);
            }

            span.Stop();
        }

        if (_access is null || (_skipPaths is { } skipped && skipped.Contains(GatewayDispatcher.RawPath(context))))
        {
            return;
        }

        _access.WriteAccess(method, record.Endpoint, status, Math.Round(milliseconds, 3), response.ContentLength ?? record.StreamedBytes, completed ?? "-", record.BackendsCalled, record.BackendsFailed, span?.TraceId.ToHexString() ?? "-");
    }

    /// <summary>Starts the span of one backend call (a child of the request's span); null when not tracing.</summary>
    internal Activity? StartBackendSpan(string endpoint, int backend, HttpMethod method)
    {
        if (Tracing is null)
        {
            return null;
        }

        Activity? span = Tracing.StartActivity(method.Method + " " + endpoint + " backend " + backend, ActivityKind.Client);
        span?.SetTag("http.route", endpoint);
        span?.SetTag("http.request.method", method.Method);
        span?.SetTag("gateway.backend.index", backend);
        return span;
    }

    /// <summary>Starts the span of one proxy-chain service call; null when not tracing.</summary>
    internal Activity? StartServiceSpan(string endpoint, int service, HttpMethod method)
    {
        if (Tracing is null)
        {
            return null;
        }

        Activity? span = Tracing.StartActivity(method.Method + " " + endpoint + " proxy-chain service " + (service + 1), ActivityKind.Client);
        span?.SetTag("http.route", endpoint);
        span?.SetTag("http.request.method", method.Method);
        span?.SetTag("gateway.proxy_chain.service", service + 1);
        return span;
    }

    /// <summary>Ends a backend call's span and records its duration; counts it for the access log.</summary>
    internal void BackendEnded(RequestRecord record, string endpoint, int backend, BackendResult result, double seconds, Activity? span)
    {
        record.CountBackend(result.Succeeded);
        Instruments?.BackendCalled(endpoint, backend, result.Failure, seconds);
        if (span is not null)
        {
            EndCallSpan(span, result.Failure, result.StatusCode);
        }
    }

    /// <summary>Ends the span of a backend or service call with its outcome.</summary>
    internal static void EndCallSpan(Activity span, BackendFailure failure, int status)
    {
        span.SetTag("gateway.backend.outcome", BackendOutcome.Name(failure));
        if (status > 0)
        {
            span.SetTag("http.response.status_code", status);
        }

        if (failure != BackendFailure.None)
        {
            span.SetStatus(ActivityStatusCode.Error, BackendOutcome.Name(failure));
        }

        span.Stop();
    }

    /// <summary>Ends a proxy-chain service's span: its status, and the gateway's fixed error text when it failed.</summary>
    internal static void EndServiceSpan(Activity span, int status, string? error)
    {
        if (status > 0)
        {
            span.SetTag("http.response.status_code", status);
        }

        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error);
        }

        span.Stop();
    }

    /// <summary>
    /// Adds the W3C <c>traceparent</c> (and <c>tracestate</c>) of the current gateway span to a backend request. Only a
    /// span of the gateway's own source is propagated, so with tracing off a backend never receives one.
    /// </summary>
    internal static void Propagate(HttpRequestMessage request)
    {
        if (!TryTraceContext(out string? traceparent, out string? tracestate))
        {
            return;
        }

        request.Headers.Remove("traceparent");
        request.Headers.TryAddWithoutValidation("traceparent", traceparent);
        request.Headers.Remove("tracestate");
        if (tracestate is not null)
        {
            request.Headers.TryAddWithoutValidation("tracestate", tracestate);
        }
    }

    /// <summary>
    /// The W3C trace context a backend call carries (<c>traceparent</c>, and <c>tracestate</c> when the trace has one):
    /// the current span's when it is one of the gateway's own; false otherwise, and the backend receives none.
    /// </summary>
    internal static bool TryTraceContext([NotNullWhen(true)] out string? traceparent, out string? tracestate)
    {
        if (Activity.Current is not { } span || span.Source.Name != ActivitySourceName || span.IdFormat != ActivityIdFormat.W3C)
        {
            traceparent = tracestate = null;
            return false;
        }

        traceparent = span.Id!;
        tracestate = string.IsNullOrEmpty(span.TraceStateString) ? null : span.TraceStateString;
        return true;
    }
}

/// <summary>One request while it is recorded: its clock, its span, its endpoint once routed, and its backend counts.</summary>
internal sealed class RequestRecord
{
    private int _backendsCalled;
    private int _backendsFailed;

    public RequestRecord(GatewayTelemetry telemetry, Activity? span)
    {
        Telemetry = telemetry;
        Span = span;
        Started = Stopwatch.GetTimestamp();
    }

    public GatewayTelemetry Telemetry { get; }

    public Activity? Span { get; }

    public long Started { get; }

    /// <summary>The matched route's template, a built-in endpoint's path, or <see cref="GatewayTelemetry.Unmatched"/>.</summary>
    public string Endpoint { get; set; } = GatewayTelemetry.Unmatched;

    /// <summary>
    /// Set when the request went to an endpoint and no span is recorded: the pipeline ends the record as its own last
    /// step, instead of a wrapper around it.
    /// </summary>
    public bool EndedByPipeline { get; set; }

    /// <summary>Bytes of a streamed (no-op) body, which has no Content-Length of its own to read; -1 when unknown.</summary>
    public long StreamedBytes { get; set; } = -1;

    public int BackendsCalled => Volatile.Read(ref _backendsCalled);

    public int BackendsFailed => Volatile.Read(ref _backendsFailed);

    public void CountBackend(bool succeeded)
    {
        Interlocked.Increment(ref _backendsCalled);
        if (!succeeded)
        {
            Interlocked.Increment(ref _backendsFailed);
        }
    }
}

/// <summary>The name of a backend call's outcome in logs, metric labels and span attributes: a closed set.</summary>
public static class BackendOutcome
{
    public static string Name(BackendFailure failure) => failure switch
    {
        BackendFailure.None => "success",
        BackendFailure.Status => "status",
        BackendFailure.Timeout => "timeout",
        BackendFailure.Transport => "transport",
        BackendFailure.UnresolvedPlaceholder => "unresolved_placeholder",
        BackendFailure.Canceled => "canceled",
        BackendFailure.InvalidBody => "invalid_body",
        BackendFailure.BodyTooLarge => "body_too_large",
        BackendFailure.BufferLimit => "buffer_limit",
        BackendFailure.InvalidResponse => "invalid_response",
        BackendFailure.Internal => "internal",
        BackendFailure.CircuitOpen => "circuit_open",
        BackendFailure.Credentials => "credentials",
        BackendFailure.RateLimited => "rate_limited",
        BackendFailure.Script => "script",
        BackendFailure.TooManyItems => "too_many_items",
        BackendFailure.NotCalled => "not_called",
        _ => "unknown",
    };
}

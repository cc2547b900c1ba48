using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Routing;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The gateway's only middleware: the root components' stages, built-in endpoints, then the compiled route table,
/// then 404/405. When telemetry is on (<see cref="GatewayTelemetry"/>), each request is recorded around all of that;
/// when it is off, the request takes the plain path and pays one null test.
/// </summary>
internal sealed class GatewayDispatcher
{
    /// <summary>Readiness: 200 while serving, 503 once shutdown started (<see cref="Readiness"/>).</summary>
    internal const string ReadyPath = "/__ready";

    private static readonly byte[] s_health = JsonSerializer.SerializeToUtf8Bytes(new HealthStatus("ok"), GatewayJsonContext.Default.HealthStatus);

    private static readonly byte[] s_ready = JsonSerializer.SerializeToUtf8Bytes(new HealthStatus("ready"), GatewayJsonContext.Default.HealthStatus);

    private static readonly byte[] s_draining = JsonSerializer.SerializeToUtf8Bytes(new HealthStatus("draining"), GatewayJsonContext.Default.HealthStatus);

    private static readonly byte[] s_pong = "{\"message\":\"pong\"}"u8.ToArray();

    private readonly RouteTable _routes;
    private readonly bool _echo;
    private readonly bool _debug;
    private readonly IGatewayStage[] _stages;
    private readonly Readiness _readiness;
    private readonly GatewayTelemetry? _telemetry;
    private readonly MetricsEndpoint? _metrics;
    private readonly RouterOptions _router;
    private readonly string? _healthPath;

    /// <param name="routes">The compiled routes.</param>
    /// <param name="echo"><c>echo_endpoint</c>.</param>
    /// <param name="debug"><c>debug_endpoint</c>.</param>
    /// <param name="stages">The root components' per-request stages.</param>
    /// <param name="readiness">What <c>/__ready</c> answers.</param>
    /// <param name="telemetry">What to record per request; null when nothing is.</param>
    /// <param name="metrics">The Prometheus scrape endpoint; null when metrics are not exposed.</param>
    /// <param name="router">The health endpoint, automatic <c>OPTIONS</c>, redirects and error bodies; KrakenD's defaults when null.</param>
    public GatewayDispatcher(RouteTable routes, bool echo, bool debug, IGatewayStage[] stages, Readiness? readiness = null, GatewayTelemetry? telemetry = null, MetricsEndpoint? metrics = null, RouterOptions? router = null)
    {
        _router = router ?? new RouterOptions();
        _healthPath = _router.HealthPath;
        _routes = routes;
        _echo = echo;
        _debug = debug;
        _stages = stages;
        _readiness = readiness ?? new Readiness();
        _telemetry = telemetry is { ObservesRequests: true } ? telemetry : null;
        _metrics = metrics;
    }

    /// <summary>
    /// Serves one request. Whatever goes wrong inside becomes a defined answer (<see cref="RequestGuard"/>); nothing
    /// reaches Kestrel unhandled. Endpoint handlers guard themselves, inside their own async method, so that the common
    /// path pays for no extra state machine.
    /// </summary>
    public Task DispatchAsync(HttpContext context)
    {
        if (_telemetry is { Tracing: null } telemetry && (_metrics is null || !IsScrape(context)))
        {
            return DispatchRecorded(context, telemetry);
        }

        if (_telemetry is not null || _metrics is not null)
        {
            return DispatchRecordedAsync(context);
        }

        try
        {
            return Dispatch(context, null);
        }
        catch (Exception e)
        {
            return RequestGuard.FailAsync(context, e, GatewayTelemetry.Unmatched);
        }
    }

    /// <summary>
    /// Serves a request while recording it, without spans: an endpoint's pipeline ends the record itself, at the end of
    /// the async method it runs anyway (<see cref="RequestPipeline"/>), so the common path pays for no wrapping state
    /// machine; anything else is ended here.
    /// </summary>
    private Task DispatchRecorded(HttpContext context, GatewayTelemetry telemetry)
    {
        RequestRecord record = telemetry.Begin(context);
        Task served = DispatchGuarded(context, record);
        if (record.EndedByPipeline)
        {
            return served;
        }

        if (served.IsCompletedSuccessfully)
        {
            telemetry.End(context, record);
            return Task.CompletedTask;
        }

        return EndAfterAsync(served, context, record);
    }

    private static async Task EndAfterAsync(Task served, HttpContext context, RequestRecord record)
    {
        try
        {
            await served.ConfigureAwait(false);
        }
        finally
        {
            record.Telemetry.End(context, record);
        }
    }

    private bool IsScrape(HttpContext context) => _metrics!.TryServe(context, RawPath(context), out _, probeOnly: true);

    /// <summary>
    /// Serves a request while recording it with a span, or a scrape: the server span is current for everything the
    /// request calls, and is no longer current once this method returns.
    /// </summary>
    private async Task DispatchRecordedAsync(HttpContext context)
    {
        if (_metrics is not null && _metrics.TryServe(context, RawPath(context), out Task? scrape))
        {
            await scrape!.ConfigureAwait(false);
            return;
        }

        if (_telemetry is null)
        {
            await DispatchGuarded(context, null).ConfigureAwait(false);
            return;
        }

        RequestRecord record = _telemetry.Begin(context);
        try
        {
            await DispatchGuarded(context, record).ConfigureAwait(false);
        }
        finally
        {
            _telemetry.End(context, record);
        }
    }

    private Task DispatchGuarded(HttpContext context, RequestRecord? record)
    {
        try
        {
            return Dispatch(context, record);
        }
        catch (Exception e)
        {
            return RequestGuard.FailAsync(context, e, record?.Endpoint ?? GatewayTelemetry.Unmatched);
        }
    }

    private Task Dispatch(HttpContext context, RequestRecord? record)
    {
        // 0. A request head that another server could read otherwise is refused before anything reads it.
        ReadOnlySpan<byte> refusal = RequestFraming.Refusal(context);
        if (!refusal.IsEmpty)
        {
            return RequestFraming.RefuseAsync(context.Response, refusal);
        }

        // 1. The root components' stages (RequestPipeline): none unless the configuration has such a component.
        if (_stages.Length != 0 && RunStages(context) is { } answered)
        {
            return answered;
        }

        HttpRequest request = context.Request;
        ReadOnlySpan<char> path = RawPath(context);
        if (_router.RemoveExtraSlash && RoutePaths.NeedsCleaning(path))
        {
            path = RoutePaths.Clean(path);
        }

        if (_healthPath is not null && path.SequenceEqual(_healthPath))
        {
            record?.Endpoint = _healthPath;
            return HttpMethods.IsGet(request.Method) ? WriteHealthAsync(context.Response) : WriteMethodNotAllowed(context.Response, "GET");
        }

        if (path.SequenceEqual(ReadyPath))
        {
            record?.Endpoint = ReadyPath;
            return HttpMethods.IsGet(request.Method) ? WriteReadyAsync(context.Response) : WriteMethodNotAllowed(context.Response, "GET");
        }

        if (_debug && IsBelow(path, "/__debug"))
        {
            record?.Endpoint = "/__debug";
            return WriteJson(context.Response, s_pong);
        }

        if (_echo && IsBelow(path, "/__echo"))
        {
            record?.Endpoint = "/__echo";
            return RequestGuard.Guard(EchoEndpoint.WriteAsync(context), context, "/__echo");
        }

        switch (_routes.Match(request.Method, path, out RouteEntry? entry, out string[] values, out string? allowed))
        {
            case RouteMatchStatus.Found:
                if (record is null)
                {
                    return entry!.Handler.InvokeAsync(context, values);
                }

                record.Endpoint = entry!.Template;
                record.EndedByPipeline = record.Span is null;
                return entry.Handler.InvokeAsync(context, values, record);
            case RouteMatchStatus.MethodNotAllowed:
                return Unrouted(context, path, allowed);
            case RouteMatchStatus.BadPath:
                return FailureAnswers.WriteTextAsync(context.Response, StatusCodes.Status400BadRequest, "400 malformed path"u8);
            default:
                return Unrouted(context, path, null);
        }
    }

    /// <summary>
    /// A request no route of its method takes (KrakenD's router, krakend.md §12.1): <c>OPTIONS</c> answered for a known
    /// path (<c>auto_options</c>), a redirect to the path a route takes, 405 with the path's methods, or 404.
    /// </summary>
    /// <param name="allowed">The methods the path has, or null when no route has the path.</param>
    private Task Unrouted(HttpContext context, ReadOnlySpan<char> path, string? allowed)
    {
        HttpRequest request = context.Request;
        if (allowed is not null && _router.AutoOptions && HttpMethods.IsOptions(request.Method))
        {
            // As lura registers it: 200, the path's methods sorted, no body.
            string[] methods = allowed.Split(", ");
            Array.Sort(methods, StringComparer.Ordinal);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Allow = string.Join(", ", methods);
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }

        if ((_router.RedirectTrailingSlash || _router.RedirectFixedPath)
            && _routes.FindRedirect(request.Method, path, _router.RedirectTrailingSlash, _router.RedirectFixedPath) is { } target)
        {
            // 301 for GET, 307 for other methods (which keeps the method and the body), the query kept.
            context.Response.StatusCode = HttpMethods.IsGet(request.Method) ? StatusCodes.Status301MovedPermanently : StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = target + request.QueryString.Value;
            context.Response.ContentLength = 0;
            return Task.CompletedTask;
        }

        if (allowed is not null && _router.MethodNotAllowed)
        {
            return WriteMethodNotAllowed(context.Response, allowed, _router.MethodNotAllowedBody);
        }

        return _router.NotFoundBody is { } body
            ? FailureAnswers.WriteJsonAsync(context.Response, StatusCodes.Status404NotFound, body)
            : FailureAnswers.WriteTextAsync(context.Response, StatusCodes.Status404NotFound, "404 page not found"u8);
    }

    private Task? RunStages(HttpContext context)
    {
        foreach (IGatewayStage stage in _stages)
        {
            if (stage.TryAnswer(context) is { } answer)
            {
                return RequestGuard.Guard(answer, context, GatewayTelemetry.Unmatched);
            }
        }

        return null;
    }

    /// <summary>The request target's path exactly as the client sent it, still percent-encoded.</summary>
    internal static ReadOnlySpan<char> RawPath(HttpContext context)
    {
        string? target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        ReadOnlySpan<char> path = target;
        if (string.IsNullOrEmpty(target))
        {
            return context.Request.Path.Value;
        }

        if (target[0] != '/')
        {
            // Absolute form (RFC 9112 §3.2.2): the path after the authority, still encoded, so that it is routed and
            // refused as the same path in origin form is (Kestrel's parsed path is decoded: "%00" a NUL, "%2F" a
            // slash). Asterisk and authority forms have no path of their own: the server's.
            int authority = target.IndexOf("://", StringComparison.Ordinal);
            if (authority < 0)
            {
                return context.Request.Path.Value;
            }

            path = target.AsSpan(authority + 3);
            int start = path.IndexOfAny('/', '?');
            path = start < 0 || path[start] == '?' ? "/" : path[start..];
        }

        int query = path.IndexOf('?');
        return query < 0 ? path : path[..query];
    }

    private static bool IsBelow(ReadOnlySpan<char> path, string prefix) =>
        path.StartsWith(prefix, StringComparison.Ordinal) && (path.Length == prefix.Length || path[prefix.Length] == '/');

    private static Task WriteHealthAsync(HttpResponse response) => WriteJson(response, s_health);

    private Task WriteReadyAsync(HttpResponse response) =>
        _readiness.IsDraining ? WriteJson(response, s_draining, StatusCodes.Status503ServiceUnavailable) : WriteJson(response, s_ready);

    private static Task WriteJson(HttpResponse response, byte[] body, int status = StatusCodes.Status200OK)
    {
        response.StatusCode = status;
        response.ContentType = GatewayHeaders.JsonContentType;
        response.ContentLength = body.Length;
        return response.BodyWriter.WriteAsync(body).AsTask();
    }

    private static Task WriteMethodNotAllowed(HttpResponse response, string allowed, byte[]? body = null)
    {
        response.Headers.Allow = allowed;
        return body is null
            ? FailureAnswers.WriteTextAsync(response, StatusCodes.Status405MethodNotAllowed, "405 method not allowed"u8)
            : FailureAnswers.WriteJsonAsync(response, StatusCodes.Status405MethodNotAllowed, body);
    }
}

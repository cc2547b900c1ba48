using System.Text;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// The Prometheus scrape endpoint. Served by the dispatcher like <c>/__health</c>, at
/// <see cref="PrometheusExport.Path"/> on the gateway's port, or on a port of its own where nothing else answers.
/// Each scrape renders the current values (<see cref="PrometheusMetrics"/>); scrapes are rare, so one at a time.
/// </summary>
public sealed class MetricsEndpoint
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Func<string> _collect;
    private readonly string _path;
    private readonly int? _port;
    private readonly Lock _gate = new();

    /// <param name="collect">Collects the current values as text (<see cref="PrometheusMetrics.Render"/>).</param>
    /// <param name="path">The scrape path.</param>
    /// <param name="port">A port of its own, or null for the gateway's port.</param>
    internal MetricsEndpoint(Func<string> collect, string path, int? port)
    {
        _collect = collect;
        _path = path;
        _port = port;
    }

    /// <summary>The current metrics in the text exposition format.</summary>
    public string Collect()
    {
        lock (_gate)
        {
            return _collect();
        }
    }

    /// <summary>Serves a scrape, or a 404 for anything else on the metrics port; false for a request that is not its.</summary>
    /// <param name="context">The request.</param>
    /// <param name="path">Its raw path.</param>
    /// <param name="served">The answer's task, when this endpoint answers.</param>
    /// <param name="probeOnly">Only tell whether the request is this endpoint's; answer nothing.</param>
    internal bool TryServe(HttpContext context, ReadOnlySpan<char> path, out Task? served, bool probeOnly = false)
    {
        bool ownPort = _port is { } port && context.Connection.LocalPort == port;
        if (_port is not null && !ownPort)
        {
            // With a port of its own, the metrics are not on the gateway's public port.
            served = null;
            return false;
        }

        if (path.SequenceEqual(_path) || (ownPort && path.SequenceEqual("/metrics")))
        {
            if (probeOnly)
            {
                served = null;
                return true;
            }

            served = HttpMethods.IsGet(context.Request.Method) ? WriteAsync(context.Response) : FailureAnswers.WriteTextAsync(context.Response, StatusCodes.Status405MethodNotAllowed, "405 method not allowed"u8);
            return true;
        }

        if (probeOnly)
        {
            served = null;
            return ownPort;
        }

        served = ownPort ? FailureAnswers.WriteTextAsync(context.Response, StatusCodes.Status404NotFound, "404 page not found"u8) : null;
        return served is not null;
    }

    private Task WriteAsync(HttpResponse response)
    {
        byte[] body = Encoding.UTF8.GetBytes(Collect());
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}

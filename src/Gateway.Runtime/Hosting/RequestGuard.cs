using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The request-level guard: an exception nobody else handled becomes a logged, well-formed answer. A <c>500</c> with
/// <c>X-KrakenD-Completed: false</c> and an empty body when nothing was sent yet; an aborted connection when the
/// answer had started (its status cannot change, and a truncated body must not look complete). A client that went
/// away gets nothing, and is not an error of the gateway's.
/// </summary>
internal static class RequestGuard
{
    /// <summary>Awaits <paramref name="served"/> when it has not finished, turning an exception into the guard's answer.</summary>
    public static Task Guard(Task served, HttpContext context, string endpoint) =>
        served.IsCompletedSuccessfully ? Task.CompletedTask : GuardAsync(served, context, endpoint);

    /// <param name="context">The request.</param>
    /// <param name="exception">What was thrown.</param>
    /// <param name="endpoint">The endpoint's template for the log (never the path, which carries parameter values).</param>
    public static Task FailAsync(HttpContext context, Exception exception, string endpoint)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        string method = Telemetry.GatewayTelemetry.MethodName(context.Request.Method);
        HttpResponse response = context.Response;
        if (response.HasStarted)
        {
            GatewayLog.ResponseAborted(GatewayLog.For(context), method, endpoint, exception);
            context.Abort();
            return Task.CompletedTask;
        }

        if (exception is BadHttpRequestException clientFault)
        {
            // The client's fault, found by Kestrel while the gateway read the request: a body slower than the
            // minimum data rate or the endpoint's timeout (408), a malformed chunked body (400). Its status, not the guard's 500, and no error.
            response.Clear();
            FailureAnswers.WriteEmpty(response, clientFault.StatusCode);

            // The rest of the body was not read: the connection cannot carry another request.
            response.Headers.Connection = "close";
            return Task.CompletedTask;
        }

        GatewayLog.RequestFailed(GatewayLog.For(context), method, endpoint, StatusCodes.Status500InternalServerError, exception);
        response.Clear();
        FailureAnswers.WriteEmpty(response, StatusCodes.Status500InternalServerError);
        return Task.CompletedTask;
    }

    private static async Task GuardAsync(Task served, HttpContext context, string endpoint)
    {
        try
        {
            await served.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await FailAsync(context, e, endpoint).ConfigureAwait(false);
        }
    }
}

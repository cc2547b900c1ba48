using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// Every answer the gateway gives when it has no data to give, in one place (docs/configuration.md, errors): the
/// failed-backends answer with its status rules and <c>return_error_msg</c> texts, proxy-chain's JSON errors, the
/// routing errors (400, 404, 405), 413 for a client body over the limit, a request over a rate limit or over the
/// endpoint's requests in flight, and the empty 500 of the request guard.
/// Each carries <c>X-KrakenD-Completed: false</c>.
/// </summary>
internal static class FailureAnswers
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// No data at all: 500, or the failing backend's own status when it has <c>return_error_code</c> and is the only
    /// backend or the first of a sequence (docs/configuration.md, errors). A body only with <c>return_error_msg</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="requiredStep"/> is the index of a failed <c>gateway/step.required</c> step when that, not the
    /// lack of data, is why there is no answer: its status is the one <c>return_error_code</c> keeps.
    /// </remarks>
    public static Task WriteNoDataAsync(ProxyExchange exchange, int? requiredStep = null)
    {
        HttpResponse response = exchange.Context.Response;
        int cause = requiredStep ?? 0;
        BackendResult first = exchange.Results[cause];
        // A script's custom_error carries its own status, as KrakenD's error with a status code does, without return_error_code.
        bool propagate = (requiredStep is not null || exchange.Backends.Length == 1 || exchange.Endpoint.Sequential)
            && ((exchange.Backends[cause].ReturnErrorCode && first.Failure == BackendFailure.Status) || (first.Failure == BackendFailure.Script && first.StatusCode > 0));
        response.StatusCode = propagate ? first.StatusCode : StatusCodes.Status500InternalServerError;
        exchange.Endpoint.PassThrough?.Apply(exchange, response, failedOnly: true);
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        WriteFailedSteps(exchange);
        WriteServerTiming(exchange);
        if (!exchange.Endpoint.ReturnErrorMessage)
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        if (propagate && first.ErrorBody is not null)
        {
            if (first.ErrorContentType is not null)
            {
                response.ContentType = first.ErrorContentType;
            }

            return ResponseComposer.WriteBody(response, first.ErrorBody.WrittenSpan, exchange.Endpoint.Compression);
        }

        // The message names the failing backend and why, never its address (KrakenD prints the backend URL).
        response.ContentType = GatewayHeaders.TextContentType;
        var message = new StringBuilder();
        for (int i = 0; i < exchange.Results.Count; i++)
        {
            BackendResult result = exchange.Results[i];
            if (result.Failure is BackendFailure.None or BackendFailure.NotCalled)
            {
                continue;
            }

            message.Append(message.Length > 0 ? "\n" : string.Empty).Append("backend ").Append(i).Append(": ").Append(Describe(result));
        }

        return ResponseComposer.WriteBody(response, Encoding.UTF8.GetBytes(message.ToString()), exchange.Endpoint.Compression);
    }

    /// <summary>
    /// <c>X-Gateway-Failed-Steps</c> on an answer that lacks some steps, when the endpoint asks for it: every step that
    /// failed or was not called, by index and reason, e.g. <c>backend 1: a value for the URL could not be resolved;
    /// backend 2: not called</c>. Reasons never carry values, URLs or bodies.
    /// </summary>
    /// <summary>
    /// <c>Server-Timing</c> (<c>gateway/flow.server_timing</c>): one entry per step in configuration order, named by its
    /// id or index, with its duration and outcome (<c>ok</c>, a failure kind as in the metrics, or <c>not_called</c>).
    /// </summary>
    public static void WriteServerTiming(ProxyExchange exchange)
    {
        if (!exchange.Endpoint.ServerTiming)
        {
            return;
        }

        var timing = new StringBuilder();
        for (int i = 0; i < exchange.Results.Count; i++)
        {
            BackendResult result = exchange.Results[i];
            timing.Append(i == 0 ? "" : ", ").Append(exchange.Backends[i].StepName);
            if (exchange.StepMilliseconds(i) is { } milliseconds)
            {
                timing.Append(";dur=").Append(Math.Round(milliseconds, 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            timing.Append(";desc=\"").Append(result.Skipped ? "skipped" : result.Replaced != BackendFailure.None ? "fallback" : result.Succeeded ? "ok" : Telemetry.BackendOutcome.Name(result.Failure)).Append('"');
        }

        exchange.Context.Response.Headers["Server-Timing"] = timing.ToString();
    }

    public static void WriteFailedSteps(ProxyExchange exchange)
    {
        if (!exchange.Endpoint.FailedStepsHeader)
        {
            return;
        }

        StringBuilder? steps = null;
        for (int i = 0; i < exchange.Results.Count; i++)
        {
            BackendResult result = exchange.Results[i];
            if (result.Succeeded)
            {
                continue;
            }

            steps = steps is null ? new StringBuilder() : steps.Append("; ");
            steps.Append("backend ").Append(i).Append(": ").Append(Describe(result));
        }

        if (steps is not null)
        {
            exchange.Context.Response.Headers[GatewayHeaders.FailedSteps] = steps.ToString();
        }
    }

    /// <summary>Why a backend failed, as <c>return_error_msg</c> shows it (docs/configuration.md, errors).</summary>
    public static string Describe(BackendResult result) => result.Failure switch
    {
        BackendFailure.Status => $"invalid status code {result.StatusCode}",
        BackendFailure.Timeout => "context deadline exceeded",
        BackendFailure.Transport => "the backend could not be reached",
        BackendFailure.InvalidBody => "the response is not in the backend's encoding",
        BackendFailure.BodyTooLarge => "the response is too large",
        BackendFailure.UnresolvedPlaceholder => "a value for the URL could not be resolved",
        BackendFailure.BufferLimit => "the gateway's memory for response bodies is in use; try again",
        BackendFailure.InvalidResponse => $"not a final HTTP response (status {result.StatusCode})",
        BackendFailure.Internal => "the gateway failed while handling this backend (logged)",
        BackendFailure.CircuitOpen => "the circuit breaker is open",
        BackendFailure.Credentials => "the backend's access token could not be obtained",
        BackendFailure.RateLimited => "the backend's rate limit is exceeded (not called)",
        BackendFailure.Script => result.ErrorBody is { } message ? Encoding.UTF8.GetString(message.WrittenSpan) : "the backend's Lua script failed (logged)",
        BackendFailure.TooManyItems => "the array to run over has more elements than the step's max_items",
        BackendFailure.NotCalled => "not called (an earlier step failed)",
        _ => result.Failure.ToString(),
    };

    /// <summary>
    /// A request refused by the endpoint's rate limit (<c>qos/ratelimit/router</c>) before any backend is called: the
    /// limit's status (KrakenD: 503 for the endpoint's limit, 429 for a client's), <c>Retry-After</c> in whole seconds
    /// when waiting helps, and a body only with <c>return_error_msg</c>.
    /// </summary>
    public static Task WriteRateLimitedAsync(ProxyExchange exchange, int status, TimeSpan retryAfter, string reason)
    {
        HttpResponse response = exchange.Context.Response;
        if (retryAfter > TimeSpan.Zero)
        {
            response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (!exchange.Endpoint.ReturnErrorMessage)
        {
            WriteEmpty(response, status);
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        response.ContentType = GatewayHeaders.TextContentType;
        return ResponseComposer.WriteBody(response, Encoding.UTF8.GetBytes(reason), exchange.Endpoint.Compression);
    }

    /// <summary>
    /// A request refused because its endpoint has as many requests in flight as <c>gateway/limits.max_concurrent_requests</c>
    /// allows: <c>503</c>, <c>Retry-After: 1</c> (a place is usually free within a second), no body, written before
    /// the request's body is read.
    /// </summary>
    public static void WriteSaturated(HttpResponse response)
    {
        response.Headers.RetryAfter = "1";
        WriteEmpty(response, StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// <c>gateway/flow.deadline_status</c>: the endpoint's time budget ran out before every step answered; the configured
    /// status, no data, the failed steps named as for any incomplete answer.
    /// </summary>
    public static Task WriteDeadlineAsync(ProxyExchange exchange, int status)
    {
        HttpResponse response = exchange.Context.Response;
        response.StatusCode = status;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        WriteFailedSteps(exchange);
        WriteServerTiming(exchange);
        if (!exchange.Endpoint.ReturnErrorMessage)
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        return WriteTextAsync(response, status, "the endpoint's timeout ran out before every backend answered"u8);
    }

    /// <summary>A status and no body.</summary>
    public static void WriteEmpty(HttpResponse response, int status)
    {
        response.StatusCode = status;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        response.ContentLength = 0;
    }

    /// <summary>A 404 or 405 with the JSON body <c>router.error_body</c> gives, incomplete as the text answers.</summary>
    public static Task WriteJsonAsync(HttpResponse response, int status, byte[] json)
    {
        response.StatusCode = status;
        response.ContentType = GatewayHeaders.JsonContentType;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        response.ContentLength = json.Length;
        return response.BodyWriter.WriteAsync(json).AsTask();
    }

    /// <summary>A plain-text answer for what the router refuses (400 malformed path, 404, 405 with <c>Allow</c>).</summary>
    public static Task WriteTextAsync(HttpResponse response, int status, ReadOnlySpan<byte> text)
    {
        response.StatusCode = status;
        response.ContentType = GatewayHeaders.TextContentType;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        response.ContentLength = text.Length;
        return response.BodyWriter.WriteAsync(text.ToArray()).AsTask();
    }

    /// <summary>
    /// A proxy-chain failure: <c>{"error": "..."}</c> with the given status. The message names the service by position
    /// and says what went wrong, never its URL or its body (docs/compatibility.md, APISIX proxy-chain).
    /// </summary>
    public static async Task WriteProxyChainErrorAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        context.Response.ContentType = GatewayHeaders.JsonContentType;
        var buffer = new PooledBuffer(128);
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("error"u8, message);
                writer.WriteEndObject();
            }

            context.Response.ContentLength = buffer.Length;
            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// How a proxy-chain service's failure shows to the client: its status, and what to say. A transport failure is
    /// "could not be reached" before the answer's headers, "could not be read" after them.
    /// </summary>
    public static (int Status, string Error) ProxyChainFailure(BackendFailure failure, bool reading = false) => failure switch
    {
        BackendFailure.Transport when reading => (StatusCodes.Status502BadGateway, "could not be read"),
        BackendFailure.Timeout => (StatusCodes.Status504GatewayTimeout, "did not answer in time"),
        BackendFailure.Canceled => (StatusCodes.Status499ClientClosedRequest, "was cancelled: the client went away"),
        BackendFailure.BodyTooLarge => (StatusCodes.Status502BadGateway, "answered with a body that is too large"),
        BackendFailure.BufferLimit => (StatusCodes.Status502BadGateway, "answered while the gateway's memory for response bodies was spent"),
        BackendFailure.Transport => (StatusCodes.Status502BadGateway, "could not be reached"),
        BackendFailure.InvalidBody => (StatusCodes.Status502BadGateway, "did not answer with a JSON object"),
        _ => (StatusCodes.Status502BadGateway, "could not be read"),
    };
}

using System.Net;
using Gateway.Components.RequestTemplates;
using Gateway.Components.Shaping;
using Gateway.Runtime.Async;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Gateway.Runtime.Shaping;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// The order of the stages every request goes through, in one place, as Lura's proxy factory fixes its stack
/// (docs/configuration.md, "How a backend call runs").
/// <list type="number">
/// <item><description>Every request, before routing: the stages of the configuration root's components, in the
/// registry's order (<see cref="IGatewayStage"/>, run by the dispatcher: CORS). A stage may answer by itself, as CORS
/// does a preflight. A configuration without such components runs none.</description></item>
/// <item><description>An endpoint: its bound on requests in flight (<see cref="IEndpointAdmission"/>, <c>gateway/limits</c>:
/// 503) → read the client request (body limit: 413) → the endpoint components' stages, in
/// the registry's order (<see cref="IEndpointStage"/>: JWT validation, then rate limits, then APISIX
/// proxy-chain) → the backend calls, as the generated handler orders them (all at once, or a sequence) → compose the answer:
/// merge → endpoint flatmap_filter → static data → the endpoint components' answer stages
/// (<see cref="IEndpointAnswerStage"/>: gateway/response's relayed headers) → render, compressed when the client
/// accepts it (<see cref="ResponseComposer"/>).</description></item>
/// <item><description>A backend call: render the request (generated) → the backend components' stages, outermost
/// first (<see cref="IBackendStage"/>: the circuit breaker, then the backend's rate limit) → the modifiers of the request
/// (<see cref="IHttpMessageModifier"/>: martian) → send, following same-origin redirects → the modifiers of the response → status rules → read the body → decode →
/// shape (<see cref="BackendCaller"/> holds each stage).</description></item>
/// </list>
/// Answers without data are written by <see cref="FailureAnswers"/>; an unexpected exception by the request guard.
/// </summary>
internal static class RequestPipeline
{
    /// <summary>
    /// A backend body of this size or more is decoded and shaped on the thread pool, not where its last read completed
    /// (docs/reliability.md, I/O threads).
    /// </summary>
    public const int LargeBodyBytes = 1024 * 1024;

    /// <summary>Runs an endpoint for one request. Never throws.</summary>
    /// <param name="handler">The endpoint.</param>
    /// <param name="context">The request.</param>
    /// <param name="routeValues">The decoded route parameters.</param>
    /// <param name="record">The request's telemetry record; null when telemetry is off.</param>
    public static async Task RunEndpointAsync(EndpointHandler handler, HttpContext context, string[] routeValues, RequestRecord? record)
    {
        ArgumentNullException.ThrowIfNull(context);
        ForwardedRequest? forwarded = null;
        IEndpointAdmission? admitted = null;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // 1. The endpoint's bound on requests in flight (gateway/limits), when it has one: before the body is read,
            // so that a refusal costs nothing and a slow upload holds its place. Over it: 503 at once, no backend called.
            if (handler.Admission is { } admission)
            {
                if (!admission.TryEnter())
                {
                    admission.Refused(context, handler.Template);
                    FailureAnswers.WriteSaturated(context.Response);
                    return;
                }

                admitted = admission;
            }

            // The client request: what backends receive of it, within the body limit and the endpoint's timeout
            // (which bounds the whole request, the upload included: a slow body is a 408).
            forwarded = await ForwardedRequest.ReadAsync(context, handler.Endpoint, handler.Options.MaxRequestBodyBytes, handler.Endpoint.Timeout).ConfigureAwait(false);
            if (forwarded is null)
            {
                FailureAnswers.WriteEmpty(context.Response, StatusCodes.Status413PayloadTooLarge);
                return;
            }

            // Disposing the exchange waits for every call it started before any buffer is released (ProxyExchange).
            IEndpointStage[] stages = handler.Stages;
            var exchange = new ProxyExchange(context, routeValues, forwarded, handler.Endpoint, handler.BackendDefinitions, handler.Options.MaxResponseBodyBytes, chained: CallsServices(stages), template: handler.Template, record: record, spent: System.Diagnostics.Stopwatch.GetElapsedTime(started));
            await using (exchange.ConfigureAwait(false))
            {
                try
                {
                    // 2. The endpoint's configured stages, in the registry's order (JWT validation, then rate limits,
                    // then APISIX proxy-chain). A stage may answer by itself and end the request.
                    foreach (IEndpointStage stage in stages)
                    {
                        if (!await stage.RunAsync(exchange).ConfigureAwait(false))
                        {
                            return;
                        }
                    }

                    // 3. The backend calls, in the order the generated handler fixes (each: CallBackendAsync), unless a
                    // stage skipped them (modifier/lua-proxy's skip_next).
                    if (!exchange.BackendsSkipped)
                    {
                        await handler.CallBackends(exchange).ConfigureAwait(false);
                    }
                }
                catch
                {
                    // The endpoint fails as a whole (steps never throw; this is a defect around them): cancel the
                    // calls still running; the exchange still waits for them before the guard answers.
                    exchange.Abandon();
                    throw;
                }

                // 4. The answer: merge → endpoint flatmap_filter → static data → the answer stages (relayed backend
                // headers) → render, compressed for clients that accept it (or a failure answer).
                await ResponseComposer.WriteAsync(exchange, handler.AnswerStages, handler.DataStages).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            await RequestGuard.FailAsync(context, e, handler.Template).ConfigureAwait(false);
        }
        finally
        {
            // The answer is written (or failed, or the client went away): the place is free again.
            admitted?.Leave();
            forwarded?.Dispose();
            if (record is { EndedByPipeline: true })
            {
                record.Telemetry.End(context, record);
            }
        }
    }

    private static bool CallsServices(IEndpointStage[] stages)
    {
        foreach (IEndpointStage stage in stages)
        {
            if (stage.CallsServices)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Calls <paramref name="backend"/> and turns its answer into a result, through the backend's component stages
    /// when it has any (<see cref="IBackendStage"/>). Never throws: whatever a stage throws becomes a failed step
    /// (<see cref="BackendFailure.Internal"/>) with the exception kept for the log.
    /// </summary>
    public static ValueTask<BackendResult> CallBackendAsync(ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, CancellationToken clientAborted, CancellationToken cancellation, ProxyExchange? exchange = null) =>
        backend.Stages.Length == 0
            ? SendAsync(client, backend, url, built, maxBodyBytes, passThrough, exchange, clientAborted, cancellation)
            : new ValueTask<BackendResult>(RunStageAsync(0, client, backend, url, built, maxBodyBytes, passThrough, exchange, clientAborted, cancellation));

    private static async Task<BackendResult> RunStageAsync(int stage, ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, ProxyExchange? exchange, CancellationToken clientAborted, CancellationToken cancellation)
    {
        try
        {
            return stage == backend.Stages.Length
                ? await SendAsync(client, backend, url, built, maxBodyBytes, passThrough, exchange, clientAborted, cancellation).ConfigureAwait(false)
                : await backend.Stages[stage].InvokeAsync(() => RunStageAsync(stage + 1, client, backend, url, built, maxBodyBytes, passThrough, exchange, clientAborted, cancellation)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return BackendResult.Faulted(e);
        }
    }

    /// <summary>
    /// The HTTP part of a backend call, inside the backend's script when it has one (<c>modifier/lua-backend</c>: its
    /// pre script on the built request, its post script on the result).
    /// </summary>
    private static ValueTask<BackendResult> SendAsync(ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, ProxyExchange? exchange, CancellationToken clientAborted, CancellationToken cancellation)
    {
        if (backend.Script is { } scripted && exchange is not null)
        {
            return new ValueTask<BackendResult>(ScriptedSendAsync(scripted, client, backend, url, built, maxBodyBytes, passThrough, exchange, clientAborted, cancellation));
        }

        // The gateway's own HTTP/1.1 client takes what it sends exactly as .NET's would (Http1Client): a plain http://
        // URL, no martian modifier.
        if (backend.Hosts.Http1 is { } http1 && backend.Modifiers is null
            && !(backend.Hosts.IsDiscovered && url.StartsWith(BackendHostGroup.Unresolved, StringComparison.Ordinal))
            && http1.TryRoute(url, out Forwarding.Http1.Http1Pool? pool, out int targetStart))
        {
            return Http1SendAsync(pool!, targetStart, client, backend, url, built, maxBodyBytes, passThrough, clientAborted, cancellation);
        }

        // Without a script, no layer of its own: one async state machine less per call.
        return new ValueTask<BackendResult>(SendAsync(client, backend, url, built, maxBodyBytes, passThrough, script: null, clientAborted, cancellation));
    }

    /// <summary>
    /// A backend call over the gateway's own HTTP/1.1 client: the head written from the forwarding rules into the
    /// connection's buffer, sent with the body, the answer's head parsed, then the same completion as .NET's client's
    /// answers get. A reused connection that closes before any byte of the answer arrives (the server closed it as idle)
    /// is retried once on a new connection when the request has no body, as .NET's client retries. A same-origin
    /// redirect continues on .NET's client. A <c>no-op</c> answer relayed to the client keeps every header and streams its
    /// body (<see cref="Forwarding.Http1.Http1StreamedContent"/>). It waits on every call (for the answer), so its box is
    /// reused (<see cref="ReusedValueTaskBuilder{TResult}"/>).
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<BackendResult> Http1SendAsync(Forwarding.Http1.Http1Pool pool, int targetStart, ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, CancellationToken clientAborted, CancellationToken cancellation)
    {
        string method = backend.Method.Method;
        bool relayed = backend.Encoding == BackendEncoding.NoOp && passThrough;
        BackendCaller.OutgoingBody body = BackendCaller.ChooseBody(client, backend, built, method, withBody: true);
        // The body's bytes stay the call's while they are sent, whoever lets go of them meanwhile.
        SharedBody? sending = body.Body?.Lease();
        // The call's span, when tracing: its trace context goes on the head of every attempt.
        bool traced = GatewayTelemetry.TryTraceContext(out string? traceparent, out string? tracestate);
        Forwarding.Http1.Http1Connection? connection = null;
        try
        {
            bool fresh = false;
            while (true)
            {
                bool reused = false;
                try
                {
                    backend.Hosts.Probe(StepStage.Send, pool.Origin);
                    connection = await pool.RentAsync(fresh, cancellation).ConfigureAwait(false);
                    reused = connection.Exchanges > 0;
                    var head = new Forwarding.Http1.Http1HeadWriter(connection);
                    head.RequestLine(method, url, targetStart, pool);
                    if (traced)
                    {
                        head.TraceContext(traceparent!, tracestate);
                    }

                    BackendCaller.ForwardHeaders(client, backend, built, ref head);
                    head.End(body);
                    if (!head.IsValid)
                    {
                        return BackendResult.Failed(BackendFailure.Transport);
                    }

                    // A small body goes in the same write as the head.
                    ReadOnlyMemory<byte> bytes = sending is null ? default : sending.Memory;
                    if (bytes.Length is > 0 and <= SmallBodyBytes)
                    {
                        head.Write(bytes.Span);
                        bytes = default;
                    }

                    await connection.SendAsync(head.Buffer.AsMemory(0, head.Length), cancellation).ConfigureAwait(false);
                    if (!bytes.IsEmpty)
                    {
                        await connection.SendAsync(bytes, cancellation).ConfigureAwait(false);
                    }

                    // The answer's head, parsed as its bytes arrive (awaited here: no async layer per read).
                    Forwarding.Http1.Http1Response answer = connection.Response;
                    answer.BeginHead();
                    while (!answer.TryReadHead(method == "HEAD", backend.ReadHeaders, backend.KeepRawBody, all: relayed))
                    {
                        answer.Received(await connection.ReceiveAsync(cancellation).ConfigureAwait(false));
                    }

                    break;
                }
                catch (OperationCanceledException)
                {
                    return BackendResult.Failed(clientAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    if (connection is not null)
                    {
                        pool.Discard(connection);
                        connection = null;
                    }

                    // Closed before any byte of an answer, or reset while sending: on a reused connection, the server
                    // had closed it as idle, and a request without a body goes once more on a new one.
                    if (reused && !fresh && !body.HasContent && e is not Forwarding.Http1.Http1ProtocolException)
                    {
                        fresh = true;
                        continue;
                    }

                    return BackendResult.Failed(BackendFailure.Transport);
                }
            }

            Forwarding.Http1.Http1Response response = connection.Response;
            connection = null;
            int code = response.Status;
            if (code < 200)
            {
                response.Dispose();
                return BackendResult.Failed(BackendFailure.InvalidResponse, code);
            }

            if (response.Location is { } location && Uri.TryCreate(location, UriKind.RelativeOrAbsolute, out Uri? target)
                && Uri.TryCreate(url, in BackendCaller.VerbatimUri, out Uri? current) && BackendCaller.RedirectTarget(code, target, current) is { } next)
            {
                // Rare: the rest of the redirect chain goes over .NET's client, with the same rules.
                response.Dispose();
                bool asGet = BackendCaller.RedirectsAsGet(code, method);
                return await SendAsync(client, backend, next, asGet ? HttpMethod.Get : backend.Method, withBody: !asGet, firstRedirect: 1, built, maxBodyBytes, passThrough, script: null, clientAborted, cancellation).ConfigureAwait(false);
            }

            if (backend.Encoding == BackendEncoding.NoOp)
            {
                return relayed
                    ? BackendResult.Streamed(response)
                    : await CompleteNoDataAsync(response, backend, maxBodyBytes, cancellation).ConfigureAwait(false);
            }

            return await CompleteAsync(response, backend, maxBodyBytes, clientAborted, cancellation).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return BackendResult.Faulted(e);
        }
        finally
        {
            if (connection is not null)
            {
                pool.Discard(connection);
            }

            sending?.Release();
        }
    }

    /// <summary>A body up to this size is copied behind the head and sent in one write.</summary>
    private const int SmallBodyBytes = 16 * 1024;

    private static async Task<BackendResult> ScriptedSendAsync(IBackendScript scripted, ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, ProxyExchange exchange, CancellationToken clientAborted, CancellationToken cancellation)
    {
        using BackendScriptCall script = await scripted.BeginAsync(exchange, backend, cancellation).ConfigureAwait(false);
        BackendResult result = await SendAsync(client, backend, url, built, maxBodyBytes, passThrough, script, clientAborted, cancellation).ConfigureAwait(false);
        // A step the script itself ended, or one that failed, is not handed to post (KrakenD runs post on a response only).
        return !result.Succeeded ? result : await script.AfterAsync(result, cancellation).ConfigureAwait(false);
    }

    /// <summary>The HTTP part of a backend call over .NET's client: send (and follow same-origin redirects), then complete the result.</summary>
    private static Task<BackendResult> SendAsync(ForwardedRequest client, BackendDefinition backend, string url, BackendRequest? built, int maxBodyBytes, bool passThrough, BackendScriptCall? script, CancellationToken clientAborted, CancellationToken cancellation)
    {
        // Only an absolute http(s) URL is ever sent: on Unix a bare path would parse as a file: URI.
        if (!Uri.TryCreate(url, in BackendCaller.VerbatimUri, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return Task.FromResult(BackendResult.Failed(BackendFailure.UnresolvedPlaceholder));
        }

        if (backend.Hosts.IsDiscovered && url.StartsWith(BackendHostGroup.Unresolved, StringComparison.Ordinal))
        {
            // Service discovery has found no host yet: the backend cannot be reached, and no look-up of the placeholder is made.
            return Task.FromResult(BackendResult.Failed(BackendFailure.Transport));
        }

        return SendAsync(client, backend, uri, backend.Method, withBody: true, firstRedirect: 0, built, maxBodyBytes, passThrough, script, clientAborted, cancellation);
    }

    private static async Task<BackendResult> SendAsync(ForwardedRequest client, BackendDefinition backend, Uri uri, HttpMethod method, bool withBody, int firstRedirect, BackendRequest? built, int maxBodyBytes, bool passThrough, BackendScriptCall? script, CancellationToken clientAborted, CancellationToken cancellation)
    {
        BackendHostGroup hosts = backend.Hosts;
        HttpRequestMessage? request = null;
        bool traced = System.Diagnostics.Activity.Current is not null;
        try
        {
            for (int redirects = firstRedirect; ; redirects++)
            {
                request?.Dispose();
                request = new HttpRequestMessage(method, uri) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
                BackendCaller.AddHeadersAndBody(client, backend, built, request, withBody);
                if (script is not null)
                {
                    if (script.BeforeSend(request, redirects > 0) is { } ended)
                    {
                        return ended;
                    }

                    if (script.SkipsCall)
                    {
                        // skip_next: no call; post sees an empty, incomplete response (KrakenD's empty proxy.Response).
                        var nothing = new PooledBuffer(16);
                        nothing.Write("{}"u8);
                        BackendResult skipped = BackendResult.Success(0, nothing);
                        skipped.SetComplete(false);
                        return skipped;
                    }

                    uri = request.RequestUri!;
                    method = request.Method;
                }

                if (backend.Modifiers is { } modifiers)
                {
                    foreach (IHttpMessageModifier modifier in modifiers)
                    {
                        if (!await modifier.ModifyRequestAsync(request, redirects > 0, cancellation).ConfigureAwait(false))
                        {
                            return BackendResult.Failed(clientAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Credentials);
                        }
                    }

                    uri = request.RequestUri!;
                }

                if (traced)
                {
                    GatewayTelemetry.Propagate(request);
                }

                HttpResponseMessage response;
                try
                {
                    hosts.Probe(redirects == 0 ? StepStage.Send : StepStage.Redirect, uri);
                    response = await hosts.Invoker.SendAsync(request, cancellation).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return BackendResult.Failed(clientAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout);
                }
                catch (HttpRequestException)
                {
                    return BackendResult.Failed(BackendFailure.Transport);
                }

                // 101 Switching Protocols (the HTTP client returns it as final) and any other 1xx that reaches here are
                // not an answer: the gateway never asked to switch protocols, and must not relay a connection it cannot read.
                int code = (int)response.StatusCode;
                if (code < 200)
                {
                    response.Dispose();
                    return BackendResult.Failed(BackendFailure.InvalidResponse, code);
                }

                // Redirects are followed (docs/configuration.md, decoding) only to the same origin: a backend must not
                // be able to send the gateway, with the client's headers and body, to another host (an internal address,
                // say). A redirect elsewhere, or to a location that is not a valid URL, is the backend's answer: 3xx is
                // not a success.
                if (redirects == BackendCaller.MaxRedirects || BackendCaller.RedirectTarget(response, uri) is not { } next)
                {
                    script?.SeeResponse(response);
                    if (backend.Modifiers is { } responseModifiers)
                    {
                        foreach (IHttpMessageModifier modifier in responseModifiers)
                        {
                            modifier.ModifyResponse(response);
                        }
                    }

                    return await CompleteAsync(response, backend, maxBodyBytes, passThrough, clientAborted, cancellation).ConfigureAwait(false);
                }

                if (BackendCaller.RedirectsAsGet(code, method.Method))
                {
                    method = HttpMethod.Get;
                    withBody = false;
                }

                response.Dispose();
                uri = next;
            }
        }
        catch (Exception e)
        {
            // A stage threw (a defect, or input nobody foresaw): this step fails like any other; the request goes on.
            return BackendResult.Faulted(e);
        }
        finally
        {
            request?.Dispose();
        }
    }

    /// <summary>Turns the final answer of .NET's client into a result: no-op pass-through, then as any answer (<see cref="CompleteAsync(BackendResponse, BackendDefinition, int, CancellationToken, CancellationToken)"/>).</summary>
    private static async ValueTask<BackendResult> CompleteAsync(HttpResponseMessage message, BackendDefinition backend, int maxBodyBytes, bool passThrough, CancellationToken clientAborted, CancellationToken cancellation)
    {
        // no-op: status, headers and body go to the client untouched, streamed. Behind another renderer a no-op
        // backend contributes no data, whatever it answered (docs/configuration.md, decoding).
        if (backend.Encoding == BackendEncoding.NoOp && passThrough)
        {
            return BackendResult.Streamed(message);
        }

        var response = new HttpClientResponse(message);
        return backend.Encoding == BackendEncoding.NoOp
            ? await CompleteNoDataAsync(response, backend, maxBodyBytes, cancellation).ConfigureAwait(false)
            : await CompleteAsync(response, backend, maxBodyBytes, clientAborted, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// A <c>no-op</c> backend behind another renderer, whichever client received its answer: no data, only the headers
    /// and the raw body later steps read.
    /// </summary>
    private static async ValueTask<BackendResult> CompleteNoDataAsync(BackendResponse response, BackendDefinition backend, int maxBodyBytes, CancellationToken cancellation)
    {
        var empty = new PooledBuffer(16);
        empty.Write("{}"u8);
        BackendResult noData = BackendResult.Success(response.Status, empty);
        using (response)
        {
            noData.WithRelayed(BackendCaller.Relayed(response, backend.RelayedHeaders)).WithPassed(BackendCaller.Relayed(response, backend.PassedHeaders));
            // A later step may still read this backend's whole body ({respN}), as KrakenD's propagated no-op bodies.
            if (backend.KeepRawBody)
            {
                backend.Hosts.Probe(StepStage.ReadBody, response);
                (BackendFailure keptRead, PooledBuffer? kept) = await response.ReadBodyAsync(backend.Hosts.Budget, maxBodyBytes, cancellation).ConfigureAwait(false);
                if (keptRead != BackendFailure.None)
                {
                    return noData;
                }

                noData.WithSource(kept, response.ContentType, BackendCaller.Capture(response, backend.CapturedHeaders));
            }
            else if (backend.CapturedHeaders is not null)
            {
                noData.WithSource(null, null, BackendCaller.Capture(response, backend.CapturedHeaders));
            }
        }

        return noData;
    }

    /// <summary>Turns a final answer into a result, whichever client received it: status rules, reading the body, decoding, shaping.</summary>
    private static async ValueTask<BackendResult> CompleteAsync(BackendResponse response, BackendDefinition backend, int maxBodyBytes, CancellationToken clientAborted, CancellationToken cancellation)
    {
        using (response)
        {
            int status = response.Status;
            backend.Hosts.Probe(StepStage.ReadBody, response);
            (BackendFailure read, PooledBuffer? body) = await response.ReadBodyAsync(backend.Hosts.Budget, maxBodyBytes, cancellation).ConfigureAwait(false);
            if (body is not { } raw)
            {
                return BackendResult.Failed(read == BackendFailure.Timeout && clientAborted.IsCancellationRequested ? BackendFailure.Canceled : read, status);
            }

            // Socket completions run inline (GatewayProgram), so this method continues on the I/O thread that completed
            // the last read, and so would the validation and shaping of the body: tens of milliseconds for megabytes,
            // during which every connection that thread serves waits (docs/reliability.md, I/O threads). A large body
            // moves to the thread pool first, where the work only shares the CPU; a small one is cheaper than the hop.
            if (raw.Length >= LargeBodyBytes)
            {
                await Task.Yield();
            }

            // Only 200 and 201 are successes (docs/configuration.md, decoding).
            if (status != 200 && status != 201)
            {
                return BackendCaller.FailedStatus(backend, status, raw, response.ContentType)
                    .WithPassed(BackendCaller.Relayed(response, backend.PassedHeaders));
            }

            PooledBuffer? rawCopy = null;
            if (backend.KeepRawBody)
            {
                rawCopy = new PooledBuffer(Math.Max(raw.Length, 16));
                rawCopy.Write(raw.WrittenSpan);
            }

            BackendResult decoded = BackendCaller.Decode(backend, status, raw, response);
            if (!decoded.Succeeded)
            {
                rawCopy?.Dispose();
                return decoded;
            }

            // Only what the configuration reads is kept: later steps' raw bodies and headers, the client's relayed headers.
            if (backend.RelayedHeaders is not null)
            {
                decoded.WithRelayed(BackendCaller.Relayed(response, backend.RelayedHeaders));
            }

            if (backend.PassedHeaders is not null)
            {
                decoded.WithPassed(BackendCaller.Relayed(response, backend.PassedHeaders));
            }

            return rawCopy is null && backend.CapturedHeaders is null
                ? decoded
                : decoded.WithSource(rawCopy, response.ContentType, BackendCaller.Capture(response, backend.CapturedHeaders));
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.ProxyChain;

/// <summary>One service of an APISIX <c>proxy-chain</c> configuration: its method, on a host group like any backend.</summary>
public sealed class ProxyChainService
{
    public ProxyChainService(HttpMethod method, BackendHostGroup hosts)
    {
        Method = method;
        Hosts = hosts;
    }

    public HttpMethod Method { get; }

    public BackendHostGroup Hosts { get; }
}

/// <summary>
/// The APISIX <c>proxy-chain</c> plugin (docs/compatibility.md, APISIX proxy-chain), run before the endpoint's backends: the client's JSON body and
/// query arguments form one object; each service is called in order with the object so far as its body (and
/// <c>Authorization: Bearer &lt;token&gt;</c>), and the keys of its JSON answer are merged in; the endpoint's backends
/// then receive the merged object as their body. Unlike the plugin: any 2xx is success; a client body that is not a
/// JSON object is a 400, not silently dropped; a service answering anything but a JSON object fails the request (an
/// array is not merged by index); errors never carry service URLs or bodies; nothing is logged.
/// </summary>
public sealed class ProxyChainDefinition : IEndpointStage
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly MediaTypeHeaderValue s_json = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue s_anything = new("*/*");

    private readonly Func<ProxyExchange, int, string, string?> _url;

    /// <param name="services">The services, in calling order.</param>
    /// <param name="url">Renders service <c>i</c>'s URL on a host (generated); null when a value cannot be put in it.</param>
    /// <param name="tokenHeader">The request header holding the token, when not <c>Authorization</c>.</param>
    public ProxyChainDefinition(ProxyChainService[] services, Func<ProxyExchange, int, string, string?> url, string? tokenHeader = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(url);
        Services = services;
        _url = url;
        TokenHeader = tokenHeader;
    }

    /// <summary>The services run within the endpoint's time budget.</summary>
    public bool CallsServices => true;

    public IReadOnlyList<ProxyChainService> Services { get; }

    /// <summary>The request header holding the token; without it (or when it is empty), <c>Authorization</c>.</summary>
    public string? TokenHeader { get; }

    /// <summary>
    /// Runs the services. True when the backends may go on with the merged body; false when an error answer was
    /// written.
    /// </summary>
    public async Task<bool> RunAsync(ProxyExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        Func<ProxyExchange, int, string, string?> url = _url;
        int maxBodyBytes = exchange.MaxResponseBodyBytes;
        HttpContext context = exchange.Context;
        var layers = new List<PooledBuffer>();
        try
        {
            // 1. The client's body: nothing, or one JSON object (with only whitespace after it).
            ReadOnlySpan<byte> clientBody = exchange.Forwarded.BodySpan;
            var first = new PooledBuffer(Math.Max(clientBody.Length, 16));
            layers.Add(first);
            if (clientBody.Trim(" \t\r\n"u8).IsEmpty)
            {
                first.Write("{}"u8);
            }
            else if (JsonObjectBody.TryGetObject(clientBody, out int start, out int length) && clientBody[(start + length)..].Trim(" \t\r\n"u8).IsEmpty)
            {
                first.Write(clientBody.Slice(start, length));
            }
            else
            {
                await FailureAnswers.WriteProxyChainErrorAsync(context, StatusCodes.Status400BadRequest, "the request body must be a JSON object").ConfigureAwait(false);
                return false;
            }

            // 2. The query arguments, as strings (arrays for repeated names), over the body's keys.
            if (context.Request.Query.Count > 0)
            {
                layers.Add(QueryObject(context.Request.Query));
            }

            // 3. The token: the configured header, else Authorization; "Bearer " is never doubled.
            string? token = Token(context.Request.Headers);
            if (token is not null && !Gateway.Http.HttpRules.IsHeaderValue(token))
            {
                await FailureAnswers.WriteProxyChainErrorAsync(context, StatusCodes.Status400BadRequest, "the token holds characters a header cannot carry").ConfigureAwait(false);
                return false;
            }

            string? authorization = token is null ? null : "Bearer " + token;
            PooledBuffer merged = Merge(layers);
            layers.Clear();
            layers.Add(merged);

            // 4. Each service in order, with the object so far.
            for (int i = 0; i < Services.Count; i++)
            {
                // A span per service when tracing (current during the call, so the service receives its traceparent).
                System.Diagnostics.Activity? span = exchange.Record?.Telemetry.StartServiceSpan(exchange.Template, i, Services[i].Method);
                (PooledBuffer? answer, int status, string? error) = await CallAsync(exchange, Services[i], url(exchange, i, Services[i].Hosts.NextHost()), layers[0], authorization, maxBodyBytes).ConfigureAwait(false);
                if (span is not null)
                {
                    GatewayTelemetry.EndServiceSpan(span, status, error);
                }

                if (error is not null)
                {
                    // A client that went away gets nothing (the access log says 499); it is not the service's timeout.
                    if (status == StatusCodes.Status499ClientClosedRequest)
                    {
                        return false;
                    }

                    await FailureAnswers.WriteProxyChainErrorAsync(context, status, $"proxy-chain service {i + 1} of {Services.Count} {error}").ConfigureAwait(false);
                    return false;
                }

                if (answer is not null)
                {
                    layers.Add(answer);
                    PooledBuffer next = Merge(layers);
                    foreach (PooledBuffer layer in layers)
                    {
                        layer.Dispose();
                    }

                    layers.Clear();
                    layers.Add(next);
                }
            }

            // 5. The backends receive the merged object, and the token.
            exchange.Forwarded.ReplaceBody(layers[0].WrittenSpan, "application/json");
            if (authorization is not null)
            {
                exchange.Forwarded.SetOverride("Authorization", authorization);
            }

            return true;
        }
        finally
        {
            foreach (PooledBuffer layer in layers)
            {
                layer.Dispose();
            }
        }
    }

    private string? Token(IHeaderDictionary headers)
    {
        string? token = null;
        if (TokenHeader is not null && headers.TryGetValue(TokenHeader, out StringValues custom))
        {
            token = custom.ToString();
        }

        if (string.IsNullOrEmpty(token) && headers.TryGetValue("Authorization", out StringValues authorization))
        {
            token = authorization.ToString();
        }

        if (token is not null && token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = token["Bearer ".Length..];
        }

        token = token?.Trim();
        return string.IsNullOrEmpty(token) ? null : token;
    }

    private static PooledBuffer QueryObject(IQueryCollection query)
    {
        var buffer = new PooledBuffer(256);
        using var writer = new Utf8JsonWriter(buffer, s_writerOptions);
        writer.WriteStartObject();
        foreach (KeyValuePair<string, StringValues> pair in query)
        {
            if (pair.Value.Count == 1)
            {
                writer.WriteString(pair.Key, pair.Value[0]);
                continue;
            }

            writer.WriteStartArray(pair.Key);
            foreach (string? value in pair.Value)
            {
                writer.WriteStringValue(value);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.Flush();
        return buffer;
    }

    /// <summary>Top-level merge, the later layer winning on equal keys (the plugin's shallow merge).</summary>
    private static PooledBuffer Merge(List<PooledBuffer> layers)
    {
        var sources = new MergeSource[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            sources[i] = new MergeSource(layers[i].WrittenMemory, null);
        }

        var merged = new PooledBuffer(256);
        using (var writer = new Utf8JsonWriter(merged, s_writerOptions))
        {
            JsonMerger.WriteMerged(writer, sources);
        }

        return merged;
    }

    /// <summary>Calls one service. Returns its JSON object (null for an empty 2xx body), or an error status and text.</summary>
    private static async Task<(PooledBuffer? Answer, int Status, string? Error)> CallAsync(
        ProxyExchange exchange, ProxyChainService service, string? url, PooledBuffer body, string? authorization, int maxBodyBytes)
    {
        if (url is null || !Uri.TryCreate(url, in BackendCaller.VerbatimUri, out Uri? uri))
        {
            return (null, StatusCodes.Status500InternalServerError, "has no valid URL for this request");
        }

        SharedBody sent = SharedBody.Copy(body.WrittenSpan);
        using var request = new HttpRequestMessage(service.Method, uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = sent.CreateContent(),
        };
        sent.Release();
        request.Content.Headers.ContentType = s_json;
        request.Headers.Accept.Add(s_anything);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        GatewayTelemetry.Propagate(request);

        HttpResponseMessage response;
        try
        {
            response = await service.Hosts.Invoker.SendAsync(request, exchange.Budget).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Failed(exchange.Context.RequestAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout);
        }
        catch (HttpRequestException)
        {
            return Failed(BackendFailure.Transport);
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                // The service's own status (a 401 from a token check stays a 401); never its body.
                int shown = status is >= 400 and <= 599 ? status : StatusCodes.Status502BadGateway;
                return (null, shown, $"answered {status}");
            }

            (BackendFailure read, PooledBuffer? answered) = await BackendCaller.ReadBodyAsync(response.Content, service.Hosts.Budget, maxBodyBytes, exchange.Budget).ConfigureAwait(false);
            if (answered is not { } answer)
            {
                return Failed(read == BackendFailure.Timeout && exchange.Context.RequestAborted.IsCancellationRequested ? BackendFailure.Canceled : read, reading: true);
            }

            ReadOnlySpan<byte> bytes = answer.WrittenSpan;
            if (bytes.Trim(" \t\r\n"u8).IsEmpty)
            {
                answer.Dispose();
                return (null, status, null);
            }

            if (!JsonObjectBody.TryGetObject(bytes, out int start, out int length, service.Hosts.MaxJsonDepth))
            {
                answer.Dispose();
                return Failed(BackendFailure.InvalidBody);
            }

            var slice = new PooledBuffer(length);
            slice.Write(bytes.Slice(start, length));
            answer.Dispose();
            return (slice, status, null);
        }
    }

    private static (PooledBuffer? Answer, int Status, string? Error) Failed(BackendFailure failure, bool reading = false)
    {
        (int status, string error) = FailureAnswers.ProxyChainFailure(failure, reading);
        return (null, status, error);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Components.RequestTemplates;
using Gateway.Components.Shaping;
using Gateway.Http;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Shaping;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The stages of one backend call, each on its own: building the HTTP request, following a redirect, reading the
/// body, the status rules, decoding and shaping (docs/configuration.md, decoding and backend).
/// <see cref="Proxy.RequestPipeline.CallBackendAsync"/> runs them in order.
/// </summary>
internal static class BackendCaller
{
    internal static readonly UriCreationOptions VerbatimUri = new()
    {
        // The URL was percent-encoded by the gateway on purpose; keep it byte for byte (no unescaping, no dot-segment removal).
        DangerousDisablePathAndQueryCanonicalization = true,
    };

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal const int MaxRedirects = 10;

    internal static Uri? RedirectTarget(HttpResponseMessage response, Uri current)
    {
        int code = (int)response.StatusCode;
        if (code is not (301 or 302 or 303 or 307 or 308) || response.Headers.Location is not { } location)
        {
            return null;
        }

        Uri? target = location;
        if (!location.IsAbsoluteUri && !Uri.TryCreate(current, location, out target))
        {
            return null;
        }

        bool sameOrigin = string.Equals(target.Scheme, current.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(target.IdnHost, current.IdnHost, StringComparison.OrdinalIgnoreCase)
            && target.Port == current.Port;
        return sameOrigin ? target : null;
    }

    /// <summary>The values of the response headers later steps read, by position; null when none are read.</summary>
    internal static string?[]? Capture(HttpResponseMessage response, string[]? names)
    {
        if (names is null)
        {
            return null;
        }

        var values = new string?[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (response.Headers.TryGetValues(names[i], out IEnumerable<string>? found) || response.Content.Headers.TryGetValues(names[i], out found))
            {
                values[i] = string.Join(", ", found);
            }
        }

        return values;
    }

    /// <summary>
    /// The values of the response headers the client receives (<c>gateway/response.headers</c>), by position, each line
    /// kept as the backend wrote it (two <c>Set-Cookie</c> lines stay two); a value a response header cannot carry (<see cref="HeaderRules"/>)
    /// is left out, as no-op's relay leaves it out. Null when the endpoint passes none.
    /// </summary>
    internal static StringValues[]? Relayed(HttpResponseMessage response, string[]? names)
    {
        if (names is null)
        {
            return null;
        }

        // As received: the HTTP client's parsed view would rewrite values ("private, max-age=60" as "max-age=60, private").
        var values = new StringValues[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (response.Headers.NonValidated.TryGetValues(names[i], out HeaderStringValues found)
                || response.Content.Headers.NonValidated.TryGetValues(names[i], out found))
            {
                var lines = new string[found.Count];
                int count = 0;
                foreach (string line in found)
                {
                    lines[count++] = line;
                }

                if (HeaderRules.AreValidValues(lines))
                {
                    values[i] = new StringValues(lines);
                }
            }
        }

        return values;
    }

    /// <summary>Decodes (docs/configuration.md, decoding) and shapes a successful body; takes ownership of <paramref name="raw"/>.</summary>
    internal static BackendResult Decode(BackendDefinition backend, int status, PooledBuffer raw, Uri uri)
    {
        // A pooled buffer left undisposed by a throwing stage is only garbage; the raw body holds budget, so it goes back.
        try
        {
            return DecodeAndShape(backend, status, raw, uri);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    private static BackendResult DecodeAndShape(BackendDefinition backend, int status, PooledBuffer raw, Uri uri)
    {
        backend.Hosts.Probe(StepStage.Decode, uri);
        // The common case, a plain JSON object: validate it where it was read, without copying it.
        if (backend.Encoding == BackendEncoding.Json && !backend.IsCollection)
        {
            if (!JsonObjectBody.TryGetObject(raw.WrittenSpan, out int start, out int length, backend.Hosts.MaxJsonDepth))
            {
                raw.Dispose();
                return BackendResult.Failed(BackendFailure.InvalidBody, status);
            }

            if (backend.Shaping is null)
            {
                return BackendResult.Success(status, raw, start, length);
            }

            backend.Hosts.Probe(StepStage.Shape, uri);
            var shapedObject = new PooledBuffer(length);
            backend.Shaping.Apply(raw.WrittenSpan.Slice(start, length), shapedObject);
            raw.Dispose();
            return BackendResult.Success(status, shapedObject);
        }

        var decoded = new PooledBuffer(Math.Max(raw.Length, 256));
        bool ok = ResponseDecoder.TryDecode(backend.Encoding, backend.IsCollection, raw.WrittenSpan, decoded, backend.Hosts.MaxJsonDepth);
        raw.Dispose();
        if (!ok)
        {
            decoded.Dispose();
            return BackendResult.Failed(BackendFailure.InvalidBody, status);
        }

        if (backend.Shaping is null)
        {
            return BackendResult.Success(status, decoded);
        }

        backend.Hosts.Probe(StepStage.Shape, uri);
        var shaped = new PooledBuffer(decoded.Length);
        backend.Shaping.Apply(decoded.WrittenSpan, shaped);
        decoded.Dispose();
        return BackendResult.Success(status, shaped);
    }

    /// <summary>A status other than 200/201, with the backend's error options applied (docs/configuration.md, errors).</summary>
    internal static BackendResult FailedStatus(BackendDefinition backend, int status, PooledBuffer body, string? contentType)
    {
        if (backend.ErrorDetailsKey is not null)
        {
            // return_error_details: the failure becomes data, {"error_alias": {...}}, and the answer is incomplete.
            var data = new PooledBuffer();
            using (var writer = new Utf8JsonWriter(data, s_writerOptions))
            {
                writer.WriteStartObject();
                writer.WriteStartObject(backend.ErrorDetailsKey);
                writer.WriteNumber("http_status_code"u8, status);
                if (body.Length > 0)
                {
                    writer.WriteString("http_body"u8, Encoding.UTF8.GetString(body.WrittenSpan));
                }

                if (!string.IsNullOrEmpty(contentType))
                {
                    writer.WriteString("http_body_encoding"u8, contentType);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            body.Dispose();
            return BackendResult.Success(status, data, complete: false);
        }

        if (backend.ReturnErrorCode)
        {
            return BackendResult.FailedWithBody(status, body, contentType);
        }

        body.Dispose();
        return BackendResult.Failed(BackendFailure.Status, status);
    }

    /// <summary>
    /// Reads a whole body. A body over <paramref name="maxBodyBytes"/> fails as soon as its declared or read length
    /// shows it, without buffering past the limit; one that the gateway-wide <paramref name="budget"/> cannot hold
    /// fails with <see cref="BackendFailure.BufferLimit"/>. The buffer is returned only on success.
    /// </summary>
    internal static async Task<(BackendFailure Failure, PooledBuffer? Body)> ReadBodyAsync(HttpContent content, BufferBudget budget, int maxBodyBytes, CancellationToken cancellation)
    {
        long? declared = content.Headers.ContentLength;
        if (declared > maxBodyBytes)
        {
            return (BackendFailure.BodyTooLarge, null);
        }

        var body = new BodyBuffer(budget, maxBodyBytes);
        try
        {
            Stream stream = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (true)
                {
                    // A declared length sizes the buffer once (plus the byte that would show it lied).
                    if (!body.TryGetMemory(declared is > 0 ? Math.Max(declared.Value - body.Length, 0) : 0, out Memory<byte> memory))
                    {
                        return (BackendFailure.BufferLimit, null);
                    }

                    int read = await stream.ReadAsync(memory, cancellation).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return body.TryDetach(out PooledBuffer? whole) ? (BackendFailure.None, whole) : (BackendFailure.BufferLimit, null);
                    }

                    body.Advance(read);
                    if (body.Length > maxBodyBytes)
                    {
                        return (BackendFailure.BodyTooLarge, null);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (BackendFailure.Timeout, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (BackendFailure.Transport, null);
        }
        finally
        {
            // After Detach this returns nothing: the body's arrays moved to the result.
            body.Dispose();
        }
    }

    /// <summary>
    /// The client's <c>Content-Type</c> when this backend forwards it: the endpoint's list allowed it and the backend's
    /// own list does too, or the gateway made the body itself (proxy-chain). Null when there is none or it does not parse.
    /// </summary>
    private static MediaTypeHeaderValue? ForwardedContentType(ForwardedRequest client, ForwardingList? filter) =>
        client.ContentType is not null && (client.ContentTypeIsOwn || filter is null || filter.Allows("Content-Type")) && MediaTypeHeaderValue.TryParse(client.ContentType, out MediaTypeHeaderValue? type)
            ? type
            : null;

    /// <summary>
    /// The headers every backend request carries (docs/configuration.md, forwarding): the client headers the endpoint forwards, then
    /// X-Forwarded-For / X-Forwarded-Host and the gateway's User-Agent (or the client's, plus X-Forwarded-Via), then
    /// the backend's own filter. The client body, when there is one, goes to every backend except GET and HEAD ones, with
    /// its length; a forwarded Content-Type goes without one too.
    /// </summary>
    internal static void AddHeadersAndBody(ForwardedRequest client, BackendDefinition backend, BackendRequest? built, HttpRequestMessage request, bool withBody)
    {
        ForwardingList? filter = backend.InputHeaders;
        bool userAgentForwarded = false;
        foreach (KeyValuePair<string, StringValues> header in client.Headers)
        {
            if (filter is not null && !filter.Allows(header.Key))
            {
                continue;
            }

            userAgentForwarded |= string.Equals(header.Key, "User-Agent", StringComparison.OrdinalIgnoreCase);
            request.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string>)header.Value!);
        }

        if (client.ClientIp is not null && (filter is null || filter.Allows("X-Forwarded-For")))
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", client.ClientIp);
        }

        if (client.Host is not null && (filter is null || filter.Allows("X-Forwarded-Host")))
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", client.Host);
        }

        if (userAgentForwarded)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Via", ForwardedRequest.GatewayUserAgent);
        }
        else if (filter is null || filter.Allows("User-Agent"))
        {
            request.Headers.TryAddWithoutValidation("User-Agent", ForwardedRequest.GatewayUserAgent);
        }

        // Headers the gateway sets on purpose (proxy-chain's Authorization, propagated claims, header templates) replace
        // forwarded ones: a client can never add a value of its own to them.
        IReadOnlyList<KeyValuePair<string, string?>> overrides = client.Overrides;
        foreach (KeyValuePair<string, string?> header in overrides)
        {
            request.Headers.Remove(header.Key);
        }

        foreach (KeyValuePair<string, string?> header in overrides)
        {
            if (header.Value is not null)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        if (built is not null)
        {
            foreach (KeyValuePair<string, string> header in built.Headers)
            {
                if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                request.Headers.Remove(header.Key);
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        if (!withBody)
        {
            return;
        }

        if (built?.Body is { } own)
        {
            request.Content = own.CreateContent();
            request.Content.Headers.ContentType = built.ContentType;
        }
        else if (client.Body is { } body && !IsBodiless(request.Method))
        {
            HttpContent content = body.CreateContent();
            if (ForwardedContentType(client, filter) is { } type)
            {
                content.Headers.ContentType = type;
            }

            request.Content = content;
        }
        else if (ForwardedContentType(client, filter) is { } bodilessType)
        {
            // KrakenD forwards the client's Content-Type without a body too (a GET with Content-Type: application/json).
            // The HTTP client sends it only as a content header, so the request gets empty content: "Content-Length: 0"
            // and no body bytes on the wire, never a chunked body. Like any content, it turns off the client's re-send
            // on a closed idle connection for this request (docs/compatibility.md, retries).
            request.Content = new ByteArrayContent([]);
            request.Content.Headers.ContentType = bodilessType;
        }
        else if (!HttpRules.Contains(HttpRules.IdempotentMethods, request.Method.Method))
        {
            // The HTTP client re-sends a request without content when the connection closes before any byte of the
            // answer (it assumes the backend closed an idle connection). For POST and PATCH that could run the
            // operation twice, so they always carry content: an empty one, which is the same "Content-Length: 0" on
            // the wire and turns that retry off (docs/compatibility.md, retries).
            request.Content = new ByteArrayContent([]);
        }

        // A Content-Type template names the body's type, whichever body is sent.
        if (request.Content is not null && built is not null)
        {
            foreach (KeyValuePair<string, string> header in built.Headers)
            {
                if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    request.Content.Headers.Remove("Content-Type");
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", header.Value);
                }
            }
        }
    }

    /// <summary>
    /// GET and HEAD steps never carry the client's body (docs/compatibility.md, request bodies): a backend that does not
    /// read a GET body leaves its bytes on the pooled connection, where they would be read as the next request, and a
    /// body on GET is a request-smuggling shape. KrakenD forwards it to every backend.
    /// </summary>
    private static bool IsBodiless(HttpMethod method) => method == HttpMethod.Get || method == HttpMethod.Head;
}

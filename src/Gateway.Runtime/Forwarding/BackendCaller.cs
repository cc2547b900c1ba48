using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Shaping;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// Sends one request to a backend and turns the answer into a <see cref="BackendResult"/>: status rules
/// (krakend.md §6.7), decoding (§6.8) and shaping (§6.9-6.10).
/// </summary>
internal static class BackendCaller
{
    private static readonly UriCreationOptions s_verbatimUri = new()
    {
        // The URL was percent-encoded by the gateway on purpose; keep it byte for byte (no unescaping, no dot-segment removal).
        DangerousDisablePathAndQueryCanonicalization = true,
    };

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<BackendResult> CallAsync(ForwardedRequest client, BackendDefinition backend, string url, int maxBodyBytes, bool passThrough, CancellationToken clientAborted, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(url, in s_verbatimUri, out Uri? uri))
        {
            return BackendResult.Failed(BackendFailure.UnresolvedPlaceholder);
        }

        using var request = new HttpRequestMessage(backend.Method, uri);
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        AddHeadersAndBody(client, backend, request);

        HttpResponseMessage response;
        try
        {
            response = await backend.Hosts.Invoker.SendAsync(request, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return BackendResult.Failed(clientAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout);
        }
        catch (HttpRequestException)
        {
            return BackendResult.Failed(BackendFailure.Transport);
        }

        // no-op: status, headers and body go to the client untouched, streamed. Behind another renderer a no-op
        // backend contributes no data, whatever it answered (krakend.md §6.8).
        if (backend.Encoding == BackendEncoding.NoOp)
        {
            if (passThrough)
            {
                return BackendResult.Streamed(response);
            }

            response.Dispose();
            var empty = new PooledBuffer(16);
            empty.Write("{}"u8);
            return BackendResult.Success((int)response.StatusCode, empty);
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            var raw = new PooledBuffer();
            BackendFailure read = await ReadBodyAsync(response.Content, raw, maxBodyBytes, cancellation).ConfigureAwait(false);
            if (read != BackendFailure.None)
            {
                raw.Dispose();
                return BackendResult.Failed(read == BackendFailure.Timeout && clientAborted.IsCancellationRequested ? BackendFailure.Canceled : read, status);
            }

            // Only 200 and 201 are successes (krakend.md §6.7).
            if (status != 200 && status != 201)
            {
                return FailedStatus(backend, status, raw, response.Content.Headers.ContentType?.ToString());
            }

            // The common case, a plain JSON object: validate it where it was read, without copying it.
            if (backend.Encoding == BackendEncoding.Json && !backend.IsCollection)
            {
                if (!JsonObjectBody.TryGetObject(raw.WrittenSpan, out int start, out int length))
                {
                    raw.Dispose();
                    return BackendResult.Failed(BackendFailure.InvalidBody, status);
                }

                if (backend.Shaping is null)
                {
                    return BackendResult.Success(status, raw, start, length);
                }

                var shapedObject = new PooledBuffer(length);
                backend.Shaping.Apply(raw.WrittenSpan.Slice(start, length), shapedObject);
                raw.Dispose();
                return BackendResult.Success(status, shapedObject);
            }

            var decoded = new PooledBuffer(Math.Max(raw.Length, 256));
            bool ok = ResponseDecoder.TryDecode(backend.Encoding, backend.IsCollection, raw.WrittenSpan, decoded);
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

            var shaped = new PooledBuffer(decoded.Length);
            backend.Shaping.Apply(decoded.WrittenSpan, shaped);
            decoded.Dispose();
            return BackendResult.Success(status, shaped);
        }
    }

    /// <summary>A status other than 200/201, with the backend's error options applied (krakend.md §9.2, §9.3).</summary>
    private static BackendResult FailedStatus(BackendDefinition backend, int status, PooledBuffer body, string? contentType)
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

    private static async Task<BackendFailure> ReadBodyAsync(HttpContent content, PooledBuffer buffer, int maxBodyBytes, CancellationToken cancellation)
    {
        if (content.Headers.ContentLength > maxBodyBytes)
        {
            return BackendFailure.BodyTooLarge;
        }

        try
        {
            Stream body = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    Memory<byte> memory = buffer.GetMemory(content.Headers.ContentLength is > 0 and < 1 << 20 ? (int)content.Headers.ContentLength.Value - buffer.Length + 1 : 4096);
                    int read = await body.ReadAsync(memory, cancellation).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return BackendFailure.None;
                    }

                    buffer.Advance(read);
                    if (buffer.Length > maxBodyBytes)
                    {
                        return BackendFailure.BodyTooLarge;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            return BackendFailure.Timeout;
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return BackendFailure.Transport;
        }
    }

    /// <summary>
    /// The headers every backend request carries (krakend.md §6.3): the client headers the endpoint forwards, then
    /// X-Forwarded-For / X-Forwarded-Host and the gateway's User-Agent (or the client's, plus X-Forwarded-Via), then
    /// the backend's own filter. The client body, when there is one, goes to every backend with its length.
    /// </summary>
    private static void AddHeadersAndBody(ForwardedRequest client, BackendDefinition backend, HttpRequestMessage request)
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

        if (client.HasBody)
        {
            var content = new ReadOnlyMemoryContent(client.Body);
            if (client.ContentType is not null && (filter is null || filter.Allows("Content-Type")) && MediaTypeHeaderValue.TryParse(client.ContentType, out MediaTypeHeaderValue? type))
            {
                content.Headers.ContentType = type;
            }

            request.Content = content;
        }
    }
}

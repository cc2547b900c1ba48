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
    /// <summary>The body of a backend request: none (<see cref="HasContent"/> false), empty (no <see cref="Body"/>), or shared bytes; its type as parsed, or a template's text.</summary>
    internal readonly record struct OutgoingBody(SharedBody? Body, bool HasContent, string? Type, string? TypeTemplate);

    internal static readonly UriCreationOptions VerbatimUri = new()
    {
        // The URL was percent-encoded by the gateway on purpose; keep it byte for byte (no unescaping, no dot-segment removal).
        DangerousDisablePathAndQueryCanonicalization = true,
    };

    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal const int MaxRedirects = 10;

    internal static Uri? RedirectTarget(HttpResponseMessage response, Uri current) => RedirectTarget((int)response.StatusCode, response.Headers.Location, current);

    /// <summary>301, 302 and 303 continue as GET without a body, as HTTP clients do (HEAD stays HEAD); 307 and 308 repeat the method and body.</summary>
    internal static bool RedirectsAsGet(int code, string method) => code is 301 or 302 or 303 && method != "HEAD";

    /// <summary>Where a redirect leads when the gateway follows it: a same-origin target; null for any other answer.</summary>
    internal static Uri? RedirectTarget(int code, Uri? location, Uri current)
    {
        if (code is not (301 or 302 or 303 or 307 or 308) || location is null)
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

    /// <summary>The values of the response headers later steps read, by position (lines joined with ", "); null when none are read.</summary>
    internal static string?[]? Capture(BackendResponse response, string[]? names)
    {
        if (names is null)
        {
            return null;
        }

        var values = new string?[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (response.TryGetLines(names[i], out StringValues lines))
            {
                values[i] = lines.Count == 1 ? lines[0] : string.Join(", ", (IEnumerable<string?>)lines);
            }
        }

        return values;
    }

    /// <summary>
    /// The values of the response headers the client receives (<c>gateway/response.headers</c>), by position, each line
    /// kept as the backend wrote it (two <c>Set-Cookie</c> lines stay two); a value a response header cannot carry (<see cref="HeaderRules"/>)
    /// is left out, as no-op's relay leaves it out. Null when the endpoint passes none.
    /// </summary>
    internal static StringValues[]? Relayed(BackendResponse response, string[]? names)
    {
        if (names is null)
        {
            return null;
        }

        var values = new StringValues[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (response.TryGetLines(names[i], out StringValues lines) && HeaderRules.AreValidValues(lines))
            {
                values[i] = lines;
            }
        }

        return values;
    }

    /// <summary>Decodes (docs/configuration.md, decoding) and shapes a successful body; takes ownership of <paramref name="raw"/>.</summary>
    internal static BackendResult Decode(BackendDefinition backend, int status, PooledBuffer raw, BackendResponse response)
    {
        // A pooled buffer left undisposed by a throwing stage is only garbage; the raw body holds budget, so it goes back.
        try
        {
            return DecodeAndShape(backend, status, raw, response);
        }
        catch
        {
            raw.Dispose();
            throw;
        }
    }

    private static BackendResult DecodeAndShape(BackendDefinition backend, int status, PooledBuffer raw, BackendResponse response)
    {
        backend.Hosts.Probe(StepStage.Decode, response);
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

            backend.Hosts.Probe(StepStage.Shape, response);
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

        backend.Hosts.Probe(StepStage.Shape, response);
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
    /// The headers every backend request carries (docs/configuration.md, forwarding), whichever client sends it: the client
    /// headers the endpoint forwards, then X-Forwarded-For / X-Forwarded-Host and the gateway's User-Agent (or the
    /// client's, plus X-Forwarded-Via), after the backend's own filter; then the headers the gateway sets on purpose
    /// (proxy-chain's Authorization, propagated claims: <see cref="ForwardedRequest.Overrides"/>), then the backend's header
    /// templates. A name set on purpose replaces every earlier line of that name, so a client can never add a value of
    /// its own to it; a template set twice keeps its last value. Content headers (Content-Type and the like) are not
    /// among them: the body's own header are written with it (<see cref="ChooseBody"/>).
    /// </summary>
    internal static void ForwardHeaders<TSink>(ForwardedRequest client, BackendDefinition backend, BackendRequest? built, ref TSink sink)
        where TSink : struct, IHeaderSink
    {
        ForwardingList? filter = backend.InputHeaders;
        IReadOnlyList<KeyValuePair<string, string?>> overrides = client.Overrides;
        IReadOnlyList<KeyValuePair<string, string>> templates = built is null ? [] : built.Headers;
        bool userAgentForwarded = false;
        foreach (KeyValuePair<string, StringValues> header in client.HeaderValues)
        {
            if (filter is not null && !filter.Allows(header.Key))
            {
                continue;
            }

            bool userAgent = string.Equals(header.Key, "User-Agent", StringComparison.OrdinalIgnoreCase);
            userAgentForwarded |= userAgent;
            if (!IsContentHeader(header.Key) && !SetOnPurpose(header.Key, overrides, templates))
            {
                sink.Add(header.Key, header.Value, userAgent ? " " : string.Equals(header.Key, "Cookie", StringComparison.OrdinalIgnoreCase) ? "; " : ", ");
            }
        }

        if (client.ClientIp is not null && (filter is null || filter.Allows("X-Forwarded-For")) && !SetOnPurpose("X-Forwarded-For", overrides, templates))
        {
            sink.Add("X-Forwarded-For", client.ClientIp);
        }

        if (client.Host is not null && (filter is null || filter.Allows("X-Forwarded-Host")) && !SetOnPurpose("X-Forwarded-Host", overrides, templates))
        {
            sink.Add("X-Forwarded-Host", client.Host);
        }

        if (userAgentForwarded)
        {
            if (!SetOnPurpose("X-Forwarded-Via", overrides, templates))
            {
                sink.Add("X-Forwarded-Via", ForwardedRequest.GatewayUserAgent);
            }
        }
        else if ((filter is null || filter.Allows("User-Agent")) && !SetOnPurpose("User-Agent", overrides, templates))
        {
            sink.Add("User-Agent", ForwardedRequest.GatewayUserAgent);
        }

        for (int i = 0; i < overrides.Count; i++)
        {
            KeyValuePair<string, string?> header = overrides[i];
            if (header.Value is null || IsContentHeader(header.Key) || IsTemplated(header.Key, templates, 0) || IsOverriddenBefore(header.Key, overrides, i))
            {
                continue;
            }

            // A name set more than once is one line with its values in order (RFC 9110 §5.3), as .NET's client writes it.
            StringValues values = header.Value;
            for (int j = i + 1; j < overrides.Count; j++)
            {
                if (overrides[j].Value is { } more && string.Equals(overrides[j].Key, header.Key, StringComparison.OrdinalIgnoreCase))
                {
                    values = StringValues.Concat(values, more);
                }
            }

            sink.Add(header.Key, values, ", ");
        }

        for (int i = 0; i < templates.Count; i++)
        {
            KeyValuePair<string, string> header = templates[i];
            if (!IsContentHeader(header.Key) && !IsTemplated(header.Key, templates, i + 1))
            {
                sink.Add(header.Key, header.Value);
            }
        }
    }

    /// <summary>
    /// Headers that describe a body (RFC 9110 §8): written with the body the gateway sends, never copied from a list of
    /// request headers (.NET's client refuses them there, and the gateway's own client does as it does).
    /// </summary>
    internal static bool IsContentHeader(string name) => name.Length >= 5 && (name[0] | 0x20) switch
    {
        'c' => name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && s_contentHeaders.Contains(name),
        'a' or 'e' or 'l' => s_contentHeaders.Contains(name),
        _ => false,
    };

    private static readonly HashSet<string> s_contentHeaders = new(
        ["Allow", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length", "Content-Location", "Content-MD5", "Content-Range", "Content-Type", "Expires", "Last-Modified"],
        StringComparer.OrdinalIgnoreCase);

    private static bool SetOnPurpose(string name, IReadOnlyList<KeyValuePair<string, string?>> overrides, IReadOnlyList<KeyValuePair<string, string>> templates)
    {
        foreach (KeyValuePair<string, string?> header in overrides)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return IsTemplated(name, templates, 0);
    }

    /// <summary>An override with a value before position <paramref name="before"/> sets <paramref name="name"/> (its line holds this one's value).</summary>
    private static bool IsOverriddenBefore(string name, IReadOnlyList<KeyValuePair<string, string?>> overrides, int before)
    {
        for (int i = 0; i < before; i++)
        {
            if (overrides[i].Value is not null && string.Equals(overrides[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A header template from position <paramref name="from"/> on sets <paramref name="name"/>. Only asked of names that
    /// are not content headers (a Content-Type template is the body's, <see cref="ChooseBody"/>).
    /// </summary>
    private static bool IsTemplated(string name, IReadOnlyList<KeyValuePair<string, string>> templates, int from)
    {
        for (int i = from; i < templates.Count; i++)
        {
            if (string.Equals(templates[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The body a backend request carries and its content headers. The client body, when there is one, goes to every
    /// backend except GET and HEAD ones, with its length; a forwarded Content-Type goes without one too; a template's
    /// body replaces it; POST and PATCH always carry one (an empty one at least).
    /// </summary>
    internal static OutgoingBody ChooseBody(ForwardedRequest client, BackendDefinition backend, BackendRequest? built, string method, bool withBody)
    {
        if (!withBody)
        {
            return default;
        }

        OutgoingBody chosen;
        if (built?.Body is { } own)
        {
            chosen = new OutgoingBody(own, true, built.ContentType?.ToString(), null);
        }
        else if (client.Body is { } body && !IsBodiless(method))
        {
            chosen = new OutgoingBody(body, true, ForwardedContentType(client, backend.InputHeaders)?.ToString(), null);
        }
        else if (ForwardedContentType(client, backend.InputHeaders) is { } bodilessType)
        {
            // KrakenD forwards the client's Content-Type without a body too (a GET with Content-Type: application/json):
            // "Content-Length: 0" and no body bytes on the wire, never a chunked body. Like any content, it turns off
            // .NET's client's re-send on a closed idle connection for this request (docs/compatibility.md, retries).
            chosen = new OutgoingBody(null, true, bodilessType.ToString(), null);
        }
        else if (!HttpRules.Contains(HttpRules.IdempotentMethods, method))
        {
            // An HTTP client may re-send a request without content when the connection closes before any byte of the
            // answer (it assumes the backend closed an idle connection). For POST and PATCH that could run the
            // operation twice, so they always carry content: an empty one, which is the same "Content-Length: 0" on
            // the wire and turns that retry off (docs/compatibility.md, retries).
            chosen = new OutgoingBody(null, true, null, null);
        }
        else
        {
            return default;
        }

        // A Content-Type template names the body's type, whichever body is sent (the last one, as set in order).
        if (built is not null)
        {
            foreach (KeyValuePair<string, string> header in built.Headers)
            {
                if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    chosen = chosen with { TypeTemplate = header.Value };
                }
            }
        }

        return chosen;
    }

    /// <summary>
    /// Adds the forwarded headers and the body (<see cref="ForwardHeaders"/>, <see cref="ChooseBody"/>) to a request
    /// of .NET's client.
    /// </summary>
    internal static void AddHeadersAndBody(ForwardedRequest client, BackendDefinition backend, BackendRequest? built, HttpRequestMessage request, bool withBody)
    {
        var sink = new RequestMessageSink(request);
        ForwardHeaders(client, backend, built, ref sink);
        OutgoingBody body = ChooseBody(client, backend, built, request.Method.Method, withBody);
        if (!body.HasContent)
        {
            return;
        }

        request.Content = body.Body is { } shared ? shared.CreateContent() : new ByteArrayContent([]);
        if (body.TypeTemplate is { } template)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", template);
        }
        else if (body.Type is { } type)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
    }

    /// <summary>Where <see cref="ForwardHeaders"/> puts each header line.</summary>
    internal interface IHeaderSink
    {
        void Add(string name, string value);

        /// <summary>A forwarded client header; its lines joined with <paramref name="separator"/> when there are several.</summary>
        void Add(string name, StringValues values, string separator);
    }

    private readonly struct RequestMessageSink(HttpRequestMessage request) : IHeaderSink
    {
        public void Add(string name, string value) => request.Headers.TryAddWithoutValidation(name, value);

        public void Add(string name, StringValues values, string separator) => request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
    }

    /// <summary>
    /// GET and HEAD steps never carry the client's body (docs/compatibility.md, request bodies): a backend that does not
    /// read a GET body leaves its bytes on the pooled connection, where they would be read as the next request, and a
    /// body on GET is a request-smuggling shape. KrakenD forwards it to every backend.
    /// </summary>
    private static bool IsBodiless(string method) => method is "GET" or "HEAD";
}

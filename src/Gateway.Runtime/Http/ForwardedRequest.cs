using Gateway.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// What the client's request contributes to every backend request, worked out once per request (docs/configuration.md,
/// forwarding): the allowed query parameters, the allowed headers, the body, and the client's address and host.
/// </summary>
public sealed class ForwardedRequest : IDisposable
{
    public const string GatewayUserAgent = "Gateway/1.0";

    /// <summary>Never copied from the client (<see cref="HttpRules.NeverForwarded"/>).</summary>
    private static readonly HashSet<string> s_neverForwarded = new(HttpRules.NeverForwarded, StringComparer.OrdinalIgnoreCase);

    private SharedBody? _body;

    // Null while empty: most requests forward neither (two objects less per request).
    private List<KeyValuePair<string, string>>? _query;
    private List<KeyValuePair<string, StringValues>>? _headers;

    private ForwardedRequest(List<KeyValuePair<string, string>>? query, List<KeyValuePair<string, StringValues>>? headers, string? clientIp, string? host)
    {
        _query = query;
        _headers = headers;
        ClientIp = clientIp;
        Host = host;
    }

    /// <summary>Allowed query parameters, keys sorted (ordinal), values in the client's order; a stage may change them.</summary>
    public List<KeyValuePair<string, string>> Query => _query ??= [];

    /// <summary>The allowed query parameters, to read (<see cref="Query"/>'s order).</summary>
    public ReadOnlySpan<KeyValuePair<string, string>> QueryParameters => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_query);

    /// <summary>Allowed client headers, including <c>User-Agent</c> and <c>Content-Type</c> when allowed.</summary>
    public List<KeyValuePair<string, StringValues>> Headers => _headers ??= [];

    /// <summary>The allowed client headers, to read.</summary>
    public ReadOnlySpan<KeyValuePair<string, StringValues>> HeaderValues => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_headers);

    /// <summary>
    /// The client's address, sent to backends as <c>X-Forwarded-For</c>: the connection's peer, or what a trusted proxy
    /// said (<see cref="ClientAddressPolicy"/>). Null when the connection has none. Stages that work per client (a
    /// rate limit by address, say) read it here.
    /// </summary>
    public string? ClientIp { get; }

    public string? Host { get; }

    /// <summary>The body every backend receives (the client's, or proxy-chain's object), or null when there is none.</summary>
    public SharedBody? Body => _body;

    /// <summary>The body's bytes; empty when there is none. Valid until this request is disposed.</summary>
    public ReadOnlySpan<byte> BodySpan => _body is null ? default : _body.Memory.Span;

    public bool HasBody => _body is not null;

    /// <summary>The client's <c>Content-Type</c> when the endpoint forwards it.</summary>
    public string? ContentType { get; private set; }

    /// <summary>The body was replaced by the gateway (proxy-chain): its content type is sent whatever the filters say.</summary>
    public bool ContentTypeIsOwn { get; private set; }

    private List<KeyValuePair<string, string?>>? _overrides;

    /// <summary>
    /// Headers the gateway sets on every backend request, after the forwarding filters (proxy-chain's token, claims of a
    /// validated token). Each name replaces whatever the client sent under it; a name listed twice is sent twice; a
    /// null value only removes the client's.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Overrides => (IReadOnlyList<KeyValuePair<string, string?>>?)_overrides ?? [];

    public void SetOverride(string name, string? value) => (_overrides ??= new(1)).Add(new(name, value));

    /// <summary>Replaces the body every backend receives with a copy of <paramref name="body"/>.</summary>
    public void ReplaceBody(ReadOnlySpan<byte> body, string contentType)
    {
        SharedBody replacement = SharedBody.Copy(body);
        Dispose();
        _body = replacement;
        ContentType = contentType;
        ContentTypeIsOwn = true;
    }

    /// <summary>A script replaced the body (<c>modifier/lua-*</c>): the backends receive these bytes, with the client's content type.</summary>
    public void ReplaceBody(ReadOnlySpan<byte> body)
    {
        SharedBody replacement = SharedBody.Copy(body);
        Dispose();
        _body = replacement;
    }

    /// <summary>
    /// A script set a header the backends receive (<paramref name="values"/> empty removes it); <c>Content-Type</c> is the
    /// body's type. Values a header line cannot carry are refused, as for the client's own headers.
    /// </summary>
    public bool SetHeader(string name, StringValues values)
    {
        if (!HttpRules.IsHeaderName(name) || s_neverForwarded.Contains(name) || !HeaderRules.AreValidValues(values))
        {
            return false;
        }

        if (string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase))
        {
            ContentType = values.Count == 0 ? null : values.ToString();
            return true;
        }

        Headers.RemoveAll(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase));
        if (values.Count > 0)
        {
            Headers.Add(new(name, values));
        }

        return true;
    }

    /// <summary>Reads what the backends need from the client request. Null when the body exceeds the limit (the caller answers 413).</summary>
    /// <param name="context">The request.</param>
    /// <param name="endpoint">The endpoint's forwarding rules.</param>
    /// <param name="maxBodyBytes">The largest body accepted.</param>
    /// <param name="bodyTime">
    /// How long the body may take to arrive: the endpoint's timeout, which bounds the whole request. Past it, a
    /// <see cref="BadHttpRequestException"/> with 408 (the client's fault; the request guard answers it). Infinite when
    /// not given.
    /// </param>
    public static async ValueTask<ForwardedRequest?> ReadAsync(HttpContext context, EndpointDefinition endpoint, int maxBodyBytes, TimeSpan bodyTime = default)
    {
        HttpRequest request = context.Request;
        List<KeyValuePair<string, string>>? query = null;
        if (request.QueryString.HasValue)
        {
            foreach (KeyValuePair<string, StringValues> pair in request.Query)
            {
                if (endpoint.InputQueryStrings.Allows(pair.Key))
                {
                    foreach (string? value in pair.Value)
                    {
                        (query ??= []).Add(new(pair.Key, value ?? string.Empty));
                    }
                }
            }

            // KrakenD appends forwarded parameters with their keys sorted (docs/configuration.md, forwarding), values of
            // one key in the client's order: a stable sort. List.Sort is not stable; the few parameters of a usual
            // request are sorted in place by insertion (nothing allocated), a long list by position-keyed ordering
            // (insertion would be quadratic in what a client sends).
            if (query is { Count: > 1 and <= 16 })
            {
                for (int i = 1; i < query.Count; i++)
                {
                    KeyValuePair<string, string> moving = query[i];
                    int j = i - 1;
                    for (; j >= 0 && string.CompareOrdinal(query[j].Key, moving.Key) > 0; j--)
                    {
                        query[j + 1] = query[j];
                    }

                    query[j + 1] = moving;
                }
            }
            else if (query is { Count: > 16 })
            {
                KeyValuePair<string, string>[] ordered = query.Select((pair, position) => (pair, position))
                    .OrderBy(x => x.pair.Key, StringComparer.Ordinal).ThenBy(x => x.position).Select(x => x.pair).ToArray();
                query.Clear();
                query.AddRange(ordered);
            }
        }

        List<KeyValuePair<string, StringValues>>? headers = null;
        string? contentType = null;
        StringValues connection = request.Headers.Connection;
        foreach (KeyValuePair<string, StringValues> header in request.Headers)
        {
            // RFC 9110 §5.1: a field name is a token. Kestrel accepts control bytes in one ("Content\x01Type"), which a
            // server in front may have read as another header or refused: the request is refused, not repaired.
            if (!HttpRules.IsHeaderName(header.Key))
            {
                throw new BadHttpRequestException("a header name that is not a token", StatusCodes.Status400BadRequest);
            }

            if (s_neverForwarded.Contains(header.Key) || !endpoint.InputHeaders.Allows(header.Key) || NamedIn(connection, header.Key))
            {
                continue;
            }

            // A value with text a header line cannot carry (non-ASCII, control characters) is not forwarded: sending it
            // would fail the whole backend call for one header the backend may not even read (docs/compatibility.md).
            if (!HeaderRules.AreValidValues(header.Value))
            {
                continue;
            }

            if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = header.Value.ToString();
                continue;
            }

            (headers ??= []).Add(header);
        }

        // The connection's peer, unless the configuration trusts proxies to tell the client's address (router.trusted_proxies).
        string? ip = endpoint.ClientAddresses is { } policy ? policy.ClientAddress(context) : ClientAddressPolicy.PeerAddress(context);
        string? host = request.Host.HasValue ? request.Host.Value : null;
        var forwarded = new ForwardedRequest(query, headers, ip, host) { ContentType = contentType };

        bool hasBody = request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
        if (hasBody && !await forwarded.ReadBodyAsync(request, maxBodyBytes, bodyTime).ConfigureAwait(false))
        {
            forwarded.Dispose();
            return null;
        }

        return forwarded;
    }

    private async Task<bool> ReadBodyAsync(HttpRequest request, int maxBodyBytes, TimeSpan bodyTime)
    {
        if (request.ContentLength > maxBodyBytes)
        {
            return false;
        }

        // A client that sends its body slowly (or stops half-way) must not hold the request past the endpoint's
        // timeout: Kestrel's body data rate, when on, acts only after its grace period and per second of average.
        CancellationToken aborted = request.HttpContext.RequestAborted;
        using CancellationTokenSource? upload = bodyTime > TimeSpan.Zero && bodyTime != Timeout.InfiniteTimeSpan ? CancellationTokenSource.CreateLinkedTokenSource(aborted) : null;
        upload?.CancelAfter(bodyTime);
        CancellationToken reading = upload?.Token ?? aborted;

        // Grows by doubling, but never past the limit plus the one byte that shows a body is too large.
        byte[] array = BufferPool.Rent(request.ContentLength is > 0 ? (int)request.ContentLength.Value + 1 : 4096);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == array.Length)
                {
                    byte[] larger = BufferPool.Rent((int)Math.Min((long)array.Length * 2, (long)maxBodyBytes + 1));
                    array.AsSpan(0, length).CopyTo(larger);
                    BufferPool.Return(array);
                    array = larger;
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(array.AsMemory(length), reading).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    throw new BadHttpRequestException("the request body did not arrive within the endpoint's timeout", StatusCodes.Status408RequestTimeout);
                }
                catch (IOException e) when (e is not BadHttpRequestException && !aborted.IsCancellationRequested)
                {
                    // Kestrel reports a malformed body as BadHttpRequestException, except a chunk size past 2^31, which
                    // overflows its arithmetic and comes as a bare IOException ("Bad chunk size data"). Still the
                    // client's fault: 400, not the guard's 500 (docs/reliability.md, request fuzzing).
                    throw new BadHttpRequestException("the request body is malformed: " + e.Message, StatusCodes.Status400BadRequest, e);
                }
                catch (InvalidOperationException e) when (!aborted.IsCancellationRequested)
                {
                    // And a trailer field with a NUL, CR or LF in its value comes as an InvalidOperationException
                    // ("Null characters are not allowed in request headers"): this loop is the body's only reader, so
                    // nothing else can throw it here.
                    throw new BadHttpRequestException("the request body is malformed: " + e.Message, StatusCodes.Status400BadRequest, e);
                }

                if (read == 0)
                {
                    _body = SharedBody.Create(array, length);
                    array = [];
                    return true;
                }

                length += read;
                if (length > maxBodyBytes)
                {
                    return false;
                }
            }
        }
        finally
        {
            BufferPool.Return(array);
        }
    }

    private static bool NamedIn(StringValues connection, string name)
    {
        foreach (string? value in connection)
        {
            foreach (string token in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(token, name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Gives up this request's reference to the body; calls still sending it keep theirs.</summary>
    public void Dispose()
    {
        SharedBody? body = _body;
        _body = null;
        body?.Release();
    }
}

using System.Net.Http.Headers;
using Gateway.Runtime.Http;

namespace Gateway.Components.RequestTemplates;

/// <summary>
/// What a backend sends besides its URL when its configuration builds the request (<c>"gateway/request"</c>): a body
/// of its own instead of the client's, and headers set from templates, which replace forwarded ones of the same name.
/// </summary>
public sealed class BackendRequest : IDisposable
{
    private SharedBody? _body;
    private List<KeyValuePair<string, string>>? _headers;

    /// <summary>The body to send, or null when the backend sends the client's.</summary>
    public SharedBody? Body => _body;

    public bool HasBody => _body is not null;

    public MediaTypeHeaderValue? ContentType { get; private set; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers => (IReadOnlyList<KeyValuePair<string, string>>?)_headers ?? [];

    /// <summary>Takes ownership of <paramref name="body"/>.</summary>
    public void SetBody(PooledBuffer body, string? contentType)
    {
        ArgumentNullException.ThrowIfNull(body);
        _body?.Release();
        _body = body.MoveToSharedBody();
        ContentType = ParseContentType(contentType);
    }

    private static MediaTypeHeaderValue? ParseContentType(string? contentType) =>
        contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? type) ? type : null;

    /// <summary>
    /// Sends a copy of <paramref name="body"/>, the raw body of an earlier backend, with that backend's content type.
    /// False when the earlier body was not kept.
    /// </summary>
    public bool TrySetBody(Gateway.Runtime.Forwarding.BackendResult response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.RawBody is not { } raw)
        {
            return false;
        }

        _body?.Release();
        _body = SharedBody.Copy(raw.WrittenSpan);
        ContentType = ParseContentType(response.RawContentType);
        return true;
    }

    /// <summary>Gives up on a request whose template could not be filled: disposes it and returns null.</summary>
    public static BackendRequest? Fail(BackendRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Dispose();
        return null;
    }

    public void SetHeader(string name, string value) => (_headers ??= new(2)).Add(new(name, value));

    /// <summary>Gives up this request's reference to the body; a call still sending it keeps its own.</summary>
    public void Dispose()
    {
        _body?.Release();
        _body = null;
    }
}

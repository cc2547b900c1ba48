using System.Net.Http.Headers;
using System.Text;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;

namespace Gateway.Components.Martian;

/// <summary>One martian modification of a message, built at build time (<see cref="MartianModifier"/>).</summary>
public sealed class MartianOperation
{
    private readonly Kind _kind;
    private readonly string? _name;
    private readonly string? _value;
    private readonly string[]? _names;
    private readonly byte[]? _body;
    private readonly MediaTypeHeaderValue? _contentType;
    private readonly string? _scheme;
    private readonly string? _host;
    private readonly string? _path;
    private readonly string? _query;

    private MartianOperation(Kind kind, string? name = null, string? value = null, string[]? names = null, byte[]? body = null, MediaTypeHeaderValue? contentType = null, string? scheme = null, string? host = null, string? path = null, string? query = null)
    {
        _kind = kind;
        _name = name;
        _value = value;
        _names = names;
        _body = body;
        _contentType = contentType;
        _scheme = scheme;
        _host = host;
        _path = path;
        _query = query;
    }

    private enum Kind
    {
        SetHeader,
        AppendHeader,
        RemoveHeaders,
        SetQuery,
        SetBody,
        SetUrl,
    }

    /// <summary><c>header.Modifier</c>: the header has this value only.</summary>
    public static MartianOperation SetHeader(string name, string value) => new(Kind.SetHeader, name, value);

    /// <summary><c>header.Append</c>: one more value of the header.</summary>
    public static MartianOperation AppendHeader(string name, string value) => new(Kind.AppendHeader, name, value);

    /// <summary><c>header.Blacklist</c>: the headers are removed.</summary>
    public static MartianOperation RemoveHeaders(params string[] names) => new(Kind.RemoveHeaders, names: names);

    /// <summary><c>querystring.Modifier</c>: the query parameter has this value only.</summary>
    public static MartianOperation SetQuery(string name, string value) => new(Kind.SetQuery, name, value);

    /// <summary><c>body.Modifier</c>: the body is replaced (base64 as in the configuration), with its content type.</summary>
    public static MartianOperation SetBody(string base64, string? contentType) =>
        new(Kind.SetBody, body: Convert.FromBase64String(base64), contentType: contentType is null ? null : MediaTypeHeaderValue.Parse(contentType));

    /// <summary><c>url.Modifier</c>: the parts given replace the request URL's.</summary>
    public static MartianOperation SetUrl(string? scheme, string? host, string? path, string? query) => new(Kind.SetUrl, scheme: scheme, host: host, path: path, query: query);

    internal void Apply(HttpRequestMessage request, bool redirected)
    {
        switch (_kind)
        {
            case Kind.SetHeader:
            case Kind.AppendHeader:
                if (IsContentHeader(_name!))
                {
                    request.Content ??= new ByteArrayContent([]);
                    SetOrAppend(request.Content.Headers, _kind == Kind.SetHeader);
                }
                else
                {
                    SetOrAppend(request.Headers, _kind == Kind.SetHeader);
                }

                break;
            case Kind.RemoveHeaders:
                foreach (string name in _names!)
                {
                    request.Headers.Remove(name);
                    request.Content?.Headers.Remove(name);
                }

                break;
            case Kind.SetQuery when !redirected:
                request.RequestUri = WithQueryValue(request.RequestUri!, _name!, _value!);
                break;
            case Kind.SetBody:
                request.Content?.Dispose();
                request.Content = NewBody();
                break;
            case Kind.SetUrl when !redirected:
                request.RequestUri = WithUrlParts(request.RequestUri!);
                break;
        }
    }

    internal void Apply(HttpResponseMessage response)
    {
        switch (_kind)
        {
            case Kind.SetHeader:
            case Kind.AppendHeader:
                SetOrAppend(IsContentHeader(_name!) ? response.Content.Headers : response.Headers, _kind == Kind.SetHeader);
                break;
            case Kind.RemoveHeaders:
                foreach (string name in _names!)
                {
                    response.Headers.Remove(name);
                    response.Content.Headers.Remove(name);
                }

                break;
            case Kind.SetBody:
                response.Content.Dispose();
                response.Content = NewBody();
                break;
        }
    }

    private ByteArrayContent NewBody()
    {
        var content = new ByteArrayContent(_body!);
        content.Headers.ContentType = _contentType;
        return content;
    }

    private void SetOrAppend(HttpHeaders headers, bool replace)
    {
        if (replace)
        {
            headers.Remove(_name!);
        }

        headers.TryAddWithoutValidation(_name!, _value!);
    }

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || name.Equals("Expires", StringComparison.OrdinalIgnoreCase) || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase) || name.Equals("Allow", StringComparison.OrdinalIgnoreCase);

    /// <summary>The URL with <paramref name="name"/> set to <paramref name="value"/> only, encoded like any query value.</summary>
    private static Uri WithQueryValue(Uri uri, string name, string value)
    {
        string encodedName = EncodeQuery(name);
        var query = new StringBuilder();
        string existing = uri.Query.Length > 0 ? uri.Query[1..] : string.Empty;
        foreach (string pair in existing.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? pair : pair[..eq];
            if (!string.Equals(Uri.UnescapeDataString(key), name, StringComparison.Ordinal))
            {
                query.Append(query.Length > 0 ? "&" : string.Empty).Append(pair);
            }
        }

        query.Append(query.Length > 0 ? "&" : string.Empty).Append(encodedName).Append('=').Append(EncodeQuery(value));
        return new UriBuilder(uri) { Query = query.ToString() }.Uri;
    }

    private static string EncodeQuery(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        byte[] encoded = new byte[PercentEncoding.MaxEncodedLength(utf8.Length)];
        return Encoding.ASCII.GetString(encoded, 0, PercentEncoding.Encode(utf8, UrlComponent.QueryValue, encoded));
    }

    private Uri WithUrlParts(Uri uri)
    {
        var builder = new UriBuilder(uri);
        if (_scheme is not null)
        {
            bool defaultPort = builder.Port == (builder.Scheme == Uri.UriSchemeHttps ? 443 : 80);
            builder.Scheme = _scheme;
            if (defaultPort)
            {
                builder.Port = -1;
            }
        }

        if (_host is not null)
        {
            int colon = _host.LastIndexOf(':');
            if (colon > 0 && int.TryParse(_host.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port))
            {
                builder.Host = _host[..colon];
                builder.Port = port;
            }
            else
            {
                builder.Host = _host;
                builder.Port = -1;
            }
        }

        if (_path is not null)
        {
            builder.Path = _path;
        }

        if (_query is not null)
        {
            builder.Query = _query;
        }

        return builder.Uri;
    }
}

/// <summary>
/// KrakenD's <c>modifier/martian</c> on a backend (docs/configuration.md, martian modifiers): the request operations
/// run, in order, on the request the gateway built, just before it is sent (the URL and query ones not again on a
/// redirect, whose URL is the backend's); the response operations run on the backend's final response before the
/// gateway reads its status, headers and body.
/// </summary>
public sealed class MartianModifier : IHttpMessageModifier
{
    private readonly MartianOperation[] _request;
    private readonly MartianOperation[] _response;

    public MartianModifier(MartianOperation[] request, MartianOperation[] response)
    {
        _request = request;
        _response = response;
    }

    public ValueTask<bool> ModifyRequestAsync(HttpRequestMessage request, bool redirected, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (MartianOperation operation in _request)
        {
            operation.Apply(request, redirected);
        }

        return ValueTask.FromResult(true);
    }

    public void ModifyResponse(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        foreach (MartianOperation operation in _response)
        {
            operation.Apply(response);
        }
    }
}

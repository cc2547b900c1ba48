using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Http;

/// <summary>
/// Builds one backend URL from a template's literal pieces and injected values. Starts in a caller-provided (stack)
/// buffer and grows into the shared array pool. Used synchronously by generated URL builders; dispose it.
/// </summary>
public ref struct UrlBuilder
{
    private Span<byte> _buffer;
    private byte[]? _rented;
    private int _length;

    public UrlBuilder(Span<byte> initialBuffer)
    {
        _buffer = initialBuffer;
        _rented = null;
        _length = 0;
    }

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer[.._length];

    /// <summary>Appends URL text that is already valid as written (template literals, base URLs).</summary>
    public void AppendLiteral(scoped ReadOnlySpan<byte> ascii)
    {
        ascii.CopyTo(Reserve(ascii.Length));
        _length += ascii.Length;
    }

    public void AppendLiteral(string ascii)
    {
        ArgumentNullException.ThrowIfNull(ascii);
        Span<byte> destination = Reserve(ascii.Length);
        _length += Encoding.ASCII.GetBytes(ascii, destination);
    }

    public void AppendEncoded(scoped ReadOnlySpan<byte> utf8, UrlComponent component) => AppendEncoded(utf8, component, arrayElement: false);

    private void AppendEncoded(scoped ReadOnlySpan<byte> utf8, UrlComponent component, bool arrayElement)
    {
        Span<byte> destination = Reserve(PercentEncoding.MaxEncodedLength(utf8.Length));
        _length += PercentEncoding.Encode(utf8, component, destination, arrayElement);
    }

    public void AppendEncoded(string value, UrlComponent component)
    {
        ArgumentNullException.ThrowIfNull(value);
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int count = Encoding.UTF8.GetBytes(value, utf8);
        AppendEncoded(utf8[..count], component);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Appends the client's forwarded query parameters that <paramref name="filter"/> allows (null: all), after the
    /// pattern's own query (docs/configuration.md, forwarding). Keys and values are encoded as query values.
    /// </summary>
    public void AppendForwardedQuery(ReadOnlySpan<KeyValuePair<string, string>> query, Proxy.ForwardingList? filter)
    {
        bool hasQuery = _buffer[.._length].IndexOf((byte)'?') >= 0;
        foreach (KeyValuePair<string, string> pair in query)
        {
            if (filter is not null && !filter.Allows(pair.Key))
            {
                continue;
            }

            AppendLiteral(hasQuery ? "&"u8 : "?"u8);
            hasQuery = true;
            AppendEncoded(pair.Key, UrlComponent.QueryValue);
            AppendLiteral("="u8);
            AppendEncoded(pair.Value, UrlComponent.QueryValue);
        }
    }

    /// <summary>
    /// Appends the value at <paramref name="path"/> in <paramref name="json"/>, rendered as docs/configuration.md ("How values are rendered") says and
    /// encoded for <paramref name="component"/>. False (nothing appended) when the value cannot be injected: missing,
    /// <c>null</c>, an object, an array holding anything but strings, numbers and booleans, a string that is not
    /// valid Unicode, or an empty value in a path segment.
    /// </summary>
    public bool TryAppendJsonValue(ReadOnlySpan<byte> json, JsonPath path, UrlComponent component)
    {
        using Templates.TemplateScratch.Lease scratch = Templates.TemplateScratch.Rent();
        if (!JsonValueLocator.TryResolve(json, path, scratch.Values, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        int mark = _length;
        bool ok;
        try
        {
            var reader = new Utf8JsonReader(value);
            reader.Read();
            ok = reader.TokenType == JsonTokenType.StartArray ? TryAppendArray(ref reader, component) : TryAppendScalar(ref reader, component, arrayElement: false);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string with a lone surrogate escape cannot be turned into text.
            ok = false;
        }

        if (ok && component == UrlComponent.PathSegment && _length == mark)
        {
            ok = false;
        }

        if (!ok)
        {
            _length = mark;
        }

        return ok;
    }

    /// <summary>
    /// Appends a text value (a client header or query value, a response header), encoded for
    /// <paramref name="component"/>. False when it is missing, or empty in a path segment.
    /// </summary>
    public bool TryAppendText(string? text, UrlComponent component)
    {
        if (text is null || (text.Length == 0 && component == UrlComponent.PathSegment))
        {
            return false;
        }

        AppendEncoded(text, component);
        return true;
    }

    private bool TryAppendArray(ref Utf8JsonReader reader, UrlComponent component)
    {
        bool first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first)
            {
                AppendLiteral(","u8);
            }

            first = false;
            if (!TryAppendScalar(ref reader, component, arrayElement: true))
            {
                return false;
            }
        }

        return true;
    }

    private bool TryAppendScalar(ref Utf8JsonReader reader, UrlComponent component, bool arrayElement)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
            case JsonTokenType.True:
            case JsonTokenType.False:
                // Literals are ASCII and safe in both components: copied exactly as the backend wrote them.
                AppendEncoded(reader.ValueSpan, component, arrayElement);
                return true;
            case JsonTokenType.String:
                if (!reader.ValueIsEscaped)
                {
                    AppendEncoded(reader.ValueSpan, component, arrayElement);
                    return true;
                }

                byte[]? rented = null;
                Span<byte> text = reader.ValueSpan.Length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length));
                int count = reader.CopyString(text);
                AppendEncoded(text[..count], component, arrayElement);
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }

                return true;
            default:
                return false;
        }
    }

    public override readonly string ToString() => Encoding.ASCII.GetString(_buffer[.._length]);

    /// <summary>
    /// The finished URL, or null when its path holds a dot-segment (<c>.</c> or <c>..</c>, also percent-encoded as
    /// <c>%2E</c>): servers resolve those after decoding, so an injected <c>..</c> would climb out of its segment.
    /// </summary>
    public readonly string? ToUrl() => HasDotSegment(_buffer[.._length]) ? null : ToString();

    private static bool HasDotSegment(ReadOnlySpan<byte> url)
    {
        int scheme = url.IndexOf("://"u8);
        int pathStart = scheme < 0 ? 0 : url[(scheme + 3)..].IndexOf((byte)'/') + scheme + 3;
        if (pathStart < scheme + 3)
        {
            return false;
        }

        ReadOnlySpan<byte> path = url[pathStart..];
        int query = path.IndexOf((byte)'?');
        if (query >= 0)
        {
            path = path[..query];
        }

        foreach (Range range in path.Split((byte)'/'))
        {
            if (IsDotSegment(path[range]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDotSegment(ReadOnlySpan<byte> segment)
    {
        int dots = 0;
        while (!segment.IsEmpty && dots < 3)
        {
            if (segment[0] == (byte)'.')
            {
                segment = segment[1..];
            }
            else if (segment.Length >= 3 && segment[0] == (byte)'%' && segment[1] == (byte)'2' && (segment[2] | 0x20) == (byte)'e')
            {
                segment = segment[3..];
            }
            else
            {
                return false;
            }

            dots++;
        }

        return segment.IsEmpty && dots is 1 or 2;
    }

    public void Dispose()
    {
        byte[]? rented = _rented;
        _rented = null;
        _buffer = default;
        _length = 0;
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count)
        {
            Grow(count);
        }

        return _buffer[_length..];
    }

    private void Grow(int count)
    {
        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
        _buffer[.._length].CopyTo(larger);
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }

        _rented = larger;
        _buffer = larger;
    }
}

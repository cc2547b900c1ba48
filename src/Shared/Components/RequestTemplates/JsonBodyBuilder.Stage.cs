using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Templates;

namespace Gateway.Components.RequestTemplates;

/// <summary>
/// Builds a backend's JSON body from a compiled template: literal JSON written at build time, and slots. A slot that
/// was a whole string value (<c>"{resp0_user}"</c>) takes the value with its JSON type; a slot inside a longer string
/// takes the value's text form, JSON-escaped (see <see cref="TemplateText"/>). The result is always valid JSON: values
/// come from validated responses and text is escaped. Used synchronously by generated code; the body it returns goes
/// to a <see cref="BackendRequest"/>.
/// </summary>
public sealed class JsonBodyBuilder : IDisposable
{
    private static readonly SearchValues<byte> s_needsEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"u8);

    private PooledBuffer? _buffer = new(512);

    private PooledBuffer Buffer => _buffer ?? throw new ObjectDisposedException(nameof(JsonBodyBuilder));

    public void AppendLiteral(ReadOnlySpan<byte> json) => Buffer.Write(json);

    /// <summary>A value of a response, with its JSON type. False when it is missing.</summary>
    public bool TryAppendValue(ReadOnlySpan<byte> json, JsonPath path)
    {
        using TemplateScratch.Lease scratch = TemplateScratch.Rent();
        if (!JsonValueLocator.TryResolve(json, path, scratch.Values, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        Buffer.Write(value);
        return true;
    }

    /// <summary>A value of a response as text inside a JSON string. False when it is missing or has no text form.</summary>
    public bool TryAppendText(ReadOnlySpan<byte> json, JsonPath path)
    {
        using TemplateScratch.Lease scratch = TemplateScratch.Rent();
        if (!JsonValueLocator.TryResolve(json, path, scratch.Values, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        int mark = Buffer.Length;
        bool ok = TemplateText.TryWrite(value, Buffer, jsonEscaped: true);
        if (!ok)
        {
            Truncate(mark);
        }

        return ok;
    }

    /// <summary>A text value (route parameter, client header or query value, response header) as a JSON string. False when missing.</summary>
    public bool TryAppendValue(string? text)
    {
        if (text is null)
        {
            return false;
        }

        Buffer.Write("\""u8);
        AppendEscaped(text);
        Buffer.Write("\""u8);
        return true;
    }

    /// <summary>A text value inside a JSON string. False when missing.</summary>
    public bool TryAppendText(string? text)
    {
        if (text is null)
        {
            return false;
        }

        AppendEscaped(text);
        return true;
    }

    /// <summary>
    /// An earlier backend's whole body (<c>{respN}</c>) as a value: its JSON when the body is one JSON value, otherwise
    /// its text as a JSON string. False when the body was not kept or is not valid UTF-8 text.
    /// </summary>
    public bool TryAppendWholeValue(BackendResult response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.RawBody is not { } raw)
        {
            return false;
        }

        ReadOnlySpan<byte> body = raw.WrittenSpan.Trim(" \t\r\n"u8);
        if (IsOneJsonValue(body))
        {
            Buffer.Write(body);
            return true;
        }

        if (!Utf8.IsValid(raw.WrittenSpan))
        {
            return false;
        }

        Buffer.Write("\""u8);
        AppendEscaped(raw.WrittenSpan);
        Buffer.Write("\""u8);
        return true;
    }

    /// <summary>An earlier backend's whole body as text inside a JSON string. False when not kept or not UTF-8.</summary>
    public bool TryAppendWholeText(BackendResult response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.RawBody is not { } raw || !Utf8.IsValid(raw.WrittenSpan))
        {
            return false;
        }

        AppendEscaped(raw.WrittenSpan);
        return true;
    }

    /// <summary>Hands the finished body over; the builder is empty afterwards.</summary>
    public PooledBuffer Detach()
    {
        PooledBuffer body = Buffer;
        _buffer = null;
        return body;
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }

    private void AppendEscaped(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> utf8 = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        int count = Encoding.UTF8.GetBytes(text, utf8);
        AppendEscaped(utf8[..count]);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Writes valid UTF-8 text as the content of a JSON string: quotes, backslashes and control characters escaped,
    /// everything else (non-ASCII included) as it is.
    /// </summary>
    private void AppendEscaped(ReadOnlySpan<byte> utf8)
    {
        PooledBuffer buffer = Buffer;
        while (!utf8.IsEmpty)
        {
            int special = utf8.IndexOfAny(s_needsEscape);
            if (special < 0)
            {
                buffer.Write(utf8);
                return;
            }

            buffer.Write(utf8[..special]);
            byte b = utf8[special];
            switch (b)
            {
                case (byte)'"': buffer.Write("\\\""u8); break;
                case (byte)'\\': buffer.Write("\\\\"u8); break;
                case (byte)'\n': buffer.Write("\\n"u8); break;
                case (byte)'\r': buffer.Write("\\r"u8); break;
                case (byte)'\t': buffer.Write("\\t"u8); break;
                default:
                    Span<byte> escape = buffer.GetSpan(6);
                    "\\u00"u8.CopyTo(escape);
                    escape[4] = (byte)"0123456789abcdef"[b >> 4];
                    escape[5] = (byte)"0123456789abcdef"[b & 0xF];
                    buffer.Advance(6);
                    break;
            }

            utf8 = utf8[(special + 1)..];
        }
    }

    private void Truncate(int length) => Buffer.Truncate(length);

    private static bool IsOneJsonValue(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return reader.BytesConsumed == body.Length;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

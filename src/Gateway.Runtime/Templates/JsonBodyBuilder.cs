using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Templates;

/// <summary>
/// Builds a backend's JSON body from a compiled template: literal JSON written at build time, and slots. A slot that
/// was a whole string value (<c>"{resp0_user}"</c>) takes the value with its JSON type; a slot inside a longer string
/// takes the value's text form, JSON-escaped (see <see cref="TemplateText"/>). The result is always valid JSON: values
/// come from validated responses and text is escaped. Used synchronously by generated code; the body it returns goes
/// to a <see cref="BackendRequest"/>.
/// </summary>
public sealed class JsonBodyBuilder : IDisposable
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private PooledBuffer? _buffer = new(512);

    private PooledBuffer Buffer => _buffer ?? throw new ObjectDisposedException(nameof(JsonBodyBuilder));

    public void AppendLiteral(ReadOnlySpan<byte> json) => Buffer.Write(json);

    /// <summary>A value of a response, with its JSON type. False when it is missing.</summary>
    public bool TryAppendValue(ReadOnlySpan<byte> json, JsonPath path)
    {
        if (!JsonValueLocator.TryResolve(json, path, TemplateScratch.Values, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        Buffer.Write(value);
        return true;
    }

    /// <summary>A value of a response as text inside a JSON string. False when it is missing or has no text form.</summary>
    public bool TryAppendText(ReadOnlySpan<byte> json, JsonPath path)
    {
        if (!JsonValueLocator.TryResolve(json, path, TemplateScratch.Values, out ReadOnlySpan<byte> value))
        {
            return false;
        }

        int mark = Buffer.Length;
        if (!TemplateText.TryWrite(value, Buffer, jsonEscaped: true))
        {
            Truncate(mark);
            return false;
        }

        return true;
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

    /// <summary>Writes UTF-8 text as the content of a JSON string (quotes, backslashes and control characters escaped).</summary>
    private void AppendEscaped(ReadOnlySpan<byte> utf8)
    {
        PooledBuffer quoted = TemplateScratch.Text;
        quoted.Clear();
        using (var writer = new Utf8JsonWriter(quoted, s_writerOptions))
        {
            writer.WriteStringValue(utf8);
        }

        // The writer adds the quotes; keep what is between them.
        Buffer.Write(quoted.WrittenSpan[1..^1]);
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

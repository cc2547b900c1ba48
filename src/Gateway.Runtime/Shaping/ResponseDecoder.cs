using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Shaping;

/// <summary>Turns a backend body into the JSON object the rest of the pipeline works on (docs/configuration.md, decoding).</summary>
public static class ResponseDecoder
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes the decoded object to <paramref name="output"/>; false when the body does not fit the encoding or nests
    /// deeper than <paramref name="maxDepth"/> (<c>--max-json-depth</c>). Never throws.
    /// </summary>
    public static bool TryDecode(BackendEncoding encoding, bool isCollection, ReadOnlySpan<byte> body, IBufferWriter<byte> output, int maxDepth = JsonObjectBody.MaxDepth)
    {
        ArgumentNullException.ThrowIfNull(output);
        switch (encoding)
        {
            case BackendEncoding.Json when !isCollection:
                if (!JsonObjectBody.TryGetObject(body, out int start, out int length, maxDepth))
                {
                    return false;
                }

                output.Write(body.Slice(start, length));
                return true;
            case BackendEncoding.Json:
                return TryGetValue(body, maxDepth, out JsonTokenType kind, out ReadOnlySpan<byte> array)
                    && kind is JsonTokenType.StartArray or JsonTokenType.Null
                    && Wrap(output, "collection"u8, array);
            case BackendEncoding.SafeJson:
                if (!TryGetValue(body, maxDepth, out JsonTokenType safeKind, out ReadOnlySpan<byte> value))
                {
                    return false;
                }

                return safeKind switch
                {
                    JsonTokenType.StartObject => JsonObjectBody.TryGetObject(value, out int s, out int l, maxDepth) && Copy(output, value.Slice(s, l)),
                    JsonTokenType.StartArray => Wrap(output, "collection"u8, value),
                    _ => Wrap(output, "content"u8, value),
                };
            case BackendEncoding.String:
                using (var writer = new Utf8JsonWriter(output, s_options))
                {
                    writer.WriteStartObject();
                    // Invalid UTF-8 becomes U+FFFD rather than failing: the body is text, whatever it holds.
                    if (System.Text.Unicode.Utf8.IsValid(body))
                    {
                        writer.WriteString("content"u8, body);
                    }
                    else
                    {
                        writer.WriteString("content"u8, Encoding.UTF8.GetString(body));
                    }

                    writer.WriteEndObject();
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>The first JSON value of the body, validated, UTF-8 included (trailing bytes ignored, as in KrakenD).</summary>
    private static bool TryGetValue(ReadOnlySpan<byte> body, int maxDepth, out JsonTokenType kind, out ReadOnlySpan<byte> value)
    {
        kind = JsonTokenType.None;
        value = default;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
            if (!reader.Read())
            {
                return false;
            }

            kind = reader.TokenType;
            int start = (int)reader.TokenStartIndex;
            if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            value = body[start..(int)reader.BytesConsumed];

            // The reader does not check the bytes inside strings; a body that is not UTF-8 is not JSON (RFC 8259 §8.1).
            return System.Text.Unicode.Utf8.IsValid(value);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool Wrap(IBufferWriter<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> raw)
    {
        using var writer = new Utf8JsonWriter(output, s_options);
        writer.WriteStartObject();
        writer.WritePropertyName(key);
        writer.WriteRawValue(raw, skipInputValidation: true);
        writer.WriteEndObject();
        return true;
    }

    private static bool Copy(IBufferWriter<byte> output, ReadOnlySpan<byte> raw)
    {
        output.Write(raw);
        return true;
    }
}

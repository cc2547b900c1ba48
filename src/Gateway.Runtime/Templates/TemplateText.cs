using System.Text.Json;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Templates;

/// <summary>
/// The text form of a JSON value, the one rule every text position uses (a header, a string inside a JSON body;
/// URLs apply the same rule element by element): a string is its text, a number its literal as the backend wrote it,
/// a boolean <c>true</c>/<c>false</c>, an array of those its elements joined by <c>,</c>. <c>null</c>, objects and
/// arrays holding them have no text form.
/// </summary>
internal static class TemplateText
{
    /// <summary>
    /// Writes the text form of <paramref name="raw"/> (one JSON value) to <paramref name="output"/>. With
    /// <paramref name="jsonEscaped"/> strings keep their JSON escapes, ready to sit inside a JSON string; otherwise they
    /// are unescaped UTF-8. False when the value has no text form.
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<byte> raw, PooledBuffer output, bool jsonEscaped)
    {
        try
        {
            var reader = new Utf8JsonReader(raw);
            if (!reader.Read())
            {
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                return TryWriteScalar(ref reader, output, jsonEscaped);
            }

            bool first = true;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (!first)
                {
                    output.Write(","u8);
                }

                first = false;
                if (!TryWriteScalar(ref reader, output, jsonEscaped))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string whose escapes are not valid UTF-16 has no text.
            return false;
        }
    }

    private static bool TryWriteScalar(ref Utf8JsonReader reader, PooledBuffer output, bool jsonEscaped)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
            case JsonTokenType.True:
            case JsonTokenType.False:
                output.Write(reader.ValueSpan);
                return true;
            case JsonTokenType.String:
                if (jsonEscaped || !reader.ValueIsEscaped)
                {
                    output.Write(reader.ValueSpan);
                    return true;
                }

                Span<byte> destination = output.GetSpan(reader.ValueSpan.Length);
                int written = reader.CopyString(destination);
                output.Advance(written);
                return true;
            default:
                return false;
        }
    }
}

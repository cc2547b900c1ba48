using System.Text.Json;

namespace Gateway.Runtime.Json;

/// <summary>Checks that a backend body is one JSON object, as the <c>json</c> encoding requires (krakend.md §6.8).</summary>
public static class JsonObjectBody
{
    /// <summary>
    /// True when <paramref name="body"/> starts (after whitespace) with a complete, valid JSON object no deeper than 64
    /// levels and whose escaped property names are valid text; returns the object's range. As in KrakenD, bytes after
    /// the first value are ignored. Never throws. Everything downstream (merge, lookups) relies on these checks.
    /// </summary>
    public static bool TryGetObject(ReadOnlySpan<byte> body, out int start, out int length)
    {
        start = 0;
        length = 0;
        int first = body.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0 || body[first] != (byte)'{')
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(body[first..]);
            Span<byte> name = stackalloc byte[256];
            while (reader.Read())
            {
                // An escaped name must unescape to valid text (a lone \uD800 does not), or it could not be compared or re-written.
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    if (reader.ValueSpan.Length <= name.Length)
                    {
                        reader.CopyString(name);
                    }
                    else
                    {
                        _ = reader.GetString();
                    }
                }

                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
                {
                    start = first;
                    length = (int)reader.BytesConsumed;
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}

using System.Text.Json;

namespace Gateway.Runtime.Json;

/// <summary>Checks that a backend body is one JSON object, as the <c>json</c> encoding requires (krakend.md §6.8).</summary>
public static class JsonObjectBody
{
    /// <summary>
    /// True when <paramref name="body"/> starts (after whitespace) with a complete, valid JSON object no deeper than 64
    /// levels; returns the object's range. As in KrakenD, bytes after the first value are ignored. Never throws.
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
            reader.Read();
            reader.Skip();
            start = first;
            length = (int)reader.BytesConsumed;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

using System.Text.Json;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Json;

/// <summary>
/// The elements of a JSON array, and the join that puts a value into each of them: what a <c>for_each</c> step
/// (docs/configuration.md, fan-out) reads and writes. Both work on the raw text, element by element, without a DOM.
/// </summary>
public static class JsonArrays
{
    /// <summary>
    /// Adds the range of every element of <paramref name="array"/> (the raw text of one JSON array, already validated) to
    /// <paramref name="elements"/>, ranges relative to <paramref name="offset"/>; false when it is not an array or holds
    /// more than <paramref name="max"/> elements (then <paramref name="elements"/> holds the first ones).
    /// </summary>
    public static bool TryListElements(ReadOnlySpan<byte> array, int offset, int max, List<JsonValueRange> elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        try
        {
            var reader = new Utf8JsonReader(array);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (elements.Count == max)
                {
                    return false;
                }

                int start = (int)reader.TokenStartIndex;
                JsonTokenType kind = reader.TokenType;
                reader.Skip();
                elements.Add(new JsonValueRange(kind, offset + start, (int)reader.BytesConsumed - start));
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes <paramref name="json"/> to <paramref name="output"/> with the array at <paramref name="path"/> rewritten: each
    /// element that is an object and has a value in <paramref name="values"/> (by element index; empty for none) gets it
    /// as its member <paramref name="nameJson"/> (a JSON string literal, quotes included), replacing a member of that name
    /// it already had (the other members keep their text and order; the value goes last). The document around the array is
    /// copied byte for byte. When the path holds no array, the whole document is copied as it is.
    /// </summary>
    public static void WriteJoined(ReadOnlySpan<byte> json, JsonPath path, ReadOnlySpan<byte> nameJson, ReadOnlySpan<byte> name, IReadOnlyList<ReadOnlyMemory<byte>> values, PooledBuffer output)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(output);
        if (!JsonValueLocator.TryLocate(json, path, out JsonValueRange array) || array.Kind != JsonTokenType.StartArray)
        {
            output.Write(json);
            return;
        }

        output.Write(json[..array.Start]);
        ReadOnlySpan<byte> text = json.Slice(array.Start, array.Length);
        var reader = new Utf8JsonReader(text);
        reader.Read(); // [
        output.Write("["u8);
        int index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (index > 0)
            {
                output.Write(","u8);
            }

            int start = (int)reader.TokenStartIndex;
            ReadOnlyMemory<byte> value = index < values.Count ? values[index] : default;
            if (reader.TokenType != JsonTokenType.StartObject || value.IsEmpty)
            {
                reader.Skip();
                output.Write(text[start..(int)reader.BytesConsumed]);
                index++;
                continue;
            }

            // The object's members, each copied whole (name, colon, value), except one of the joined name.
            output.Write("{"u8);
            bool first = true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int memberStart = (int)reader.TokenStartIndex;
                bool replaced = reader.ValueTextEquals(name);
                reader.Read();
                reader.Skip();
                if (replaced)
                {
                    continue;
                }

                if (!first)
                {
                    output.Write(","u8);
                }

                output.Write(text[memberStart..(int)reader.BytesConsumed]);
                first = false;
            }

            if (!first)
            {
                output.Write(","u8);
            }

            output.Write(nameJson);
            output.Write(":"u8);
            output.Write(value.Span);
            output.Write("}"u8);
            index++;
        }

        output.Write("]"u8);
        output.Write(json[(array.Start + array.Length)..]);
    }
}

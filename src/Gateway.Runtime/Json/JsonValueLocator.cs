using System.Text.Json;

namespace Gateway.Runtime.Json;

/// <summary>Where a value sits in a JSON document: its kind and the range of its raw text (strings with their quotes).</summary>
public readonly struct JsonValueRange
{
    public JsonValueRange(JsonTokenType kind, int start, int length)
    {
        Kind = kind;
        Start = start;
        Length = length;
    }

    /// <summary>StartObject, StartArray, String, Number, True, False or Null.</summary>
    public JsonTokenType Kind { get; }

    public int Start { get; }

    public int Length { get; }
}

/// <summary>
/// Finds the value at a <see cref="JsonPath"/> by walking the document with <see cref="Utf8JsonReader"/>: no DOM, no
/// allocation. Paths are strict (docs/compatibility.md, <c>{respN_a.b}</c> references): every segment must exist; a numeric segment indexes an array, or
/// names a property on an object. When an object repeats a name, the last one wins.
/// </summary>
public static class JsonValueLocator
{
    public static bool TryLocate(ReadOnlySpan<byte> json, JsonPath path, out JsonValueRange value)
    {
        ArgumentNullException.ThrowIfNull(path);
        value = default;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read())
            {
                return false;
            }

            for (int i = 0; i < path.Count; i++)
            {
                if (!TryStep(ref reader, path.Name(i), path.Index(i)))
                {
                    return false;
                }
            }

            int start = (int)reader.TokenStartIndex;
            JsonTokenType kind = reader.TokenType;
            if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            value = new JsonValueRange(kind, start, (int)reader.BytesConsumed - start);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a property name whose escapes are not valid UTF-16 cannot be compared.
            return false;
        }
    }

    /// <summary>
    /// Resolves a path that may hold a <c>*</c> segment: without one, the value's raw text in <paramref name="json"/>;
    /// with one, a JSON array of the value read in every element of the array before the <c>*</c>, written to
    /// <paramref name="scratch"/>. Every element must hold the value (paths are strict).
    /// </summary>
    public static bool TryResolve(ReadOnlySpan<byte> json, JsonPath path, Http.PooledBuffer scratch, out ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(scratch);
        value = default;
        if (path.WildcardAt < 0)
        {
            if (!TryLocate(json, path, out JsonValueRange range))
            {
                return false;
            }

            value = json.Slice(range.Start, range.Length);
            return true;
        }

        if (!TryLocate(json, path.BeforeWildcard!, out JsonValueRange array) || array.Kind != JsonTokenType.StartArray)
        {
            return false;
        }

        scratch.Clear();
        scratch.Write("["u8);
        ReadOnlySpan<byte> items = json.Slice(array.Start, array.Length);
        try
        {
            var reader = new Utf8JsonReader(items);
            reader.Read();
            bool first = true;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                }

                ReadOnlySpan<byte> element = items[start..(int)reader.BytesConsumed];
                if (!TryLocate(element, path.AfterWildcard!, out JsonValueRange inner))
                {
                    return false;
                }

                if (!first)
                {
                    scratch.Write(","u8);
                }

                first = false;
                scratch.Write(element.Slice(inner.Start, inner.Length));
            }
        }
        catch (JsonException)
        {
            return false;
        }

        scratch.Write("]"u8);
        value = scratch.WrittenSpan;
        return true;
    }

    /// <summary>Moves the reader from a container's start token to the token of the selected child value.</summary>
    private static bool TryStep(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, int index)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            bool found = false;
            Utf8JsonReader match = default;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool equal = reader.ValueTextEquals(name);
                reader.Read();
                if (equal)
                {
                    match = reader;
                    found = true;
                }

                reader.Skip();
            }

            if (found)
            {
                reader = match;
            }

            return found;
        }

        if (reader.TokenType == JsonTokenType.StartArray && index >= 0)
        {
            int position = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (position++ == index)
                {
                    return true;
                }

                reader.Skip();
            }
        }

        return false;
    }
}

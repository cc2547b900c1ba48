using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Components.Shaping;

/// <summary>The operations of <c>flatmap_filter</c>.</summary>
public enum FlatmapKind
{
    /// <summary><c>move [from, to]</c>: rename in place, promote or embed a field.</summary>
    Move,

    /// <summary><c>del [paths...]</c>: delete every matching field or array element.</summary>
    Delete,

    /// <summary><c>append [from, to]</c>: append the array <c>from</c> to the array <c>to</c> and delete <c>from</c>.</summary>
    Append,
}

/// <summary>One <c>flatmap_filter</c> operation, its dotted paths split once.</summary>
public sealed class FlatmapOperation
{
    public FlatmapOperation(FlatmapKind kind, string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Kind = kind;
        Paths = Array.ConvertAll(args, a => a.Split('.'));
    }

    public FlatmapKind Kind { get; }

    internal string[][] Paths { get; }
}

/// <summary>
/// <c>flatmap_filter</c> (docs/configuration.md, backend) over a tree view of the data: paths are dotted, <c>*</c> matches every key or
/// array index at its level, and numbers address array elements. This is the one shaping step that needs a document
/// model; values that are not touched keep their original text (numbers are never re-formatted).
/// </summary>
public static class Flatmap
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Apply(ReadOnlySpan<byte> jsonObject, FlatmapOperation[] operations, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(output);
        JsonNode? root;
        try
        {
            root = ParseLastNameWins(jsonObject);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            output.Write(jsonObject);
            return;
        }

        if (root is not JsonObject)
        {
            output.Write(jsonObject);
            return;
        }

        foreach (FlatmapOperation operation in operations)
        {
            switch (operation.Kind)
            {
                case FlatmapKind.Delete:
                    foreach (string[] path in operation.Paths)
                    {
                        Delete(root, path);
                    }

                    break;
                case FlatmapKind.Move:
                    Move(root, operation.Paths[0], operation.Paths[1]);
                    break;
                default:
                    Append(root, operation.Paths[0], operation.Paths[1]);
                    break;
            }
        }

        using var writer = new Utf8JsonWriter(output, s_options);
        root.WriteTo(writer);
    }

    /// <summary>
    /// The document as a tree. An object that repeats a name (JSON allows it; <see cref="JsonObject"/> does not, and
    /// throws when it is first read) keeps one member in the place of the first, with the value of the last: what
    /// KrakenD's map decoding keeps, and what the merge does with top-level names.
    /// </summary>
    private static JsonNode? ParseLastNameWins(ReadOnlySpan<byte> json)
    {
        byte[]? replaced = ReplaceLoneSurrogates(json);
        if (replaced is not null)
        {
            json = replaced;
        }

        JsonNode? root = JsonNode.Parse(json);
        try
        {
            // JsonObject reads its members lazily: load them all here, so that a repeated name fails now and not
            // half-way through an operation or the output.
            Load(root);
            return root;
        }
        catch (ArgumentException)
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray());
            var rewritten = new ArrayBufferWriter<byte>(json.Length);
            using (var writer = new Utf8JsonWriter(rewritten, s_options))
            {
                WriteLastNameWins(document.RootElement, writer);
            }

            return JsonNode.Parse(rewritten.WrittenSpan);
        }
    }

    /// <summary>
    /// A copy of the document where every <c>\u</c> escape of a lone surrogate is <c>\uFFFD</c>, or null when there is
    /// none. JSON's grammar allows such escapes (RFC 8259 §8.2) but a tree cannot write them back (System.Text.Json
    /// unescapes every string it writes, and fails on them); Go's decoder, and so KrakenD, reads them as U+FFFD.
    /// Escapes appear only inside strings, so a scan of the whole valid document that skips each escape finds them all.
    /// </summary>
    private static byte[]? ReplaceLoneSurrogates(ReadOnlySpan<byte> json)
    {
        byte[]? copy = null;
        for (int i = json.IndexOf((byte)'\\'); i >= 0 && i + 1 < json.Length; i = json[(i + 2)..].IndexOf((byte)'\\') is int next and >= 0 ? i + 2 + next : -1)
        {
            if (json[i + 1] != 'u' || i + 6 > json.Length)
            {
                continue;
            }

            int unit = HexValue(json.Slice(i + 2, 4));
            if (unit is >= 0xD800 and <= 0xDBFF && i + 12 <= json.Length && json[i + 6] == '\\' && json[i + 7] == 'u' && HexValue(json.Slice(i + 8, 4)) is >= 0xDC00 and <= 0xDFFF)
            {
                i += 6; // a valid pair: skip its high half here, the loop skips the low half
                continue;
            }

            if (unit is >= 0xD800 and <= 0xDFFF)
            {
                copy ??= json.ToArray();
                "FFFD"u8.CopyTo(copy.AsSpan(i + 2));
            }
        }

        return copy;
    }

    private static int HexValue(ReadOnlySpan<byte> hex)
    {
        int value = 0;
        foreach (byte b in hex)
        {
            int digit = HexDigit(b);
            if (digit < 0)
            {
                return -1;
            }

            value = (value << 4) | digit;
        }

        return value;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    private static void Load(JsonNode? node)
    {
        if (node is JsonObject obj)
        {
            foreach (KeyValuePair<string, JsonNode?> member in obj)
            {
                Load(member.Value);
            }
        }
        else if (node is JsonArray array)
        {
            foreach (JsonNode? item in array)
            {
                Load(item);
            }
        }
    }

    private static void WriteLastNameWins(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var last = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (JsonProperty member in element.EnumerateObject())
                {
                    last[member.Name] = member.Value;
                }

                writer.WriteStartObject();
                foreach (JsonProperty member in element.EnumerateObject())
                {
                    if (last.Remove(member.Name, out JsonElement value))
                    {
                        writer.WritePropertyName(member.Name);
                        WriteLastNameWins(value, writer);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (JsonElement item in element.EnumerateArray())
                {
                    WriteLastNameWins(item, writer);
                }

                writer.WriteEndArray();
                break;
            default:
                // Numbers keep their text: JsonElement writes the literal as it was read.
                element.WriteTo(writer);
                break;
        }
    }

    /// <summary>Every concrete location a path with wildcards matches: the parent, the key (or index), and what each <c>*</c> stood for.</summary>
    private static List<(JsonNode Parent, string Key, string[] Captures)> Find(JsonNode root, string[] path)
    {
        var found = new List<(JsonNode, string, string[])>();
        Walk(root, path, 0, [], found);
        return found;
    }

    private static void Walk(JsonNode node, string[] path, int depth, List<string> captures, List<(JsonNode, string, string[])> found)
    {
        string segment = path[depth];
        bool last = depth == path.Length - 1;
        foreach ((string key, JsonNode? child) in Children(node, segment))
        {
            bool wildcard = segment == "*";
            if (wildcard)
            {
                captures.Add(key);
            }

            if (last)
            {
                found.Add((node, key, captures.ToArray()));
            }
            else if (child is JsonObject or JsonArray)
            {
                Walk(child, path, depth + 1, captures, found);
            }

            if (wildcard)
            {
                captures.RemoveAt(captures.Count - 1);
            }
        }
    }

    private static IEnumerable<(string Key, JsonNode? Child)> Children(JsonNode node, string segment)
    {
        if (node is JsonObject obj)
        {
            if (segment == "*")
            {
                foreach (KeyValuePair<string, JsonNode?> pair in obj.ToArray())
                {
                    yield return (pair.Key, pair.Value);
                }
            }
            else if (obj.TryGetPropertyValue(segment, out JsonNode? child))
            {
                yield return (segment, child);
            }
        }
        else if (node is JsonArray array)
        {
            if (segment == "*")
            {
                for (int i = 0; i < array.Count; i++)
                {
                    yield return (i.ToString(CultureInfo.InvariantCulture), array[i]);
                }
            }
            else if (int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < array.Count)
            {
                yield return (segment, array[index]);
            }
        }
    }

    private static void Delete(JsonNode root, string[] path)
    {
        List<(JsonNode Parent, string Key, string[] Captures)> found = Find(root, path);

        // Remove array elements from the highest index down, so earlier removals do not shift later ones.
        found.Sort((a, b) => Index(b.Key).CompareTo(Index(a.Key)));
        foreach ((JsonNode parent, string key, _) in found)
        {
            Remove(parent, key);
        }
    }

    private static void Move(JsonNode root, string[] from, string[] to)
    {
        foreach ((JsonNode parent, string key, string[] captures) in Find(root, from))
        {
            JsonNode? value = Get(parent, key);
            string[] destination = Substitute(to, captures);

            // Same depth: a rename where the value is (works under wildcards).
            if (destination.Length == from.Length && parent is JsonObject obj)
            {
                JsonNode? detached = Detach(obj, key);
                obj[destination[^1]] = detached;
                continue;
            }

            Remove(parent, key);
            Set(root, destination, value);
        }
    }

    private static void Append(JsonNode root, string[] from, string[] to)
    {
        List<(JsonNode Parent, string Key, string[] Captures)> sources = Find(root, from);
        List<(JsonNode Parent, string Key, string[] Captures)> targets = Find(root, to);
        if (sources.Count != 1 || targets.Count != 1 || Get(sources[0].Parent, sources[0].Key) is not JsonArray source || Get(targets[0].Parent, targets[0].Key) is not JsonArray target)
        {
            return;
        }

        Remove(sources[0].Parent, sources[0].Key);
        foreach (JsonNode? item in source.ToArray())
        {
            source.Remove(item);
            target.Add(item);
        }
    }

    private static string[] Substitute(string[] path, string[] captures)
    {
        var result = (string[])path.Clone();
        int next = 0;
        for (int i = 0; i < result.Length && next < captures.Length; i++)
        {
            if (result[i] == "*")
            {
                result[i] = captures[next++];
            }
        }

        return result;
    }

    /// <summary>Writes a value at a concrete path, creating the objects on the way.</summary>
    private static void Set(JsonNode root, string[] path, JsonNode? value)
    {
        JsonNode node = root;
        for (int i = 0; i < path.Length - 1; i++)
        {
            JsonNode? next = Get(node, path[i]);
            if (next is not JsonObject and not JsonArray)
            {
                if (node is not JsonObject obj)
                {
                    return;
                }

                next = new JsonObject();
                obj[path[i]] = next;
            }

            node = next;
        }

        if (node is JsonObject target)
        {
            target[path[^1]] = value;
        }
        else if (node is JsonArray array && int.TryParse(path[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < array.Count)
        {
            array[index] = value;
        }
    }

    private static JsonNode? Get(JsonNode node, string key) => node switch
    {
        JsonObject obj => obj.TryGetPropertyValue(key, out JsonNode? value) ? value : null,
        JsonArray array when int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < array.Count => array[index],
        _ => null,
    };

    private static JsonNode? Detach(JsonObject obj, string key)
    {
        obj.TryGetPropertyValue(key, out JsonNode? value);
        obj.Remove(key);
        return value;
    }

    private static void Remove(JsonNode parent, string key)
    {
        if (parent is JsonObject obj)
        {
            obj.Remove(key);
        }
        else if (parent is JsonArray array && int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < array.Count)
        {
            array.RemoveAt(index);
        }
    }

    private static int Index(string key) => int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? index : -1;
}

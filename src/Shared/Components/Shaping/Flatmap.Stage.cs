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
            root = JsonNode.Parse(jsonObject);
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

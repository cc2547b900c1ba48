using System.Text;

namespace Gateway.Runtime.Json;

/// <summary>
/// A field path such as <c>user.items.0.id</c>, precomputed at build time: each segment as UTF-8 bytes, and for a
/// segment of ASCII digits also its array index.
/// </summary>
public sealed class JsonPath
{
    private readonly byte[][] _names;
    private readonly int[] _indexes;

    public JsonPath(params byte[][] utf8Segments)
    {
        ArgumentNullException.ThrowIfNull(utf8Segments);
        _names = utf8Segments;
        _indexes = new int[utf8Segments.Length];
        for (int i = 0; i < utf8Segments.Length; i++)
        {
            _indexes[i] = ParseIndex(utf8Segments[i]);
            if (utf8Segments[i] is [(byte)'*'] && WildcardAt < 0)
            {
                WildcardAt = i;
            }
        }

        if (WildcardAt >= 0)
        {
            BeforeWildcard = new JsonPath(utf8Segments[..WildcardAt]);
            AfterWildcard = new JsonPath(utf8Segments[(WildcardAt + 1)..]);
        }
    }

    /// <summary>The position of the first <c>*</c> segment (every element of an array), or -1.</summary>
    public int WildcardAt { get; } = -1;

    /// <summary>With a wildcard: the path to the array.</summary>
    public JsonPath? BeforeWildcard { get; }

    /// <summary>With a wildcard: the path read inside each element.</summary>
    public JsonPath? AfterWildcard { get; }

    public static JsonPath Parse(string dotted)
    {
        ArgumentNullException.ThrowIfNull(dotted);
        string[] parts = dotted.Length == 0 ? [] : dotted.Split('.');
        var segments = new byte[parts.Length][];
        for (int i = 0; i < parts.Length; i++)
        {
            segments[i] = Encoding.UTF8.GetBytes(parts[i]);
        }

        return new JsonPath(segments);
    }

    public int Count => _names.Length;

    public ReadOnlySpan<byte> Name(int i) => _names[i];

    /// <summary>The array index the segment names, or -1 when it is not a plain non-negative integer.</summary>
    public int Index(int i) => _indexes[i];

    public override string ToString()
    {
        var parts = new string[_names.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            parts[i] = Encoding.UTF8.GetString(_names[i]);
        }

        return string.Join('.', parts);
    }

    private static int ParseIndex(byte[] segment)
    {
        // "0" or digits without a leading zero, small enough for an int.
        if (segment.Length == 0 || segment.Length > 9 || (segment[0] == (byte)'0' && segment.Length > 1))
        {
            return -1;
        }

        int value = 0;
        foreach (byte b in segment)
        {
            if (b < (byte)'0' || b > (byte)'9')
            {
                return -1;
            }

            value = (value * 10) + (b - (byte)'0');
        }

        return value;
    }
}

using System.Collections.Generic;

namespace Gateway.Config.Json;

/// <summary>The kinds of value a configuration file can hold.</summary>
internal enum JsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A value of the configuration document together with where it was written, so every diagnostic can
/// point at the exact token. Spans are character offsets into the source text.
/// </summary>
internal sealed class JsonNode
{
    private JsonNode(JsonKind kind, int start, int length, string? text, List<JsonProperty>? properties, List<JsonNode>? items)
    {
        Kind = kind;
        Start = start;
        Length = length;
        Text = text;
        Properties = properties;
        Items = items;
    }

    public JsonKind Kind { get; }

    /// <summary>Offset of the first character of the value (the quote of a string, the brace of an object).</summary>
    public int Start { get; }

    public int Length { get; }

    /// <summary>The unescaped value of a string, or the literal text of a number.</summary>
    public string? Text { get; }

    /// <summary>Members of an object in the order written (duplicates included).</summary>
    public List<JsonProperty>? Properties { get; }

    public List<JsonNode>? Items { get; }

    public static JsonNode CreateObject(int start, int length, List<JsonProperty> properties) =>
        new(JsonKind.Object, start, length, null, properties, null);

    public static JsonNode CreateArray(int start, int length, List<JsonNode> items) =>
        new(JsonKind.Array, start, length, null, null, items);

    public static JsonNode CreateString(int start, int length, string value) =>
        new(JsonKind.String, start, length, value, null, null);

    public static JsonNode CreateNumber(int start, int length, string literal) =>
        new(JsonKind.Number, start, length, literal, null, null);

    public static JsonNode CreateLiteral(JsonKind kind, int start, int length) =>
        new(kind, start, length, null, null, null);

    /// <summary>The last member named <paramref name="name"/> (JSON parsers keep the last duplicate).</summary>
    public JsonProperty? Find(string name)
    {
        if (Properties is null)
        {
            return null;
        }

        for (int i = Properties.Count - 1; i >= 0; i--)
        {
            if (Properties[i].Name == name)
            {
                return Properties[i];
            }
        }

        return null;
    }

    public static string Describe(JsonKind kind) => kind switch
    {
        JsonKind.Object => "an object",
        JsonKind.Array => "an array",
        JsonKind.String => "a string",
        JsonKind.Number => "a number",
        JsonKind.True or JsonKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>An object member: its name, where the name was written, and its value.</summary>
internal sealed class JsonProperty
{
    public JsonProperty(string name, int nameStart, int nameLength, JsonNode value)
    {
        Name = name;
        NameStart = nameStart;
        NameLength = nameLength;
        Value = value;
    }

    public string Name { get; }

    public int NameStart { get; }

    public int NameLength { get; }

    public JsonNode Value { get; }
}

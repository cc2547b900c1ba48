using Gateway.Config.Json;

namespace Gateway.Config.Parsing;

/// <summary>
/// A placeholder's default (docs/configuration.md, placeholders): <c>{input_headers.X-Device|"unknown"}</c>,
/// <c>{resp0_count|0}</c>. After the <c>|</c> comes one JSON scalar: a string in double quotes, a number, <c>true</c>,
/// <c>false</c> or <c>null</c>. It stands in for a value that is missing or cannot be used where it lands, with its own
/// JSON type in a JSON body.
/// </summary>
internal static class PlaceholderDefaults
{
    /// <summary>Splits <c>name|default</c>; <paramref name="literal"/> is null when there is no <c>|</c>.</summary>
    public static string Split(string inside, out string? literal)
    {
        int bar = inside.IndexOf('|');
        if (bar < 0)
        {
            literal = null;
            return inside;
        }

        literal = inside.Substring(bar + 1).Trim();
        return inside.Substring(0, bar);
    }

    /// <summary>
    /// Reads a default's JSON literal: <paramref name="compact"/> is its JSON as the body receives it and
    /// <paramref name="text"/> its text form (a string's characters, a number or boolean as written, null for null).
    /// False when it is not one JSON scalar.
    /// </summary>
    public static bool TryRead(string literal, out string compact, out string? text)
    {
        compact = string.Empty;
        text = null;
        JsonNode? node = JsonDocumentReader.Read(literal, out JsonSyntaxError? error);
        if (node is null || error is not null)
        {
            return false;
        }

        switch (node.Kind)
        {
            case JsonKind.String:
                text = node.Text;
                break;
            case JsonKind.Number:
                text = node.Text;
                break;
            case JsonKind.True:
                text = "true";
                break;
            case JsonKind.False:
                text = "false";
                break;
            case JsonKind.Null:
                break;
            default:
                return false;
        }

        compact = JsonText.Compact(node);
        return true;
    }
}

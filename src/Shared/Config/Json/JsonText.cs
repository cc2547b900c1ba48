using System.Globalization;
using System.Text;

namespace Gateway.Config.Json;

/// <summary>Writes a parsed value back as compact JSON: numbers keep their literal, strings are re-escaped.</summary>
internal static class JsonText
{
    public static string Compact(JsonNode node)
    {
        var builder = new StringBuilder();
        Write(node, builder);
        return builder.ToString();
    }

    private static void Write(JsonNode node, StringBuilder builder)
    {
        switch (node.Kind)
        {
            case JsonKind.Object:
                builder.Append('{');
                for (int i = 0; i < node.Properties!.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    WriteString(node.Properties[i].Name, builder);
                    builder.Append(':');
                    Write(node.Properties[i].Value, builder);
                }

                builder.Append('}');
                break;
            case JsonKind.Array:
                builder.Append('[');
                for (int i = 0; i < node.Items!.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Write(node.Items[i], builder);
                }

                builder.Append(']');
                break;
            case JsonKind.String:
                WriteString(node.Text!, builder);
                break;
            case JsonKind.Number:
                builder.Append(node.Text);
                break;
            case JsonKind.True:
                builder.Append("true");
                break;
            case JsonKind.False:
                builder.Append("false");
                break;
            default:
                builder.Append("null");
                break;
        }
    }

    public static void WriteString(string value, StringBuilder builder)
    {
        builder.Append('"');
        WriteEscaped(value, builder);
        builder.Append('"');
    }

    /// <summary>The content of a JSON string for <paramref name="value"/>, without the quotes.</summary>
    public static void WriteEscaped(string value, StringBuilder builder)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }
    }
}

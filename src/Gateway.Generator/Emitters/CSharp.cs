using System.Globalization;
using System.Text;

namespace Gateway.Generator.Emitters;

/// <summary>Spelling values as C# source: literals, identifiers, doc-comment text.</summary>
internal static class CSharp
{
    public static string String(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
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
                    if (c < 0x20 || c > 0x7E)
                    {
                        builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }

    /// <summary>A UTF-8 literal (<c>"..."u8</c>): the bytes are baked into the assembly.</summary>
    public static string Utf8(string value) => String(value) + "u8";

    /// <summary>Text for an XML doc comment.</summary>
    public static string Doc(string value) =>
        Comment(value).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Text safe inside a <c>//</c> comment: a line break in a config value must not end the comment.</summary>
    public static string Comment(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            builder.Append(c < 0x20 || c == 0x7F || c == '\u2028' || c == '\u2029' || c == '\u0085' ? ' ' : c);
        }

        return builder.ToString();
    }

    /// <summary><c>/hotel-destinations/{id}</c> → <c>HotelDestinationsId</c>.</summary>
    public static string PascalWords(string text)
    {
        var builder = new StringBuilder();
        bool upper = true;
        foreach (char c in text)
        {
            bool letterOrDigit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!letterOrDigit)
            {
                upper = true;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return builder.ToString();
    }

    /// <summary><c>resp0_user.id</c> → <c>Resp0UserId</c>, for field names.</summary>
    public static string Identifier(string text) => PascalWords(text);

    /// <summary>A short stable hash, to tell apart two names that spell the same.</summary>
    public static string StableSuffix(string text)
    {
        // FNV-1a: stable across processes and platforms, unlike string.GetHashCode.
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash = unchecked((hash ^ b) * 16777619);
        }

        return hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    public static string HttpMethod(string method) => method switch
    {
        "GET" => "global::System.Net.Http.HttpMethod.Get",
        "POST" => "global::System.Net.Http.HttpMethod.Post",
        "PUT" => "global::System.Net.Http.HttpMethod.Put",
        "PATCH" => "global::System.Net.Http.HttpMethod.Patch",
        "DELETE" => "global::System.Net.Http.HttpMethod.Delete",
        "HEAD" => "global::System.Net.Http.HttpMethod.Head",
        "OPTIONS" => "global::System.Net.Http.HttpMethod.Options",
        _ => "new global::System.Net.Http.HttpMethod(" + String(method) + ")",
    };
}

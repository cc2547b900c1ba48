using Gateway.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>The content codings the gateway applies to its answers (RFC 9110 §8.4.1).</summary>
public enum ContentCoding
{
    /// <summary>No coding: the body as it is.</summary>
    Identity,

    Gzip,

    Brotli,
}

/// <summary>What a client's <c>Accept-Encoding</c> allows: the coding it ranks highest, and whether it refuses an uncompressed body.</summary>
/// <param name="Coding">Brotli or gzip when the client accepts one and ranks no uncompressed body above it; else identity.</param>
/// <param name="IdentityRefused"><c>identity;q=0</c>, or <c>*;q=0</c> without an entry for identity.</param>
public readonly record struct EncodingChoice(ContentCoding Coding, bool IdentityRefused);

/// <summary>
/// Reads <c>Accept-Encoding</c> (RFC 9110 §12.5.3): comma-separated codings, each with an optional weight
/// <c>;q=0.5</c> (0 to 1, at most three decimals). The gateway offers brotli and gzip (<c>x-gzip</c> is gzip, RFC 9110
/// §8.4.1.3); <c>*</c> stands for any coding not listed. The heaviest acceptable coding wins, brotli on a tie (it
/// compresses JSON better at the same cost); an explicit <c>identity</c> weighted above both keeps the body
/// uncompressed. An element that does not parse (a bad weight, an unknown parameter) is skipped, so malformed input
/// gets an answer, uncompressed at worst; a coding listed twice keeps its first weight. The work is one pass over the
/// header, whose size Kestrel bounds.
/// </summary>
public static class AcceptEncoding
{
    private const int Unlisted = -1;

    /// <summary>The full weight, in thousandths.</summary>
    private const int One = 1000;

    public static EncodingChoice Choose(StringValues header)
    {
        int brotli = Unlisted, gzip = Unlisted, identity = Unlisted, any = Unlisted;
        foreach (string? value in header)
        {
            ReadOnlySpan<char> rest = value;
            while (!rest.IsEmpty)
            {
                int comma = rest.IndexOf(',');
                ReadOnlySpan<char> element = comma < 0 ? rest : rest[..comma];
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (!TryParseElement(element, out ReadOnlySpan<char> coding, out int weight))
                {
                    continue;
                }

                if (coding.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    First(ref brotli, weight);
                }
                else if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
                {
                    First(ref gzip, weight);
                }
                else if (coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    First(ref identity, weight);
                }
                else if (coding is "*")
                {
                    First(ref any, weight);
                }
            }
        }

        int brotliWeight = brotli != Unlisted ? brotli : Math.Max(any, 0);
        int gzipWeight = gzip != Unlisted ? gzip : Math.Max(any, 0);
        bool identityRefused = identity == 0 || (identity == Unlisted && any == 0);
        int best = Math.Max(brotliWeight, gzipWeight);
        ContentCoding chosen = best == 0 || identity > best
            ? ContentCoding.Identity
            : brotliWeight >= gzipWeight ? ContentCoding.Brotli : ContentCoding.Gzip;
        return new EncodingChoice(chosen, identityRefused);
    }

    private static void First(ref int slot, int weight)
    {
        if (slot == Unlisted)
        {
            slot = weight;
        }
    }

    /// <summary>One element: <c>coding [OWS ";" OWS "q=" qvalue]</c>, the weight in thousandths.</summary>
    private static bool TryParseElement(ReadOnlySpan<char> element, out ReadOnlySpan<char> coding, out int weight)
    {
        element = element.Trim(" \t");
        int semicolon = element.IndexOf(';');
        coding = (semicolon < 0 ? element : element[..semicolon]).TrimEnd(" \t");
        weight = One;
        if (!HttpRules.IsToken(coding))
        {
            return false;
        }

        if (semicolon < 0)
        {
            return true;
        }

        ReadOnlySpan<char> parameter = element[(semicolon + 1)..].TrimStart(" \t");
        return parameter.Length >= 2 && (parameter[0] | 0x20) == 'q' && parameter[1] == '=' && TryParseWeight(parameter[2..], out weight);
    }

    /// <summary><c>qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )</c> (RFC 9110 §12.4.2).</summary>
    private static bool TryParseWeight(ReadOnlySpan<char> text, out int weight)
    {
        weight = 0;
        if (text.IsEmpty || text.Length > 5 || (text[0] != '0' && text[0] != '1') || (text.Length > 1 && text[1] != '.'))
        {
            return false;
        }

        int thousandths = 0;
        int scale = 100;
        for (int i = 2; i < text.Length; i++, scale /= 10)
        {
            if (text[i] is < '0' or > '9')
            {
                return false;
            }

            thousandths += (text[i] - '0') * scale;
        }

        weight = text[0] == '1' ? One : thousandths;
        return text[0] == '0' || thousandths == 0;
    }
}

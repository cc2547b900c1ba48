using System.Buffers;
using System.Text;

namespace Gateway.Runtime.Http;

/// <summary>
/// Percent-encoding of injected values (docs/compatibility.md, injected values). Only characters that cannot change the URL's structure
/// where the value lands are kept as written; everything else, every control character and every non-ASCII byte is
/// written as <c>%XX</c>.
/// </summary>
public static class PercentEncoding
{
    // Unreserved (RFC 3986 §2.3) plus the sub-delimiters and ':' '@' that a path segment may hold (§3.3).
    // ';' is encoded anyway: some servers read it as a path-parameter separator.
    private static readonly SearchValues<byte> s_segmentSafe = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+,=&:@"u8);

    // Unreserved plus the characters a query value may hold without splitting it (§3.4): not '&', '=', '+', ';', '#'.
    private static readonly SearchValues<byte> s_queryValueSafe = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,:@/"u8);

    // The same without ',', for the elements of an injected array, which are joined with a literal ','.
    private static readonly SearchValues<byte> s_segmentElementSafe = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+=&:@"u8);
    private static readonly SearchValues<byte> s_queryElementSafe = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*:@/"u8);

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    public static int MaxEncodedLength(int utf8Length) => utf8Length * 3;

    /// <summary>Writes <paramref name="utf8"/> encoded for <paramref name="component"/>; returns the bytes written.</summary>
    /// <param name="utf8">The text to encode.</param>
    /// <param name="component">Where the text lands.</param>
    /// <param name="destination">At least <see cref="MaxEncodedLength"/> bytes.</param>
    /// <param name="arrayElement">Also encode ',' so the elements of a joined array stay apart.</param>
    public static int Encode(ReadOnlySpan<byte> utf8, UrlComponent component, Span<byte> destination, bool arrayElement = false)
    {
        SearchValues<byte> safe = (component, arrayElement) switch
        {
            (UrlComponent.PathSegment, false) => s_segmentSafe,
            (UrlComponent.PathSegment, true) => s_segmentElementSafe,
            (_, false) => s_queryValueSafe,
            _ => s_queryElementSafe,
        };
        int written = 0;
        while (!utf8.IsEmpty)
        {
            int run = utf8.IndexOfAnyExcept(safe);
            if (run < 0)
            {
                run = utf8.Length;
            }

            utf8[..run].CopyTo(destination[written..]);
            written += run;
            if (run == utf8.Length)
            {
                break;
            }

            byte b = utf8[run];
            destination[written] = (byte)'%';
            destination[written + 1] = Hex[b >> 4];
            destination[written + 2] = Hex[b & 0xF];
            written += 3;
            utf8 = utf8[(run + 1)..];
        }

        return written;
    }

    /// <summary>
    /// Decodes one percent-encoded path segment (<c>+</c> stays <c>+</c>). False for a malformed escape, bytes that
    /// are not UTF-8, or <c>%00</c> (as Kestrel refuses it in an origin-form path; an absolute-form target reaches the
    /// router undecoded, docs/reliability.md).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> escaped, out string decoded)
    {
        decoded = string.Empty;
        byte[]? rented = null;
        Span<byte> bytes = escaped.Length <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(escaped.Length));
        try
        {
            int count = 0;
            for (int i = 0; i < escaped.Length; i++)
            {
                char c = escaped[i];
                if (c == '%')
                {
                    if (i + 2 >= escaped.Length || !IsHex(escaped[i + 1]) || !IsHex(escaped[i + 2]))
                    {
                        return false;
                    }

                    bytes[count] = (byte)((HexValue(escaped[i + 1]) << 4) | HexValue(escaped[i + 2]));
                    if (bytes[count++] == 0)
                    {
                        return false;
                    }

                    i += 2;
                }
                else if (c > 0x7F)
                {
                    // A raw non-ASCII character in a request target is not valid HTTP.
                    return false;
                }
                else
                {
                    bytes[count++] = (byte)c;
                }
            }

            if (!System.Text.Unicode.Utf8.IsValid(bytes[..count]))
            {
                return false;
            }

            decoded = Encoding.UTF8.GetString(bytes[..count]);
            return true;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// What a header value may hold on the wire, in both directions (RFC 9110 §5.5): visible ASCII, spaces and tabs. A
/// value with anything else (non-ASCII text, control characters, CR/LF) is never sent: not to a backend, where the
/// HTTP client would refuse the whole request, and not to a client, where Kestrel would refuse the whole response.
/// </summary>
public static class HeaderRules
{
    /// <summary>HTAB, then every visible ASCII character and space (0x20-0x7E).</summary>
    private static readonly string s_allowed = "\t" + string.Create(0x7F - 0x20, 0, static (chars, _) =>
    {
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)(0x20 + i);
        }
    });

    private static readonly SearchValues<char> s_allowedChars = SearchValues.Create(s_allowed);
    private static readonly SearchValues<byte> s_allowedBytes = SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(s_allowed));

    public static bool IsValidValue(ReadOnlySpan<char> value) => value.IndexOfAnyExcept(s_allowedChars) < 0;

    public static bool IsValidValue(ReadOnlySpan<byte> value) => value.IndexOfAnyExcept(s_allowedBytes) < 0;

    /// <summary>True when every value of a (possibly repeated) header is valid.</summary>
    public static bool AreValidValues(StringValues values)
    {
        foreach (string? value in values)
        {
            if (value is not null && !IsValidValue(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when every value of a (possibly repeated) header is valid.</summary>
    public static bool AreValidValues(IEnumerable<string> values)
    {
        foreach (string value in values)
        {
            if (!IsValidValue(value))
            {
                return false;
            }
        }

        return true;
    }
}

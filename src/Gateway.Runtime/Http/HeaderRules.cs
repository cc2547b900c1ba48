using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// What a header value may hold on the wire, in both directions (RFC 9110 §5.5): visible ASCII, spaces and tabs. A
/// value with anything else (non-ASCII text, control characters, CR/LF) is never sent: not to a backend, where the
/// HTTP client would refuse the whole request, and not to a client, where Kestrel would refuse the whole response.
/// </summary>
public static class HeaderRules
{
    public static bool IsValidValue(ReadOnlySpan<char> value)
    {
        foreach (char c in value)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsValidValue(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (!IsAllowed((char)b))
            {
                return false;
            }
        }

        return true;
    }

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

    private static bool IsAllowed(char c) => c is '\t' or (>= ' ' and < (char)0x7F);
}

using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace Gateway.Runtime.Json;

/// <summary>Checks that a backend body is one JSON object, as the <c>json</c> encoding requires (docs/configuration.md, decoding).</summary>
/// <remarks>
/// Every JSON backend response passes through here once, so this is a single forward scan written for speed rather
/// than a tokenizer: no token objects, a 64-bit stack of container kinds, a table lookup per string byte and a
/// vectorized search only for long strings. It accepts exactly what <c>Utf8JsonReader</c> with default options accepts
/// (RFC 8259 grammar, no comments, no trailing commas, 64 levels); a differential test holds the two together.
/// </remarks>
public static class JsonObjectBody
{
    /// <summary>
    /// The deepest nesting accepted, as <c>Utf8JsonReader</c>'s default, and the most a caller may ask for: the scan's
    /// stack is 64 bits, and every later reader of the body (merge, shaping, lookups) reads with the default.
    /// </summary>
    public const int MaxDepth = 64;

    // Bytes that end the fast run inside a string: the quote, the backslash and the control characters.
    private static readonly SearchValues<byte> s_stringStops = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"u8);

    /// <summary>
    /// True when <paramref name="body"/> starts (after whitespace) with a complete, valid JSON object no deeper than
    /// <paramref name="maxDepth"/> levels (1 to <see cref="MaxDepth"/>; <c>--max-json-depth</c>), valid UTF-8 throughout,
    /// and whose escaped property names are valid text; returns the object's range. As in KrakenD, bytes after the first
    /// value are ignored. Never throws. Everything downstream (merge, lookups) relies on these checks.
    /// </summary>
    public static bool TryGetObject(ReadOnlySpan<byte> body, out int start, out int length, int maxDepth = MaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDepth, MaxDepth);
        start = 0;
        length = 0;
        int first = SkipWhitespace(body, 0);
        if (first >= body.Length || body[first] != (byte)'{')
        {
            return false;
        }

        int end = Scan(body, first, maxDepth);

        // JSON text is UTF-8 (RFC 8259 §8.1). The scan checks the grammar only, so bytes that are not UTF-8 inside a
        // string would reach the client as they came: a body that no strict parser reads. One vectorized pass.
        if (end < 0 || !Utf8.IsValid(body[first..end]))
        {
            return false;
        }

        start = first;
        length = end - first;
        return true;
    }

    /// <summary>Scans the object at <paramref name="i"/>; returns the index just past it, or -1.</summary>
    private static int Scan(ReadOnlySpan<byte> json, int i, int maxDepth)
    {
        ulong arrays = 0; // bit d set: the container at depth d is an array
        int depth = 0;

    Value:
        if (i >= json.Length)
        {
            return -1;
        }

        switch (json[i])
        {
            case (byte)'{':
                if (depth == maxDepth)
                {
                    return -1;
                }

                arrays &= ~(1UL << depth);
                depth++;
                i = SkipWhitespace(json, i + 1);
                if (i < json.Length && json[i] == (byte)'}')
                {
                    i++;
                    depth--;
                    goto AfterValue;
                }

                goto Member;
            case (byte)'[':
                if (depth == maxDepth)
                {
                    return -1;
                }

                arrays |= 1UL << depth;
                depth++;
                i = SkipWhitespace(json, i + 1);
                if (i < json.Length && json[i] == (byte)']')
                {
                    i++;
                    depth--;
                    goto AfterValue;
                }

                goto Value;
            case (byte)'"':
                i = ScanString(json, i + 1, isName: false);
                break;
            case (byte)'t':
                i = json[i..].StartsWith("true"u8) ? i + 4 : -1;
                break;
            case (byte)'f':
                i = json[i..].StartsWith("false"u8) ? i + 5 : -1;
                break;
            case (byte)'n':
                i = json[i..].StartsWith("null"u8) ? i + 4 : -1;
                break;
            default:
                i = ScanNumber(json, i);
                break;
        }

        if (i < 0)
        {
            return -1;
        }

    AfterValue:
        // Whatever follows a value must be whitespace, a comma or the right closer, so "truex", "01" and "1 2" fail here.
        if (depth == 0)
        {
            return i;
        }

        i = SkipWhitespace(json, i);
        if (i >= json.Length)
        {
            return -1;
        }

        bool inArray = (arrays & (1UL << (depth - 1))) != 0;
        byte next = json[i];
        if (next == (byte)',')
        {
            i = SkipWhitespace(json, i + 1);
            if (inArray)
            {
                goto Value;
            }

            goto Member;
        }

        if (next == (inArray ? (byte)']' : (byte)'}'))
        {
            i++;
            depth--;
            goto AfterValue;
        }

        return -1;

    Member:
        if (i >= json.Length || json[i] != (byte)'"')
        {
            return -1;
        }

        i = ScanString(json, i + 1, isName: true);
        if (i < 0)
        {
            return -1;
        }

        i = SkipWhitespace(json, i);
        if (i >= json.Length || json[i] != (byte)':')
        {
            return -1;
        }

        i = SkipWhitespace(json, i + 1);
        goto Value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhitespace(ReadOnlySpan<byte> json, int i)
    {
        while ((uint)i < (uint)json.Length)
        {
            byte b = json[i];
            if (b != (byte)' ' && b != (byte)'\n' && b != (byte)'\r' && b != (byte)'\t')
            {
                break;
            }

            i++;
        }

        return i;
    }

    /// <summary>
    /// Scans a string body from just after its opening quote; returns the index past the closing quote, or -1 for a
    /// control character, a malformed escape or the end of input. In a property name, an escaped UTF-16 surrogate must
    /// be part of a valid pair and an escaped name must be UTF-8, or the name could not be compared or re-written as text.
    /// </summary>
    private static int ScanString(ReadOnlySpan<byte> json, int i, bool isName)
    {
        int begin = i;
        bool escaped = false;
        int pendingHigh = -1; // index just past a \uD800-\uDBFF escape in a name, waiting for its low half
        while (true)
        {
            // Short strings dominate real payloads: two 8-byte words tested at once (see FirstStop) before paying for a
            // vectorized search, which also takes a body's last few bytes.
            int stop = -1;
            for (int k = 0; k < 2 && i <= json.Length - sizeof(ulong); k++)
            {
                int at = FirstStop(BinaryPrimitives.ReadUInt64LittleEndian(json[i..]));
                if (at < sizeof(ulong))
                {
                    stop = i + at;
                    break;
                }

                i += sizeof(ulong);
            }

            if (stop < 0)
            {
                int found = json[i..].IndexOfAny(s_stringStops);
                if (found < 0)
                {
                    return -1;
                }

                stop = i + found;
            }

            i = stop;
            byte c = json[i];
            if (c == (byte)'"')
            {
                // An escaped name is unescaped to text downstream; its raw bytes (escapes are ASCII) must be UTF-8.
                bool valid = pendingHigh < 0 && (!isName || !escaped || Utf8.IsValid(json[begin..i]));
                return valid ? i + 1 : -1;
            }

            if (c < 0x20 || i + 1 >= json.Length)
            {
                return -1;
            }

            if (pendingHigh >= 0 && pendingHigh != i)
            {
                return -1;
            }

            escaped = true;
            byte escape = json[i + 1];
            if (escape != (byte)'u')
            {
                if (pendingHigh >= 0 || !IsSimpleEscape(escape))
                {
                    return -1;
                }

                i += 2;
                continue;
            }

            if (i + 6 > json.Length)
            {
                return -1;
            }

            int unit = 0;
            for (int h = i + 2; h < i + 6; h++)
            {
                int digit = HexValue(json[h]);
                if (digit < 0)
                {
                    return -1;
                }

                unit = (unit << 4) | digit;
            }

            i += 6;
            if (isName)
            {
                bool high = unit is >= 0xD800 and <= 0xDBFF;
                bool low = unit is >= 0xDC00 and <= 0xDFFF;
                if (pendingHigh >= 0)
                {
                    if (!low)
                    {
                        return -1;
                    }

                    pendingHigh = -1;
                }
                else if (low)
                {
                    return -1;
                }
                else if (high)
                {
                    pendingHigh = i;
                }
            }
        }
    }

    /// <summary>
    /// The index (0 to 7) of the first byte of <paramref name="word"/>, read little-endian, that ends a string's fast
    /// run: a quote, a backslash or a control character; 8 when there is none. Each test sets a byte's top bit where
    /// the byte is zero after the xor (or below 0x20); a borrow can only set bits above a byte that truly matched, so
    /// the lowest set bit is exact. Bytes of 0x80 and above (UTF-8 sequences) never match.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FirstStop(ulong word)
    {
        const ulong Ones = 0x0101010101010101UL;
        const ulong Highs = 0x8080808080808080UL;
        ulong quote = word ^ (Ones * (byte)'"');
        ulong backslash = word ^ (Ones * (byte)'\\');
        ulong found = ((quote - Ones) & ~quote) | ((backslash - Ones) & ~backslash) | ((word - (Ones * 0x20)) & ~word);
        return BitOperations.TrailingZeroCount(found & Highs) >> 3;
    }

    private static bool IsSimpleEscape(byte b) =>
        b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t';

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>RFC 8259 numbers: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>. Returns the index past it, or -1.</summary>
    private static int ScanNumber(ReadOnlySpan<byte> json, int i)
    {
        if (json[i] == (byte)'-')
        {
            i++;
        }

        if (i >= json.Length)
        {
            return -1;
        }

        if (json[i] == (byte)'0')
        {
            i++;
        }
        else if (IsDigit(json[i]))
        {
            i = SkipDigits(json, i + 1);
        }
        else
        {
            return -1;
        }

        if (i < json.Length && json[i] == (byte)'.')
        {
            if (i + 1 >= json.Length || !IsDigit(json[i + 1]))
            {
                return -1;
            }

            i = SkipDigits(json, i + 2);
        }

        if (i < json.Length && (json[i] | 0x20) == (byte)'e')
        {
            i++;
            if (i < json.Length && (json[i] == (byte)'+' || json[i] == (byte)'-'))
            {
                i++;
            }

            if (i >= json.Length || !IsDigit(json[i]))
            {
                return -1;
            }

            i = SkipDigits(json, i + 1);
        }

        return i;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static int SkipDigits(ReadOnlySpan<byte> json, int i)
    {
        while (i < json.Length && IsDigit(json[i]))
        {
            i++;
        }

        return i;
    }
}

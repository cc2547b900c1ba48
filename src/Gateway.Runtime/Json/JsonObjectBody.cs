using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Unicode;

namespace Gateway.Runtime.Json;

/// <summary>Checks that a backend body is one JSON object, as the <c>json</c> encoding requires (docs/configuration.md, decoding).</summary>
/// <remarks>
/// Every JSON backend response passes through here once, so this is a single forward scan written for speed rather
/// than a tokenizer: no token objects, a 64-bit stack of container kinds, and strings crossed by looking up the next
/// quote, backslash or control byte in a bit mask made once per 64-byte block (<see cref="StopIndex"/>). It accepts
/// exactly what <c>Utf8JsonReader</c> with default options accepts (RFC 8259 grammar, no comments, no trailing commas,
/// 64 levels); a differential test holds the two together. perf/json-aot times it as the gateway ships it.
/// </remarks>
public static class JsonObjectBody
{
    /// <summary>
    /// The deepest nesting accepted, as <c>Utf8JsonReader</c>'s default, and the most a caller may ask for: the scan's
    /// stack is 64 bits, and every later reader of the body (merge, shaping, lookups) reads with the default.
    /// </summary>
    public const int MaxDepth = 64;

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
        var stops = new StopIndex(json);

    Value:
        if (i >= json.Length)
        {
            return -1;
        }

        // Strings and numbers, most values, are told apart by two compares before the rest's switch: its jump table's
        // indirect branch predicts worse (products-20k.json: 0.91x the time).
        byte first = json[i];
        if (first == (byte)'"')
        {
            i = ScanString(json, ref stops, i + 1, isName: false);
        }
        else if (IsDigit(first) || first == (byte)'-')
        {
            i = ScanNumber(json, i);
        }
        else
        {
            switch (first)
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
                    return -1;
            }
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

        i = ScanString(json, ref stops, i + 1, isName: true);
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
    /// Scans a string body from just after its opening quote; returns the index past the closing quote, or -1. The
    /// common case, a string with nothing to unescape, is one look-up in the block's stop mask.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanString(ReadOnlySpan<byte> json, ref StopIndex stops, int i, bool isName)
    {
        int stop = stops.Next(i);
        if ((uint)stop < (uint)json.Length && json[stop] == (byte)'"')
        {
            return stop + 1;
        }

        return ScanEscapedString(json, ref stops, i, stop, isName);
    }

    /// <summary>
    /// The rest of a string whose first stop (at <paramref name="stop"/>) is not its closing quote: a control character,
    /// a malformed escape or the end of input fail; escapes are checked and skipped. In a property name, an escaped
    /// UTF-16 surrogate must be part of a valid pair and an escaped name must be UTF-8, or the name could not be compared
    /// or re-written as text.
    /// </summary>
    private static int ScanEscapedString(ReadOnlySpan<byte> json, ref StopIndex stops, int begin, int stop, bool isName)
    {
        bool escaped = false;
        int pendingHigh = -1; // index just past a \uD800-\uDBFF escape in a name, waiting for its low half
        int i = stop;
        while (true)
        {
            if (i >= json.Length)
            {
                return -1;
            }

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

                i = stops.Next(i + 2);
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

            i = stops.Next(i);
        }
    }

    /// <summary>
    /// Where a string's run of plain bytes ends: a bit per byte for the quotes, backslashes and control characters of one
    /// 64-byte block of the body, built from four 16-byte vectors (the width every build has: SSE2 on x64, without AVX) and
    /// kept while the scan stays in the block. Blocks are aligned on the body's start; the last, partial block is read
    /// through a zero-filled copy, so the bytes past the end count as stops and a search never runs off the body.
    /// </summary>
    private ref struct StopIndex
    {
        private const int BlockSize = 64;
        private readonly ReadOnlySpan<byte> _json;
        private int _block;
        private ulong _mask;

        public StopIndex(ReadOnlySpan<byte> json)
        {
            _json = json;
            _block = -BlockSize;
        }

        /// <summary>The index of the first stop at or after <paramref name="i"/>; the body's length or more when none.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Next(int i)
        {
            uint offset = (uint)(i - _block);
            if (offset < BlockSize)
            {
                ulong rest = _mask >> (int)offset;
                if (rest != 0)
                {
                    return i + BitOperations.TrailingZeroCount(rest);
                }
            }

            return NextFromBlock(i);
        }

        private int NextFromBlock(int i)
        {
            if (i >= _json.Length)
            {
                return _json.Length;
            }

            int block = i & ~(BlockSize - 1);
            if (block != _block)
            {
                ulong rest = Load(block) >> (i - block);
                if (rest != 0)
                {
                    return i + BitOperations.TrailingZeroCount(rest);
                }
            }

            while (true)
            {
                block += BlockSize;
                if (block >= _json.Length)
                {
                    return _json.Length;
                }

                ulong mask = Load(block);
                if (mask != 0)
                {
                    return block + BitOperations.TrailingZeroCount(mask);
                }
            }
        }

        private ulong Load(int block)
        {
            _block = block;
            ReadOnlySpan<byte> bytes = _json[block..];
            return _mask = bytes.Length >= BlockSize ? Mask(bytes) : PaddedMask(bytes);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong PaddedMask(ReadOnlySpan<byte> tail)
        {
            Span<byte> padded = stackalloc byte[BlockSize];
            padded.Clear();
            tail.CopyTo(padded);
            return Mask(padded);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Mask(ReadOnlySpan<byte> block)
        {
            ref byte at = ref MemoryMarshal.GetReference(block);
            ulong m0 = Stops(Vector128.LoadUnsafe(ref at));
            ulong m1 = Stops(Vector128.LoadUnsafe(ref at, 16));
            ulong m2 = Stops(Vector128.LoadUnsafe(ref at, 32));
            ulong m3 = Stops(Vector128.LoadUnsafe(ref at, 48));
            return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Stops(Vector128<byte> bytes)
        {
            Vector128<byte> quote = Vector128.Equals(bytes, Vector128.Create((byte)'"'));
            Vector128<byte> backslash = Vector128.Equals(bytes, Vector128.Create((byte)'\\'));
            Vector128<byte> control = Vector128.Equals(bytes & Vector128.Create((byte)0xE0), Vector128<byte>.Zero);
            return (quote | backslash | control).ExtractMostSignificantBits();
        }
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
        int end = json.Length;
        if (json[i] == (byte)'-' && ++i >= end)
        {
            return -1;
        }

        uint lead = (uint)(json[i] - '0');
        if (lead > 9)
        {
            return -1;
        }

        i++;
        if (lead != 0)
        {
            while (i < end && IsDigit(json[i]))
            {
                i++;
            }
        }

        if (i < end && json[i] == (byte)'.')
        {
            if (++i >= end || !IsDigit(json[i]))
            {
                return -1;
            }

            while (++i < end && IsDigit(json[i]))
            {
            }
        }

        if (i < end && (json[i] | 0x20) == (byte)'e')
        {
            if (++i < end && (json[i] == (byte)'+' || json[i] == (byte)'-'))
            {
                i++;
            }

            if (i >= end || !IsDigit(json[i]))
            {
                return -1;
            }

            while (++i < end && IsDigit(json[i]))
            {
            }
        }

        return i;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}

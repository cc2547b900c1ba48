using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Http;

/// <summary>
/// An IP network (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>, or one address), held as a 128-bit prefix: an IPv4 network
/// is mapped into IPv6 (<c>::ffff:10.0.0.0/104</c>), so one comparison serves both families and an IPv4 client seen
/// through an IPv6 socket (<c>::ffff:10.1.2.3</c>) matches the IPv4 network it belongs to.
/// </summary>
internal readonly struct IpNetwork : IEquatable<IpNetwork>
{
    public IpNetwork(ulong high, ulong low, int prefixLength)
    {
        PrefixLength = prefixLength;
        (ulong maskHigh, ulong maskLow) = Mask(prefixLength);
        High = high & maskHigh;
        Low = low & maskLow;
    }

    public ulong High { get; }

    public ulong Low { get; }

    /// <summary>Bits of the 128-bit form that must match (an IPv4 /8 is 104).</summary>
    public int PrefixLength { get; }

    public bool Contains(ulong high, ulong low)
    {
        (ulong maskHigh, ulong maskLow) = Mask(PrefixLength);
        return (high & maskHigh) == High && (low & maskLow) == Low;
    }

    /// <summary>The network as written in a configuration: <c>10.0.0.0/8</c>, <c>::1/128</c>.</summary>
    public override string ToString() =>
        IpAddresses.IsMappedIPv4(High, Low) && PrefixLength >= 96
            ? IpAddresses.Format(High, Low) + "/" + (PrefixLength - 96).ToString(CultureInfo.InvariantCulture)
            : IpAddresses.Format(High, Low) + "/" + PrefixLength.ToString(CultureInfo.InvariantCulture);

    public bool Equals(IpNetwork other) => High == other.High && Low == other.Low && PrefixLength == other.PrefixLength;

    public override bool Equals(object? obj) => obj is IpNetwork other && Equals(other);

    public override int GetHashCode() => (int)(High ^ (High >> 32) ^ Low ^ (Low >> 32)) ^ PrefixLength;

    private static (ulong High, ulong Low) Mask(int prefixLength) =>
        prefixLength <= 0 ? (0UL, 0UL)
        : prefixLength < 64 ? (ulong.MaxValue << (64 - prefixLength), 0UL)
        : prefixLength == 64 ? (ulong.MaxValue, 0UL)
        : prefixLength < 128 ? (ulong.MaxValue, ulong.MaxValue << (128 - prefixLength))
        : (ulong.MaxValue, ulong.MaxValue);

    /// <summary>
    /// Reads <c>router.trusted_proxies</c>' form: an address (a network of one) or <c>address/prefix</c>, the prefix 0-32
    /// for IPv4 and 0-128 for IPv6. Bits after the prefix are ignored (<c>10.1.2.3/8</c> is <c>10.0.0.0/8</c>), as
    /// KrakenD (Go's ParseCIDR) reads them. <paramref name="problem"/> says what is wrong otherwise.
    /// </summary>
    public static bool TryParse(string text, out IpNetwork network, out string problem)
    {
        network = default;
        int slash = text.IndexOf('/');
        int addressLength = slash < 0 ? text.Length : slash;
        if (!IpAddresses.TryParse(text, 0, addressLength, out ulong high, out ulong low))
        {
            problem = "write an IPv4 address such as 10.0.0.1, an IPv6 address such as 2001:db8::1, or a network such as 10.0.0.0/8";
            return false;
        }

        bool v4 = IpAddresses.IsMappedIPv4(high, low) && text.IndexOf(':') < 0;
        int bits = v4 ? 32 : 128;
        int prefix = bits;
        if (slash >= 0)
        {
            string digits = text.Substring(slash + 1);
            if (digits.Length == 0 || digits.Length > 3 || (digits.Length > 1 && digits[0] == '0')
                || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > bits)
            {
                problem = $"the prefix length after \"/\" must be a whole number from 0 to {bits}";
                return false;
            }
        }

        network = new IpNetwork(high, low, v4 ? prefix + 96 : prefix);
        problem = string.Empty;
        return true;
    }
}

/// <summary>
/// IP addresses in text, read with one strict grammar at build time (<c>router.trusted_proxies</c>) and at run time
/// (<c>X-Forwarded-For</c> entries): IPv4 as four decimal parts 0-255 without leading zeros, so that <c>127.1</c>,
/// <c>0x7f.0.0.1</c> or <c>010.0.0.1</c>, which some parsers read as other addresses, are not addresses; IPv6 as RFC 4291
/// text without a zone (<c>%eth0</c>) or brackets. An address is returned as 128 bits, IPv4 mapped into IPv6.
/// </summary>
internal static class IpAddresses
{
    /// <summary>The longest IPv6 text (<c>ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255</c>).</summary>
    public const int MaxTextLength = 45;

    private const ulong MappedMarker = 0xFFFF_0000_0000UL;

    /// <summary>Reads the address at <paramref name="start"/> (<paramref name="length"/> characters, no spaces).</summary>
    public static bool TryParse(string text, int start, int length, out ulong high, out ulong low)
    {
        high = 0;
        low = 0;
        if (length <= 0 || length > MaxTextLength)
        {
            return false;
        }

        bool colon = false;
        for (int i = start; i < start + length; i++)
        {
            char c = text[i];
            if (c == ':')
            {
                colon = true;
            }
            else if (c is '%' or '[' or ']' or '/' || c <= ' ' || c >= 0x7F)
            {
                return false;
            }
        }

        return colon ? TryParseV6(text, start, length, out high, out low) : TryParseV4(text, start, length, out low);
    }

    /// <summary>True for <c>::ffff:a.b.c.d</c>, the form an IPv4 address takes here.</summary>
    public static bool IsMappedIPv4(ulong high, ulong low) => high == 0 && (low >> 32) == 0xFFFFUL;

    /// <summary>The 128-bit form of an IPv4 address given as a 32-bit number.</summary>
    public static ulong MapIPv4(uint address) => MappedMarker | address;

    /// <summary>The canonical text: dotted IPv4 for a mapped address, RFC 5952 for IPv6.</summary>
    public static string Format(ulong high, ulong low)
    {
        if (IsMappedIPv4(high, low))
        {
            uint v4 = (uint)low;
            return string.Join(".", (v4 >> 24).ToString(CultureInfo.InvariantCulture), ((v4 >> 16) & 0xFF).ToString(CultureInfo.InvariantCulture),
                ((v4 >> 8) & 0xFF).ToString(CultureInfo.InvariantCulture), (v4 & 0xFF).ToString(CultureInfo.InvariantCulture));
        }

        var bytes = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            bytes[i] = (byte)(high >> (56 - (8 * i)));
            bytes[8 + i] = (byte)(low >> (56 - (8 * i)));
        }

        return new IPAddress(bytes).ToString();
    }

    private static bool TryParseV4(string text, int start, int length, out ulong low)
    {
        low = 0;
        uint address = 0;
        int parts = 0;
        int i = start;
        int end = start + length;
        while (parts < 4)
        {
            int partStart = i;
            int value = 0;
            while (i < end && text[i] >= '0' && text[i] <= '9' && i - partStart < 3)
            {
                value = (value * 10) + (text[i] - '0');
                i++;
            }

            int digits = i - partStart;
            if (digits == 0 || value > 255 || (digits > 1 && text[partStart] == '0'))
            {
                return false;
            }

            address = (address << 8) | (uint)value;
            parts++;
            if (parts < 4)
            {
                if (i >= end || text[i] != '.')
                {
                    return false;
                }

                i++;
            }
        }

        if (i != end)
        {
            return false;
        }

        low = MapIPv4(address);
        return true;
    }

    private static bool TryParseV6(string text, int start, int length, out ulong high, out ulong low)
    {
        high = 0;
        low = 0;
#if NET8_0_OR_GREATER
        if (!IPAddress.TryParse(text.AsSpan(start, length), out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetworkV6 || address.ScopeId != 0)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
#else
        if (!IPAddress.TryParse(text.Substring(start, length), out IPAddress? address) || address.AddressFamily != AddressFamily.InterNetworkV6 || address.ScopeId != 0)
        {
            return false;
        }

        byte[] bytes = address.GetAddressBytes();
#endif
        for (int i = 0; i < 8; i++)
        {
            high = (high << 8) | bytes[i];
            low = (low << 8) | bytes[8 + i];
        }

        return true;
    }
}

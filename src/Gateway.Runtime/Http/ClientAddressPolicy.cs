using System.Net;
using Gateway.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// Whose word the gateway takes for the client's address (docs/configuration.md, client address): KrakenD's
/// <c>router.forwarded_by_client_ip</c> with <c>trusted_proxies</c> and <c>remote_ip_headers</c>, by gin's rule
/// (Context.ClientIP), which KrakenD uses. Only when the connection comes from a trusted proxy are the headers read,
/// each in turn. A header is read from the right, skipping trusted proxies: each proxy appends the address it received
/// the request from, so the first address that is not a trusted proxy is the client, and whatever a client wrote
/// itself stays on the left, out of reach. The leftmost entry is the client when every entry to its right is a trusted
/// proxy. An entry that is not an address ends the header's walk without a result; a header without a result passes
/// to the next, and when none gives one, the connection's address is the client's.
/// </summary>
/// <remarks>
/// The walk reads at most <see cref="MaxEntries"/> entries per request, so a hostile header (thousands of trusted
/// addresses, or garbage) costs a bounded amount of work; past that, the header gives no result. Repeated header lines
/// are read as one list, in order (RFC 9110 §5.3), where gin reads only the first line. Addresses follow one strict
/// grammar (<see cref="IpAddresses"/>): <c>127.1</c> or <c>010.0.0.1</c> are not addresses here.
/// </remarks>
public sealed class ClientAddressPolicy
{
    /// <summary>The most header entries one request's walk reads, across all configured headers.</summary>
    public const int MaxEntries = 32;

    private readonly IpNetwork[] _trusted;
    private readonly string[] _headers;

    /// <param name="trustedProxies">Addresses or CIDR networks (<c>10.0.0.0/8</c>) whose connections may tell the client's address.</param>
    /// <param name="headers">The headers read, in order (gin's default: <c>X-Forwarded-For</c>, <c>X-Real-IP</c>).</param>
    public ClientAddressPolicy(string[] trustedProxies, string[] headers)
    {
        ArgumentNullException.ThrowIfNull(trustedProxies);
        ArgumentNullException.ThrowIfNull(headers);
        _trusted = new IpNetwork[trustedProxies.Length];
        for (int i = 0; i < trustedProxies.Length; i++)
        {
            if (!IpNetwork.TryParse(trustedProxies[i], out _trusted[i], out string problem))
            {
                throw new ArgumentException($"\"{trustedProxies[i]}\" is not an IP address or network: {problem}", nameof(trustedProxies));
            }
        }

        _headers = headers;
    }

    /// <summary>The connection's peer address, IPv4 in dotted form even over an IPv6 socket; null when there is none.</summary>
    public static string? PeerAddress(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IPAddress? remote = context.Connection.RemoteIpAddress;
        return remote is null ? null : (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
    }

    /// <summary>The client's address for this request, as the policy decides it; null when the connection has none.</summary>
    public string? ClientAddress(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IPAddress? peer = context.Connection.RemoteIpAddress;
        if (peer is null)
        {
            return null;
        }

        (ulong high, ulong low) = Bits(peer);
        if (IsTrusted(high, low))
        {
            int budget = MaxEntries;
            IHeaderDictionary headers = context.Request.Headers;
            foreach (string name in _headers)
            {
                if (headers.TryGetValue(name, out StringValues values) && FromHeader(values, ref budget) is { } client)
                {
                    return client;
                }
            }
        }

        return PeerAddress(context);
    }

    /// <summary>True when <paramref name="address"/> is one of the trusted proxies.</summary>
    public bool IsTrustedProxy(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        (ulong high, ulong low) = Bits(address);
        return IsTrusted(high, low);
    }

    /// <summary>The client in one header, walked from the right (see the class); null when it gives none.</summary>
    private string? FromHeader(StringValues values, ref int budget)
    {
        for (int line = values.Count - 1; line >= 0; line--)
        {
            string text = values[line] ?? string.Empty;
            int end = text.Length;
            while (true)
            {
                if (budget <= 0)
                {
                    return null;
                }

                budget--;

                int comma = end == 0 ? -1 : text.LastIndexOf(',', end - 1);
                int start = comma + 1;
                int stop = end;
                while (start < stop && text[start] is ' ' or '\t')
                {
                    start++;
                }

                while (stop > start && text[stop - 1] is ' ' or '\t')
                {
                    stop--;
                }

                if (!IpAddresses.TryParse(text, start, stop - start, out ulong high, out ulong low))
                {
                    return null;
                }

                bool leftmost = comma < 0 && line == 0;
                if (leftmost || !IsTrusted(high, low))
                {
                    // An IPv4 entry is already canonical under the strict grammar; IPv6 gets RFC 5952's form.
                    return text.IndexOf(':', start, stop - start) < 0 ? text.Substring(start, stop - start) : IpAddresses.Format(high, low);
                }

                if (comma < 0)
                {
                    break;
                }

                end = comma;
            }
        }

        return null;
    }

    private bool IsTrusted(ulong high, ulong low)
    {
        foreach (IpNetwork network in _trusted)
        {
            if (network.Contains(high, low))
            {
                return true;
            }
        }

        return false;
    }

    private static (ulong High, ulong Low) Bits(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        if (written == 4)
        {
            return (0, IpAddresses.MapIPv4((uint)((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3])));
        }

        ulong high = 0, low = 0;
        for (int i = 0; i < 8; i++)
        {
            high = (high << 8) | bytes[i];
            low = (low << 8) | bytes[8 + i];
        }

        return (high, low);
    }
}

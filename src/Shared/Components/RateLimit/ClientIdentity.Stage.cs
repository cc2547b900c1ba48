using System.Net;
using Gateway.Runtime.Proxy;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.RateLimit;

/// <summary>
/// How a client limit tells clients apart (KrakenD's <c>strategy</c> and <c>key</c>): by address, by a header's value
/// or by a route parameter. A request that names no client (the header or the parameter is empty) has no bucket; KrakenD
/// refuses it as over the limit, and so does the gateway.
/// </summary>
public sealed class ClientIdentity
{
    private readonly Kind _kind;
    private readonly string? _name;
    private readonly int _parameter;

    private ClientIdentity(Kind kind, string? name, int parameter)
    {
        _kind = kind;
        _name = name;
        _parameter = parameter;
    }

    private enum Kind
    {
        Address,
        Header,
        Parameter,
    }

    /// <summary>
    /// <c>"strategy": "ip"</c>: the client's address (the connection's, or a trusted proxy's word for it); with
    /// <paramref name="header"/> (KrakenD's <c>key</c>), the first address in that header when it holds one (such as
    /// <c>X-Real-IP</c> set by a proxy in front), taken as written.
    /// </summary>
    public static ClientIdentity Address(string? header = null) => new(Kind.Address, header, -1);

    /// <summary><c>"strategy": "header"</c>: the value of the header <paramref name="name"/>.</summary>
    public static ClientIdentity Header(string name) => new(Kind.Header, name, -1);

    /// <summary><c>"strategy": "param"</c>: the route parameter <paramref name="name"/>, the <paramref name="index"/>-th of the path.</summary>
    public static ClientIdentity Parameter(string name, int index) => new(Kind.Parameter, name, index);

    /// <summary>What the client limit says in its refusals when a request names no client.</summary>
    public string Describe() => _kind switch
    {
        Kind.Header => $"the header {_name}",
        Kind.Parameter => $"the route parameter {_name}",
        _ => "the client's address",
    };

    /// <summary>The client a request comes from, or null when it names none.</summary>
    /// <remarks>
    /// A header the gateway itself set for the backends wins over the client's (a validated token's claim under
    /// <c>propagate_claims</c>, KrakenD's way to limit by a claim). The address is the one the gateway decided for
    /// <c>X-Forwarded-For</c>: the connection's peer, or what a trusted proxy said (<c>router.trusted_proxies</c>), as
    /// KrakenD's <c>ip</c> strategy reads gin's ClientIP.
    /// </remarks>
    public string? Find(ProxyExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        switch (_kind)
        {
            case Kind.Header:
                return Header(exchange, _name!) is { Length: > 0 } value ? value : null;
            case Kind.Parameter:
                string[] route = exchange.RouteValues;
                return _parameter < route.Length && route[_parameter].Length > 0 ? route[_parameter] : null;
            default:
                return _name is not null && FromHeader(Header(exchange, _name)) is { } named ? named : exchange.Forwarded.ClientIp;
        }
    }

    /// <summary>The header's first value as the backends receive it: the gateway's own when it set one, else the client's.</summary>
    private static string? Header(ProxyExchange exchange, string name)
    {
        bool set = false;
        foreach (KeyValuePair<string, string?> own in exchange.Forwarded.Overrides)
        {
            if (string.Equals(own.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                if (own.Value is not null)
                {
                    return own.Value;
                }

                set = true;
            }
        }

        StringValues values = exchange.Context.Request.Headers[name];
        return set || values.Count == 0 ? null : values[0];
    }

    /// <summary>The first entry of a comma-separated list of addresses, with or without a port; null when it is not one.</summary>
    private static string? FromHeader(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        int comma = value.IndexOf(',', StringComparison.Ordinal);
        ReadOnlySpan<char> first = (comma < 0 ? value : value[..comma]).AsSpan().Trim();
        return IPEndPoint.TryParse(first, out IPEndPoint? endpoint) ? Text(endpoint.Address) : null;
    }

    /// <summary>One text per address: an IPv4 address written as IPv6 (<c>::ffff:1.2.3.4</c>) counts as itself.</summary>
    private static string Text(IPAddress address) => (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}

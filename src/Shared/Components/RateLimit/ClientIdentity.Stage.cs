using System.Net;
using Microsoft.AspNetCore.Http;
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
    /// <param name="clientAddress">
    /// The client's address as the gateway decided it (<c>ForwardedRequest.ClientIp</c>): the connection's peer, or
    /// what a trusted proxy said (<c>router.trusted_proxies</c>), as KrakenD's <c>ip</c> strategy reads gin's ClientIP.
    /// </param>
    public string? Find(HttpContext context, string[] routeValues, string? clientAddress)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(routeValues);
        switch (_kind)
        {
            case Kind.Header:
                StringValues values = context.Request.Headers[_name!];
                return values.Count == 0 || string.IsNullOrEmpty(values[0]) ? null : values[0];
            case Kind.Parameter:
                return _parameter < routeValues.Length && routeValues[_parameter].Length > 0 ? routeValues[_parameter] : null;
            default:
                return _name is not null && FromHeader(context.Request.Headers[_name]) is { } named ? named : clientAddress;
        }
    }

    /// <summary>The first entry of a comma-separated list of addresses, with or without a port; null when it is not one.</summary>
    private static string? FromHeader(StringValues values)
    {
        if (values.Count == 0 || values[0] is not { Length: > 0 } value)
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

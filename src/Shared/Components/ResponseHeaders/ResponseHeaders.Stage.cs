using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.ResponseHeaders;

/// <summary>
/// <c>gateway/response.headers</c> (docs/configuration.md, response headers): the listed headers of the backends'
/// answers go to the client with an answer that has data. Each backend keeps only the listed headers, and only when it
/// succeeded (<see cref="BackendResult.RelayedHeader"/>). For each header, the first backend in configuration order
/// that succeeded and sent it gives every line it sent; the others' values are dropped, so the answer never depends on
/// which backend answered first. <c>Set-Cookie</c> is the exception: each line is one cookie and they cannot be merged,
/// so every succeeded backend's cookies are passed, in configuration order. The gateway's own headers, set after this
/// stage, replace a relayed one (<c>cache_ttl</c>'s <c>Cache-Control</c> on a complete answer).
/// </summary>
public sealed class ResponseHeaderRelay : IEndpointAnswerStage
{
    private readonly string[] _names;
    private readonly bool[] _fromEveryBackend;

    /// <param name="names">The headers, in the order the backends' definitions keep them (<c>relayedHeaders</c>).</param>
    public ResponseHeaderRelay(string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        _names = names;
        _fromEveryBackend = new bool[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            _fromEveryBackend[i] = string.Equals(names[i], "Set-Cookie", StringComparison.OrdinalIgnoreCase);
        }
    }

    public void Apply(ProxyExchange exchange, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(response);
        IReadOnlyList<BackendResult> results = exchange.Results;
        for (int header = 0; header < _names.Length; header++)
        {
            foreach (BackendResult result in results)
            {
                StringValues values = result.Succeeded ? result.RelayedHeader(header) : StringValues.Empty;
                if (values.Count == 0)
                {
                    continue;
                }

                response.Headers.Append(_names[header], values);
                if (!_fromEveryBackend[header])
                {
                    break;
                }
            }
        }
    }
}

using Gateway.Components.ProxyChain;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// Base of every generated endpoint handler. The generated subclass holds the endpoint's precomputed URL pieces and
/// calls its backends in <see cref="CallBackendsAsync"/>; this class owns what is the same for every endpoint: the
/// client request, the time budget, the bookkeeping of results and the response.
/// </summary>
public abstract class EndpointHandler
{
    private readonly EndpointDefinition _endpoint;
    private readonly BackendDefinition[] _backends;
    private readonly BackendClientOptions _options;
    private readonly ProxyChainDefinition? _proxyChain;
    private readonly Func<ProxyExchange, int, string, string?> _proxyChainUrl;

    protected EndpointHandler(EndpointDefinition endpoint, BackendDefinition[] backends, BackendClientOptions options, ProxyChainDefinition? proxyChain = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(backends);
        _endpoint = endpoint;
        _backends = backends;
        _options = options;
        _proxyChain = proxyChain;
        _proxyChainUrl = BuildProxyChainUrl;
    }

    /// <summary>The endpoint's backends, in configuration order.</summary>
    protected IReadOnlyList<BackendDefinition> Backends => _backends;

    /// <summary>
    /// Called by the router with the decoded route parameters, in the order they appear in the path. Never throws:
    /// an unexpected exception becomes the request guard's answer. The stages run in <see cref="RequestPipeline"/>'s order.
    /// </summary>
    public Task InvokeAsync(HttpContext context, string[] routeValues) => RequestPipeline.RunEndpointAsync(this, context, routeValues);

    internal EndpointDefinition Endpoint => _endpoint;

    internal BackendDefinition[] BackendDefinitions => _backends;

    internal BackendClientOptions Options => _options;

    internal ProxyChainDefinition? ProxyChain => _proxyChain;

    internal Func<ProxyExchange, int, string, string?> ProxyChainUrl => _proxyChainUrl;

    /// <summary>The generated backend calls, for the pipeline.</summary>
    internal Task CallBackends(ProxyExchange exchange) => CallBackendsAsync(exchange);

    /// <summary>The endpoint's backend calls, in the order the configuration dictates (generated).</summary>
    protected abstract Task CallBackendsAsync(ProxyExchange exchange);

    /// <summary>The URL of proxy-chain service <paramref name="service"/> on <paramref name="host"/> (generated when the endpoint has one).</summary>
    protected virtual string? BuildProxyChainUrl(ProxyExchange exchange, int service, string host) => null;
}

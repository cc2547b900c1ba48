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
    /// an unexpected exception becomes the request guard's answer (<see cref="RequestGuard"/>).
    /// </summary>
    public async Task InvokeAsync(HttpContext context, string[] routeValues)
    {
        ArgumentNullException.ThrowIfNull(context);
        ForwardedRequest? forwarded = null;
        try
        {
            forwarded = await ForwardedRequest.ReadAsync(context, _endpoint, _options.MaxRequestBodyBytes).ConfigureAwait(false);
            if (forwarded is null)
            {
                FailureAnswers.WriteEmpty(context.Response, StatusCodes.Status413PayloadTooLarge);
                return;
            }

            // Disposing the exchange waits for every call it started before any buffer is released (ProxyExchange).
            var exchange = new ProxyExchange(context, routeValues, forwarded, _endpoint, _backends, _options.MaxResponseBodyBytes, chained: _proxyChain is not null);
            await using (exchange.ConfigureAwait(false))
            {
                try
                {
                    if (_proxyChain is not null && !await _proxyChain.RunAsync(exchange, _proxyChainUrl, _options.MaxResponseBodyBytes).ConfigureAwait(false))
                    {
                        return;
                    }

                    await CallBackendsAsync(exchange).ConfigureAwait(false);
                }
                catch
                {
                    // The endpoint fails as a whole (steps never throw; this is a defect around them): cancel the
                    // calls still running; the exchange still waits for them before the guard answers.
                    exchange.Abandon();
                    throw;
                }

                await ResponseComposer.WriteAsync(exchange).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            await RequestGuard.FailAsync(context, e).ConfigureAwait(false);
        }
        finally
        {
            forwarded?.Dispose();
        }
    }

    /// <summary>The endpoint's backend calls, in the order the configuration dictates (generated).</summary>
    protected abstract Task CallBackendsAsync(ProxyExchange exchange);

    /// <summary>The URL of proxy-chain service <paramref name="service"/> on <paramref name="host"/> (generated when the endpoint has one).</summary>
    protected virtual string? BuildProxyChainUrl(ProxyExchange exchange, int service, string host) => null;
}

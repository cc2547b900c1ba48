using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// Base of every generated endpoint handler. The generated subclass holds the endpoint's precomputed URL pieces
/// and calls its backends in <see cref="CallBackendsAsync"/>; this class owns what is the same for every endpoint:
/// the time budget, the bookkeeping of results and the response.
/// </summary>
public abstract class EndpointHandler
{
    /// <summary>Share of the endpoint timeout given to the backends of a multi-backend endpoint, leaving time to answer (krakend.md §7).</summary>
    private const double MergeBudgetShare = 0.85;

    private readonly byte[]?[] _groups;
    private readonly TimeSpan _backendBudget;

    /// <param name="timeout">The endpoint <c>timeout</c>: it bounds the whole request.</param>
    /// <param name="groups">Per backend, the UTF-8 <c>group</c> key its response is wrapped in, or null.</param>
    protected EndpointHandler(TimeSpan timeout, byte[]?[] groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        _backendBudget = groups.Length > 1 ? timeout * MergeBudgetShare : timeout;
    }

    /// <summary>Called by the router with the decoded route parameters, in the order they appear in the path.</summary>
    public async Task InvokeAsync(HttpContext context, string[] routeValues)
    {
        using var exchange = new ProxyExchange(context, routeValues, _groups, _backendBudget);
        await CallBackendsAsync(exchange).ConfigureAwait(false);
        await exchange.WriteResponseAsync().ConfigureAwait(false);
    }

    /// <summary>The endpoint's backend calls, in the order the configuration dictates (generated).</summary>
    protected abstract Task CallBackendsAsync(ProxyExchange exchange);
}

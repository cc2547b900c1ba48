using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Gateway.Runtime.Telemetry;
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
    private readonly IEndpointAdmission? _admission;
    private readonly IEndpointStage[] _stages;
    private readonly IEndpointAnswerStage[] _answerStages;
    private readonly IEndpointDataStage[] _dataStages;

    /// <param name="components">
    /// The endpoint components' run-time parts, in the registry's order: their stages run in that order before the
    /// backend calls (<see cref="IEndpointStage"/>) and when the answer is composed (<see cref="IEndpointAnswerStage"/>).
    /// </param>
    protected EndpointHandler(EndpointDefinition endpoint, BackendDefinition[] backends, BackendClientOptions options, IEndpointComponent[]? components = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(backends);
        _endpoint = endpoint;
        _backends = backends;
        _options = options;
        IEndpointAdmission[] admissions = Of<IEndpointAdmission>(components);
        _admission = admissions.Length == 0 ? null : admissions[0];
        _stages = Of<IEndpointStage>(components);
        _answerStages = Of<IEndpointAnswerStage>(components);
        _dataStages = Of<IEndpointDataStage>(components);
    }

    /// <summary>The endpoint's backends, in configuration order.</summary>
    protected IReadOnlyList<BackendDefinition> Backends => _backends;

    /// <summary>
    /// Called by the router with the decoded route parameters, in the order they appear in the path. Never throws:
    /// an unexpected exception becomes the request guard's answer. The stages run in <see cref="RequestPipeline"/>'s order.
    /// </summary>
    public Task InvokeAsync(HttpContext context, string[] routeValues) => RequestPipeline.RunEndpointAsync(this, context, routeValues, null);

    /// <summary>The same, for a request being recorded (<see cref="GatewayTelemetry"/>).</summary>
    internal Task InvokeAsync(HttpContext context, string[] routeValues, RequestRecord record) => RequestPipeline.RunEndpointAsync(this, context, routeValues, record);

    /// <summary>
    /// The endpoint's path template as configured (<c>/users/{id}</c>), set by its route: what logs, metrics and spans
    /// name the endpoint by, never the path a client sent.
    /// </summary>
    internal string Template { get; set; } = GatewayTelemetry.Unmatched;

    internal EndpointDefinition Endpoint => _endpoint;

    internal BackendDefinition[] BackendDefinitions => _backends;

    internal BackendClientOptions Options => _options;

    /// <summary>The endpoint's bound on requests in flight (<c>gateway/limits</c>); null when it has none.</summary>
    internal IEndpointAdmission? Admission => _admission;

    internal IEndpointStage[] Stages => _stages;

    internal IEndpointAnswerStage[] AnswerStages => _answerStages;

    internal IEndpointDataStage[] DataStages => _dataStages;

    /// <summary>The generated backend calls, for the pipeline.</summary>
    internal Task CallBackends(ProxyExchange exchange) => CallBackendsAsync(exchange);

    /// <summary>The endpoint's backend calls, in the order the configuration dictates (generated).</summary>
    protected abstract Task CallBackendsAsync(ProxyExchange exchange);

    private static T[] Of<T>(IEndpointComponent[]? components)
    {
        var found = new List<T>();
        foreach (IEndpointComponent component in components ?? [])
        {
            if (component is T stage)
            {
                found.Add(stage);
            }
        }

        return [.. found];
    }
}

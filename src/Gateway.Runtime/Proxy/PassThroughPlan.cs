using Gateway.Runtime.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// <c>gateway/flow.pass_through</c> (docs/configuration.md, dependency graphs): one chosen step's HTTP status and listed
/// response headers go to the client, instead of the gateway's own 200.
/// </summary>
/// <remarks>
/// The status passes when the step answered with one: its 200 or 201 on success, its own status when it failed with
/// one (a 404, a 503). A step that was not reached, timed out, was skipped or not called leaves the gateway's rules as
/// they are. Statuses that forbid a body (204, 205, 304) and 1xx never pass: the answer has one. The headers pass
/// whenever the step answered, success or not; they replace a header of the same name relayed by
/// <c>gateway/response</c>, and the gateway's own headers (completeness, <c>Cache-Control</c> of <c>cache_ttl</c>) are
/// written after them.
/// </remarks>
public sealed class PassThroughPlan
{
    public PassThroughPlan(int step, bool status)
    {
        Step = step;
        Status = status;
    }

    /// <summary>The index of the step passed through.</summary>
    public int Step { get; }

    /// <summary>Whether its status replaces the answer's.</summary>
    public bool Status { get; }

    /// <summary>
    /// The step's status when it answered with one the client may receive on an answer with a body; 0 otherwise.
    /// With <paramref name="failedOnly"/> (an answer without data), only a status the step failed with.
    /// </summary>
    internal int StatusOf(ProxyExchange exchange, bool failedOnly)
    {
        if (!Status)
        {
            return 0;
        }

        BackendResult result = exchange.Results[Step];
        bool answered = result.Failure == BackendFailure.Status || (!failedOnly && result.Succeeded && !result.Skipped && result.Replaced == BackendFailure.None);
        int status = result.StatusCode;
        return answered && status >= 200 && status <= 599 && status is not (204 or 205 or 304) ? status : 0;
    }

    /// <summary>Sets the step's status (when it passes) and copies its listed headers onto <paramref name="response"/>.</summary>
    internal void Apply(ProxyExchange exchange, HttpResponse response, bool failedOnly)
    {
        if (StatusOf(exchange, failedOnly) is > 0 and int status)
        {
            response.StatusCode = status;
        }

        if (exchange.Backends[Step].PassedHeaders is not { } names)
        {
            return;
        }

        BackendResult result = exchange.Results[Step];
        for (int i = 0; i < names.Length; i++)
        {
            if (result.PassedHeader(i) is { Count: > 0 } values)
            {
                response.Headers[names[i]] = values;
            }
        }
    }
}

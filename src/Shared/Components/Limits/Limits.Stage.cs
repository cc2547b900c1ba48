using Gateway.Runtime.Hosting;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gateway.Components.Limits;

/// <summary>
/// <c>gateway/limits.max_concurrent_requests</c> (docs/configuration.md, limits): at most that many requests of the
/// endpoint in flight, from before the client body is read until the answer is written, whatever the answer. One more
/// is refused at once (<see cref="RequestPipeline"/> answers <c>503</c> with <c>Retry-After: 1</c>) rather than queued:
/// a queue in front of a slow backend only turns its slowness into the client's timeout, and holds the connection meanwhile.
/// </summary>
/// <remarks>
/// Refusals are logged as a warning at most once a second per endpoint, with how many there were since the last line:
/// a saturated endpoint refuses thousands of requests a second, and a line for each would cost more than the refusal
/// (<see cref="LogThrottle"/>).
/// </remarks>
public sealed class ConcurrencyLimit : IEndpointAdmission
{
    private readonly int _limit;
    private readonly LogThrottle _refusals = new();
    private int _inFlight;

    /// <param name="limit">The most requests in flight at once, at least 1.</param>
    public ConcurrencyLimit(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
    }

    /// <summary>The requests in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public bool TryEnter()
    {
        // A compare-and-swap loop, not increment-then-undo: a refused request must never count, even for an instant,
        // or it could refuse another one that fits.
        int current = Volatile.Read(ref _inFlight);
        while (current < _limit)
        {
            int seen = Interlocked.CompareExchange(ref _inFlight, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _inFlight);

    public void Refused(HttpContext context, string template)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_refusals.Count(out int refused))
        {
            GatewayLog.EndpointSaturated(GatewayLog.For(context), GatewayTelemetry.MethodName(context.Request.Method), template, _limit, refused);
        }
    }
}

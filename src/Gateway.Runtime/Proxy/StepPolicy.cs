using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// A step's own time limit and retries (<c>gateway/step</c>: <c>timeout</c>, <c>retry</c>; docs/configuration.md).
/// The endpoint's budget still bounds every attempt and every wait between attempts.
/// </summary>
public sealed class StepPolicy
{
    /// <summary>The longest wait between two attempts, whatever the backoff grows to.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    /// <param name="timeout">How long one attempt may take; null: only the endpoint's budget.</param>
    /// <param name="retries">How many more attempts a failed one may get (0: none).</param>
    /// <param name="backoff">The wait before the first retry; each later wait doubles, up to <see cref="MaxBackoff"/>.</param>
    public StepPolicy(TimeSpan? timeout = null, int retries = 0, TimeSpan backoff = default)
    {
        Timeout = timeout;
        Retries = retries;
        Backoff = backoff;
    }

    public TimeSpan? Timeout { get; }

    public int Retries { get; }

    public TimeSpan Backoff { get; }

    /// <summary>The wait after failed attempt <paramref name="attempt"/> (0 for the first).</summary>
    public TimeSpan Delay(int attempt)
    {
        double milliseconds = Backoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16));
        return TimeSpan.FromMilliseconds(Math.Min(milliseconds, MaxBackoff.TotalMilliseconds));
    }

    /// <summary>
    /// Whether a failed attempt is worth another: the backend could not be reached, the attempt ran out of its own time,
    /// or the backend answered 429 or a 5xx. Anything the backend answered deliberately (4xx, a body the gateway cannot
    /// use) or the gateway decided (an unresolved value, an open breaker, a rate limit) would fail again.
    /// </summary>
    public static bool Retryable(BackendResult result) => result.Failure switch
    {
        BackendFailure.Transport or BackendFailure.Timeout => true,
        BackendFailure.Status => result.StatusCode == 429 || result.StatusCode >= 500,
        _ => false,
    };
}

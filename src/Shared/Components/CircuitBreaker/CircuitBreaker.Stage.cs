using Gateway.Runtime.Forwarding;

namespace Gateway.Components.CircuitBreaker;

/// <summary>The states of a <see cref="CircuitBreaker"/>.</summary>
public enum CircuitState
{
    /// <summary>Calls go through; consecutive failures are counted.</summary>
    Closed,

    /// <summary>Calls fail at once, without reaching the backend, until the timeout has passed.</summary>
    Open,

    /// <summary>One call goes through to test the backend; its outcome closes or reopens the breaker.</summary>
    HalfOpen,
}

/// <summary>
/// One backend's circuit breaker (<c>qos/circuit-breaker</c>, docs/configuration.md), with KrakenD's semantics: more
/// than <c>max_errors</c> consecutive failures open it; while open the backend is not called and the step fails
/// (<see cref="BackendFailure.CircuitOpen"/>); after <c>timeout</c> one call is let through (half-open): success closes
/// the breaker, failure reopens it. In the closed state the count is cleared every <c>interval</c> (0: never).
/// A failure is the backend's: a status other than 200/201, an unreachable or timed-out backend, a body it cannot
/// use. A client that went away, a value the gateway could not put in the URL, or a call the backend's rate limit
/// held back, counts for nothing.
/// </summary>
public sealed class CircuitBreaker : IBackendStage
{
    private readonly object _gate = new();
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly int _maxErrors;
    private readonly TimeProvider _time;

    private CircuitState _state = CircuitState.Closed;
    private int _consecutiveFailures;
    private long _since;
    private bool _probing;

    // Outcomes of calls that started in an earlier generation (before the last change of state) are ignored.
    private long _generation;

    public CircuitBreaker(int intervalSeconds, int timeoutSeconds, int maxErrors, string? name = null, TimeProvider? time = null)
    {
        _interval = TimeSpan.FromSeconds(intervalSeconds);
        _timeout = TimeSpan.FromSeconds(timeoutSeconds);
        _maxErrors = maxErrors;
        Name = name;
        _time = time ?? TimeProvider.System;
        _since = _time.GetTimestamp();
    }

    public string? Name { get; }

    /// <summary>The state now (an open breaker whose timeout has passed reads as half-open).</summary>
    public CircuitState State
    {
        get
        {
            lock (_gate)
            {
                Advance();
                return _state;
            }
        }
    }

    public async Task<BackendResult> InvokeAsync(Func<Task<BackendResult>> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        long generation;
        lock (_gate)
        {
            Advance();
            if (_state == CircuitState.Open || (_state == CircuitState.HalfOpen && _probing))
            {
                return BackendResult.Failed(BackendFailure.CircuitOpen);
            }

            _probing = _state == CircuitState.HalfOpen;
            generation = _generation;
        }

        BackendResult result = await next().ConfigureAwait(false);
        bool? failed = IsFailure(result);
        lock (_gate)
        {
            if (generation == _generation && failed is { } failure)
            {
                Record(failure);
            }
            else if (generation == _generation && _state == CircuitState.HalfOpen)
            {
                // The probe counted for nothing (the client went away): let the next call probe.
                _probing = false;
            }
        }

        return result;
    }

    /// <summary>True for the backend's failure, false for its success, null when the outcome says nothing about it.</summary>
    private static bool? IsFailure(BackendResult result) => result.Failure switch
    {
        BackendFailure.None => !result.IsPassThrough && !result.Complete, // return_error_details: a failed status as data
        BackendFailure.Canceled or BackendFailure.UnresolvedPlaceholder or BackendFailure.NotCalled or BackendFailure.CircuitOpen or BackendFailure.RateLimited => null,
        _ => true,
    };

    private void Record(bool failure)
    {
        switch (_state)
        {
            case CircuitState.HalfOpen:
                Move(failure ? CircuitState.Open : CircuitState.Closed);
                break;
            case CircuitState.Closed when failure:
                _consecutiveFailures++;
                if (_consecutiveFailures > _maxErrors)
                {
                    Move(CircuitState.Open);
                }

                break;
            case CircuitState.Closed:
                _consecutiveFailures = 0;
                break;
        }
    }

    /// <summary>Time-driven changes: an open breaker turns half-open after the timeout; a closed one clears its count every interval.</summary>
    private void Advance()
    {
        TimeSpan elapsed = _time.GetElapsedTime(_since);
        if (_state == CircuitState.Open && elapsed >= _timeout)
        {
            Move(CircuitState.HalfOpen);
        }
        else if (_state == CircuitState.Closed && _interval > TimeSpan.Zero && elapsed >= _interval)
        {
            _consecutiveFailures = 0;
            _since = _time.GetTimestamp();
            _generation++;
        }
    }

    private void Move(CircuitState state)
    {
        _state = state;
        _since = _time.GetTimestamp();
        _consecutiveFailures = 0;
        _probing = false;
        _generation++;
    }
}

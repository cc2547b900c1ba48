using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.CircuitBreaker;

/// <summary>The generated part of a backend with a circuit breaker: the breaker, built once per backend with the handler.</summary>
internal static class CircuitBreakerEmitter
{
    public static string StageExpression(CircuitBreakerModel breaker) =>
        "new global::Gateway.Components.CircuitBreaker.CircuitBreaker("
        + $"intervalSeconds: {breaker.IntervalSeconds.ToString(CultureInfo.InvariantCulture)}, "
        + $"timeoutSeconds: {breaker.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)}, "
        + $"maxErrors: {breaker.MaxErrors.ToString(CultureInfo.InvariantCulture)}"
        + (breaker.Name is null ? string.Empty : $", name: {CSharp.String(breaker.Name)}")
        + ")";

    public static string Describe(CircuitBreakerModel breaker) =>
        $"a circuit breaker (opens after {breaker.MaxErrors + 1} consecutive failures, for {breaker.TimeoutSeconds} s)";
}

using System.Globalization;

namespace Gateway.Components.Limits;

/// <summary>The generated part of <c>gateway/limits</c>: the endpoint's admission stage, built in the handler's constructor.</summary>
internal static class LimitsEmitter
{
    /// <summary>The expression, in the handler's constructor, that builds the stage.</summary>
    public static string StageExpression(ConcurrencyLimitModel model) =>
        $"new global::Gateway.Components.Limits.ConcurrencyLimit({model.MaxConcurrentRequests.ToString(CultureInfo.InvariantCulture)})";

    public static string Describe(ConcurrencyLimitModel model) =>
        $"gateway/limits: at most {model.MaxConcurrentRequests} request(s) in flight, checked before the client body is read; one more is answered 503 with Retry-After: 1";
}

using System;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.Limits;

/// <summary>An endpoint's bound on its requests in flight (<c>gateway/limits.max_concurrent_requests</c>), more than 0.</summary>
internal sealed record ConcurrencyLimitModel(int MaxConcurrentRequests) : EndpointComponentModel;

/// <summary>
/// The gateway's own <c>gateway/limits</c> namespace on an endpoint (docs/configuration.md, limits):
/// <c>max_concurrent_requests</c>, how many requests of the endpoint may be in flight at once; one more is answered
/// <c>503</c> with <c>Retry-After: 1</c> before its body is read or any backend is called. 0, the default, sets no bound,
/// and the endpoint then has no stage at all.
/// </summary>
internal static class LimitsConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/limits", ConfigScope.Endpoint);

    /// <summary>The largest bound accepted; more is a mistake (no process serves a million requests of one endpoint at once).</summary>
    public const int MaxConcurrentRequests = 1_000_000;

    private static readonly string[] Supported = { "max_concurrent_requests", Keys.Comment };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static EndpointComponentModel? Read(JsonNode node, EndpointReadContext context)
    {
        ConfigReader read = context.Read;
        read.CheckKeys(node, "\"gateway/limits\"", Supported, Array.Empty<string>());
        if (node.Find("max_concurrent_requests") is not { } property || !read.Expect(property, JsonKind.Number, "a whole number of requests (0: no limit)"))
        {
            return null;
        }

        if (!int.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int limit) || limit > MaxConcurrentRequests)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"max_concurrent_requests\" {property.Value.Text} is out of range; use a whole number from 1 to {MaxConcurrentRequests}, or 0 for no limit", property.Value);
            return null;
        }

        return limit == 0 ? null : new ConcurrencyLimitModel(limit);
    }
}

using System;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.CircuitBreaker;

/// <summary>A backend's circuit breaker: the closed state's counting period, how long it stays open, the errors it tolerates.</summary>
internal sealed record CircuitBreakerModel(int IntervalSeconds, int TimeoutSeconds, int MaxErrors, string? Name) : BackendComponentModel;

/// <summary>
/// KrakenD's <c>qos/circuit-breaker</c> on a backend (docs/configuration.md, circuit breaker): after more than
/// <c>max_errors</c> consecutive failures the breaker opens and the backend is not called for <c>timeout</c> seconds;
/// then one call is let through (half-open), whose outcome closes or reopens it. <c>interval</c> clears the closed
/// state's count periodically (0: never).
/// </summary>
internal static class CircuitBreakerConfig
{
    public static readonly ConfigNamespace Namespace = new("qos/circuit-breaker", ConfigScope.Backend, "github.com/devopsfaith/krakend-circuitbreaker/gobreaker");

    private static readonly string[] Supported = { "interval", "timeout", "max_errors", "name", "log_status_change", Keys.Comment };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static BackendComponentModel? Read(JsonNode node, BackendReadContext context)
    {
        ConfigReader read = context.Read;
        int errorsBefore = read.Diagnostics.ErrorCount;
        read.CheckKeys(node, "\"qos/circuit-breaker\"", Supported, Array.Empty<string>());
        int interval = Count(node.Find("interval"), read, "seconds", 0, minimum: 0);
        int timeout = Count(node.Find("timeout"), read, "seconds", 0, minimum: 1);
        int maxErrors = Count(node.Find("max_errors"), read, "errors", 0, minimum: 0);
        if (node.Find("timeout") is null)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, "\"qos/circuit-breaker\" needs \"timeout\": the seconds the breaker stays open before it lets one call through", node.Start, 1);
        }

        string? name = null;
        if (node.Find("name") is { } nameProperty && read.Expect(nameProperty, JsonKind.String, "a name"))
        {
            name = nameProperty.Value.Text;
        }

        if (node.Find("log_status_change") is { } log && read.ParseBool(log))
        {
            read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"log_status_change\" has no effect yet: the gateway does not log the breaker's state changes", log);
        }

        return read.Diagnostics.ErrorCount > errorsBefore ? null : new CircuitBreakerModel(interval, timeout, maxErrors, name);
    }

    /// <summary>A whole number of at least <paramref name="minimum"/>; <paramref name="absent"/> when the key is missing.</summary>
    private static int Count(JsonProperty? property, ConfigReader read, string unit, int absent, int minimum)
    {
        if (property is null || !read.Expect(property, JsonKind.Number, $"a whole number of {unit}"))
        {
            return absent;
        }

        if (!int.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < minimum)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{property.Name}\" {property.Value.Text} is out of range; use a whole number of {unit} from {minimum.ToString(CultureInfo.InvariantCulture)}", property.Value);
            return absent;
        }

        return value;
    }
}

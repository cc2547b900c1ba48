using System.Text.Json.Serialization;

namespace Gateway.Runtime.Hosting;

/// <summary>The body of <c>GET /__health</c>.</summary>
public sealed record HealthStatus(string Status);

/// <summary>Source-generated serialization for the few typed documents the gateway writes itself (no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(HealthStatus))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext
{
}

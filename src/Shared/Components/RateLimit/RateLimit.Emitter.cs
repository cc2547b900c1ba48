using System.Collections.Generic;
using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.RateLimit;

/// <summary>
/// The generated parts of rate limits: an endpoint's <c>CreateRateLimit()</c> (its buckets, how clients are told apart,
/// the statuses of a refusal), a backend's stage, and the shared store's settings in <c>CompiledGateway</c> when the
/// root asks for Redis.
/// </summary>
internal static class RateLimitEmitter
{
    private const string Namespace = "global::Gateway.Components.RateLimit";

    /// <summary>The expression, in the handler's constructor, that builds the endpoint's stage.</summary>
    public const string StageExpression = "CreateRateLimit()";

    public const string SharedTypeName = Namespace + ".SharedRateLimits";

    public static void EmitMembers(SourceWriter w, RouterRateLimitModel limit)
    {
        var arguments = new List<string>
        {
            $"endpointLimit: {Rule(limit.Endpoint, targetTyped: true)}",
        };
        if (limit.Client is { } client)
        {
            arguments.Add($"clientLimit: {Rule(client, targetTyped: true)}");
            arguments.Add($"client: {Identity(limit)}");
        }

        // The endpoint's status also answers a shared check that Redis could not make.
        if (limit.Endpoint is not null || limit.Settings.Redis is not null)
        {
            arguments.Add($"statusCode: {Number(limit.Settings.StatusCode)}");
        }

        if (limit.Client is not null)
        {
            arguments.Add($"clientStatusCode: {Number(limit.Settings.ClientStatusCode)}");
            if (limit.Settings.Redis is null)
            {
                arguments.Add($"maxClients: {Number(limit.Settings.MaxClients)}");
            }
        }

        if (limit.Settings.Redis is not null)
        {
            arguments.Add($"sharedName: {CSharp.String(limit.Name)}");
        }

        w.Line();
        w.Line($"/// <summary>qos/ratelimit/router: {CSharp.Doc(Describe(limit))}.</summary>");
        w.Line($"private static {Namespace}.EndpointRateLimit CreateRateLimit() => new(");
        w.Indent();
        for (int i = 0; i < arguments.Count; i++)
        {
            w.Line(arguments[i] + (i == arguments.Count - 1 ? ");" : ","));
        }

        w.Outdent();
    }

    /// <summary>The expression that builds a backend's rate limit, in its definition.</summary>
    public static string BackendStageExpression(ProxyRateLimitModel limit) =>
        $"new {Namespace}.BackendRateLimit({Rule(limit.Bucket, targetTyped: false)})";

    /// <summary>The shared store's settings, for <c>CompiledGateway</c>; null when the buckets stay in each process.</summary>
    public static string[]? SharedArguments(RateLimitSettingsModel settings) => settings.Redis is not { } redis
        ? null
        :
        [
            $"address: {CSharp.String(redis.Address)}",
            $"failOpen: {(redis.FailOpen ? "true" : "false")}",
            $"timeoutMilliseconds: {redis.TimeoutMilliseconds.ToString(CultureInfo.InvariantCulture)}",
            $"keyPrefix: {CSharp.String(redis.KeyPrefix)}",
        ];

    public static string Describe(RateLimitSettingsModel settings) => settings.Redis is { } redis
        ? $"gateway/ratelimit: endpoint rate limits shared in Redis at {redis.Address} (while it cannot answer within {redis.TimeoutMilliseconds} ms, requests are {(redis.FailOpen ? "let through" : "refused")})"
        : "gateway/ratelimit";

    /// <summary>The limits in the order they are checked: the client's bucket first, then the one all clients share.</summary>
    public static string Describe(RouterRateLimitModel limit)
    {
        var parts = new List<string>();
        if (limit.Client is { } client)
        {
            string by = limit.Strategy switch
            {
                "header" => $"by its {limit.Key} header",
                "param" => $"by the route parameter {limit.Key}",
                _ => limit.Key is null ? "by address" : $"by address, or the one in {limit.Key}",
            };
            parts.Add($"each client ({by}) {Bucket(client)}, else {limit.Settings.ClientStatusCode}");
        }

        if (limit.Endpoint is { } endpoint)
        {
            parts.Add($"all clients together {Bucket(endpoint)}, else {limit.Settings.StatusCode}");
        }

        return string.Join("; then ", parts) + (limit.Settings.Redis is null ? string.Empty : "; the buckets are shared by every replica in Redis");
    }

    public static string Describe(ProxyRateLimitModel limit) => $"a rate limit of {Bucket(limit.Bucket)}";

    /// <summary><c>5 request(s) every 10m, up to 5 at once</c>.</summary>
    private static string Bucket(TokenBucketModel bucket) =>
        $"{Rate(bucket.Rate)} request(s) every {Window(bucket.EveryMilliseconds)}, up to {bucket.Capacity} at once";

    private static string Rule(TokenBucketModel? bucket, bool targetTyped) => bucket is null
        ? "null"
        : $"new{(targetTyped ? string.Empty : " " + Namespace + ".RateLimitRule")}(rate: {Rate(bucket.Rate)}, everyMilliseconds: {bucket.EveryMilliseconds.ToString(CultureInfo.InvariantCulture)}, capacity: {bucket.Capacity.ToString(CultureInfo.InvariantCulture)})";

    private static string Identity(RouterRateLimitModel limit) => limit.Strategy switch
    {
        "header" => $"{Namespace}.ClientIdentity.Header({CSharp.String(limit.Key!)})",
        "param" => $"{Namespace}.ClientIdentity.Parameter({CSharp.String(limit.Key!)}, {Number(limit.ParameterIndex)})",
        _ => $"{Namespace}.ClientIdentity.Address({(limit.Key is null ? string.Empty : CSharp.String(limit.Key))})",
    };

    private static string Rate(double rate) => rate.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A window as a person writes it: <c>1s</c>, <c>10m</c>, <c>24h</c>, <c>1500ms</c>.</summary>
    private static string Window(long milliseconds) =>
        milliseconds % 3_600_000 == 0 ? $"{milliseconds / 3_600_000}h"
        : milliseconds % 60_000 == 0 ? $"{milliseconds / 60_000}m"
        : milliseconds % 1000 == 0 ? $"{milliseconds / 1000}s"
        : $"{milliseconds}ms";
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.RateLimit;

/// <summary>
/// A token bucket: <see cref="Rate"/> tokens are added every <see cref="EveryMilliseconds"/>, up to
/// <see cref="Capacity"/>; each request takes one. The bucket starts full.
/// </summary>
internal sealed record TokenBucketModel(double Rate, long EveryMilliseconds, long Capacity);

/// <summary>
/// An endpoint's <c>qos/ratelimit/router</c>: the limit for all clients together and the limit for each client (either
/// may be absent, not both), how a client is told apart, and the gateway-wide settings of <c>gateway/ratelimit</c>
/// that apply to it (the statuses of a refusal, the clients tracked in memory, whether the buckets live in Redis).
/// </summary>
/// <param name="Name">The limit's name in a shared store: the endpoint's method and path.</param>
/// <param name="Strategy"><c>ip</c>, <c>header</c> or <c>param</c>; null without a client limit.</param>
/// <param name="Key">The header (<c>ip</c>: optional, <c>header</c>) or route parameter (<c>param</c>) naming the client.</param>
/// <param name="ParameterIndex">For <c>param</c>: the parameter's position among the route's parameters.</param>
internal sealed record RouterRateLimitModel(
    string Name,
    TokenBucketModel? Endpoint,
    TokenBucketModel? Client,
    string? Strategy,
    string? Key,
    int ParameterIndex,
    RateLimitSettingsModel Settings) : EndpointComponentModel;

/// <summary>A backend's <c>qos/ratelimit/proxy</c>: the bucket its calls take from.</summary>
internal sealed record ProxyRateLimitModel(TokenBucketModel Bucket) : BackendComponentModel;

/// <summary>
/// The gateway's own <c>gateway/ratelimit</c> at the configuration root: the statuses of a refused request, how many
/// clients each client limit tracks in memory, and the Redis that makes the endpoint limits shared by every replica.
/// </summary>
internal sealed record RateLimitSettingsModel(int StatusCode, int ClientStatusCode, int MaxClients, SharedLimitsModel? Redis) : GatewayComponentModel
{
    /// <summary>KrakenD's statuses (503 past the endpoint's limit, 429 past a client's), 100 000 clients per limit, no Redis.</summary>
    public static readonly RateLimitSettingsModel Default = new(503, 429, 100_000, null);
}

/// <summary>Where the shared buckets live and what happens when Redis cannot answer in time.</summary>
internal sealed record SharedLimitsModel(string Address, bool FailOpen, long TimeoutMilliseconds, string KeyPrefix);

/// <summary>
/// KrakenD's rate limits (krakend-ratelimit; docs/configuration.md, rate limits): <c>qos/ratelimit/router</c> on an
/// endpoint, <c>qos/ratelimit/proxy</c> on a backend, and the gateway's <c>gateway/ratelimit</c> at the root. Rates,
/// capacities and windows follow KrakenD: a rate is <c>max_rate</c> tokens every <c>every</c> (default 1s), and a
/// capacity left out is the rate per second, at least 1.
/// </summary>
internal static class RateLimitConfig
{
    public static readonly ConfigNamespace RouterNamespace = new("qos/ratelimit/router", ConfigScope.Endpoint, "github.com/devopsfaith/krakend-ratelimit/juju/router");

    public static readonly ConfigNamespace ProxyNamespace = new("qos/ratelimit/proxy", ConfigScope.Backend, "github.com/devopsfaith/krakend-ratelimit/juju/proxy");

    public static readonly ConfigNamespace SettingsNamespace = new("gateway/ratelimit", ConfigScope.Root);

    public static readonly string[] Strategies = { "ip", "header", "param" };

    private static readonly string[] RouterSupported =
    {
        "max_rate", "capacity", "every", "client_max_rate", "client_capacity", "strategy", "key",
        "num_shards", "cleanup_period", "cleanup_threads", Keys.Comment,
    };

    /// <summary>KrakenD's tuning of its sharded store; the gateway bounds and cleans its store its own way.</summary>
    private static readonly string[] RouterTuning = { "num_shards", "cleanup_period", "cleanup_threads" };

    private static readonly string[] ProxySupported = { "max_rate", "capacity", "every", Keys.Comment };

    private static readonly string[] SettingsSupported = { "status_code", "client_status_code", "max_clients", "redis", Keys.Comment };

    private static readonly string[] RedisSupported = { "address", "on_failure", "timeout", "key_prefix", Keys.Comment };

    /// <summary>A bucket larger than this is a mistake (and would overflow the arithmetic of its clock).</summary>
    private const long MaxCapacity = 1_000_000_000;

    /// <summary>The reader of <c>qos/ratelimit/router</c> (ComponentRegistry).</summary>
    public static EndpointComponentModel? ReadRouter(JsonNode node, EndpointReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"qos/ratelimit/router\"", RouterSupported, Array.Empty<string>());
        foreach (string tuning in RouterTuning)
        {
            if (node.Find(tuning) is { } property)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{tuning}\" has no effect: the gateway keeps at most \"max_clients\" clients per limit (gateway/ratelimit) and forgets a client as soon as its bucket is full again", property);
            }
        }

        // KrakenD reads a router window shorter than a second as one second.
        long every = Every(node.Find("every"), read);
        if (every < 1000 && node.Find("every") is { } shortEvery)
        {
            diagnostics.Report(DiagnosticKind.NoEffect, $"\"every\" \"{shortEvery.Value.Text}\" is read as \"1s\", as KrakenD does: an endpoint's window is at least one second", shortEvery.Value);
            every = 1000;
        }

        double maxRate = Rate(node.Find("max_rate"), read);
        double clientMaxRate = Rate(node.Find("client_max_rate"), read);
        long capacity = Capacity(node.Find("capacity"), read);
        long clientCapacity = Capacity(node.Find("client_capacity"), read);
        TokenBucketModel? endpoint = maxRate > 0 ? Bucket(maxRate, every, capacity) : null;
        TokenBucketModel? client = clientMaxRate > 0 ? Bucket(clientMaxRate, every, clientCapacity) : null;

        string? strategy = null;
        JsonProperty? strategyProperty = node.Find("strategy");
        if (strategyProperty is not null && read.Expect(strategyProperty, JsonKind.String, "ip, header or param"))
        {
            // KrakenD compares the strategy case-insensitively.
            strategy = strategyProperty.Value.Text!.ToLowerInvariant();
            if (!Keys.Contains(Strategies, strategy))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"unknown strategy \"{strategyProperty.Value.Text}\"; use ip (the client's address), header (a header's value, named by \"key\") or param (a route parameter, named by \"key\")", strategyProperty.Value);
                strategy = null;
            }
        }

        string? key = null;
        JsonProperty? keyProperty = node.Find("key");
        if (keyProperty is not null && read.Expect(keyProperty, JsonKind.String, "a header or parameter name"))
        {
            key = keyProperty.Value.Text!;
        }

        int parameterIndex = -1;
        if (client is null)
        {
            if ((strategyProperty is not null || keyProperty is not null) && diagnostics.ErrorCount == errorsBefore)
            {
                JsonProperty at = strategyProperty ?? keyProperty!;
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{at.Name}\" has no effect without \"client_max_rate\": it says how clients are told apart for the limit of each client", at);
            }

            strategy = null;
            key = null;
        }
        else if (strategyProperty is null)
        {
            // KrakenD logs "unknown strategy" and then does not limit clients at all.
            diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, "\"client_max_rate\" needs \"strategy\": ip (the client's address), header or param (with \"key\"); without it KrakenD silently limits no client", node.Find("client_max_rate")!);
        }
        else if (strategy is not null && keyProperty is not null && key is not null)
        {
            parameterIndex = CheckKey(strategy, key, keyProperty, context.Route, diagnostics);
        }
        else if (strategy is "header" or "param" && keyProperty is null)
        {
            // KrakenD would read an empty name and refuse every request with 429.
            diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, $"strategy \"{strategy}\" needs \"key\": the {(strategy == "header" ? "header" : "route parameter")} whose value names the client", strategyProperty);
        }

        if (endpoint is null && client is null && diagnostics.ErrorCount == errorsBefore)
        {
            diagnostics.Report(DiagnosticKind.NoEffect, "neither \"max_rate\" nor \"client_max_rate\" is above 0: the endpoint is not limited", node.Start, 1);
            return null;
        }

        RateLimitSettingsModel settings = RateLimitSettingsModel.Default;
        foreach (GatewayComponentModel root in context.RootComponents)
        {
            if (root is RateLimitSettingsModel configured)
            {
                settings = configured;
            }
        }

        return diagnostics.ErrorCount > errorsBefore
            ? null
            : new RouterRateLimitModel(context.Method + " " + context.Path, endpoint, client, strategy, key, parameterIndex, settings);
    }

    /// <summary>The reader of <c>qos/ratelimit/proxy</c> (ComponentRegistry).</summary>
    public static BackendComponentModel? ReadProxy(JsonNode node, BackendReadContext context)
    {
        ConfigReader read = context.Read;
        int errorsBefore = read.Diagnostics.ErrorCount;
        read.CheckKeys(node, "\"qos/ratelimit/proxy\"", ProxySupported, Array.Empty<string>());

        // Unlike the router's, KrakenD takes a backend's window as written, shorter than a second included.
        long every = Every(node.Find("every"), read);
        double maxRate = Rate(node.Find("max_rate"), read);
        long capacity = Capacity(node.Find("capacity"), read);
        if (read.Diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        if (maxRate <= 0)
        {
            read.Diagnostics.Report(DiagnosticKind.NoEffect, "\"max_rate\" is not above 0: the backend's calls are not limited", node.Find("max_rate")?.Value ?? node);
            return null;
        }

        return new ProxyRateLimitModel(Bucket(maxRate, every, capacity));
    }

    /// <summary>The reader of <c>gateway/ratelimit</c> (ComponentRegistry).</summary>
    public static GatewayComponentModel? ReadSettings(JsonNode node, GatewayReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"gateway/ratelimit\"", SettingsSupported, Array.Empty<string>());
        RateLimitSettingsModel defaults = RateLimitSettingsModel.Default;
        int status = Whole(node.Find("status_code"), read, "an HTTP status", defaults.StatusCode, 400, 599, "a 4xx or 5xx status");
        int clientStatus = Whole(node.Find("client_status_code"), read, "an HTTP status", defaults.ClientStatusCode, 400, 599, "a 4xx or 5xx status");
        int maxClients = Whole(node.Find("max_clients"), read, "a number of clients", defaults.MaxClients, 1, 10_000_000, "a whole number of clients from 1 to 10000000");

        SharedLimitsModel? redis = null;
        if (node.Find("redis") is { } redisProperty && read.Expect(redisProperty, JsonKind.Object, "an object with \"address\""))
        {
            redis = ReadRedis(redisProperty, read);
        }

        return diagnostics.ErrorCount > errorsBefore ? null : new RateLimitSettingsModel(status, clientStatus, maxClients, redis);
    }

    private static SharedLimitsModel? ReadRedis(JsonProperty property, ConfigReader read)
    {
        JsonNode node = property.Value;
        DiagnosticBag diagnostics = read.Diagnostics;
        read.CheckKeys(node, "\"redis\"", RedisSupported, Array.Empty<string>());
        string? address = null;
        if (node.Find("address") is not { } addressProperty)
        {
            diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, "\"redis\" needs \"address\": \"host:port\" (GATEWAY_RATELIMIT_REDIS or --ratelimit-redis replace it when the gateway starts)", property);
        }
        else if (read.Expect(addressProperty, JsonKind.String, "\"host:port\""))
        {
            address = addressProperty.Value.Text!;
            if (!IsHostAndPort(address))
            {
                // A password or other options would be compiled into the binary: they belong in the environment.
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{address}\" is not \"host:port\"; options such as a password go in GATEWAY_RATELIMIT_REDIS, not in the configuration", addressProperty.Value);
            }
        }

        bool failOpen = true;
        if (node.Find("on_failure") is { } failureProperty && read.Expect(failureProperty, JsonKind.String, "\"allow\" or \"deny\""))
        {
            failOpen = failureProperty.Value.Text == "allow";
            if (!failOpen && failureProperty.Value.Text != "deny")
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"on_failure\" \"{failureProperty.Value.Text}\" is neither \"allow\" (requests go on while Redis cannot answer) nor \"deny\" (they are refused)", failureProperty.Value);
            }
        }

        long timeout = 100;
        if (node.Find("timeout") is { } timeoutProperty && read.Expect(timeoutProperty, JsonKind.String, "a duration such as \"100ms\""))
        {
            if (!Durations.TryParseMilliseconds(timeoutProperty.Value.Text!, out timeout) || timeout > 10_000)
            {
                diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"timeout\" \"{timeoutProperty.Value.Text}\" is not a duration up to 10s; write one such as \"50ms\"", timeoutProperty.Value);
            }
        }

        string prefix = "gateway:ratelimit:";
        if (node.Find("key_prefix") is { } prefixProperty && read.Expect(prefixProperty, JsonKind.String, "a key prefix"))
        {
            prefix = prefixProperty.Value.Text!;
            if (prefix.IndexOf('{') >= 0 || prefix.IndexOf('}') >= 0)
            {
                // The limit's name is the key's hash tag, so the buckets of one endpoint share a cluster slot.
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"key_prefix\" cannot hold { or }: the gateway puts each endpoint's name in braces, so its keys share one Redis Cluster slot", prefixProperty.Value);
            }
        }

        return address is null ? null : new SharedLimitsModel(address, failOpen, timeout, prefix);
    }

    /// <summary><c>every</c> in milliseconds: 1s when absent; an invalid duration is reported (KrakenD would use 1s).</summary>
    private static long Every(JsonProperty? property, ConfigReader read)
    {
        if (property is null || !read.Expect(property, JsonKind.String, "a duration such as \"1s\", \"10m\" or \"24h\""))
        {
            return 1000;
        }

        if (!Durations.TryParseMilliseconds(property.Value.Text!, out long milliseconds))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"every\" \"{property.Value.Text}\" is not a duration; write one such as \"1s\", \"10m\" or \"24h\"", property.Value);
            return 1000;
        }

        return milliseconds;
    }

    /// <summary>A rate: a number of at least 0 (0 or absent: no limit); decimals allowed.</summary>
    private static double Rate(JsonProperty? property, ConfigReader read)
    {
        if (property is null || !read.Expect(property, JsonKind.Number, "a number of requests"))
        {
            return 0;
        }

        if (!double.TryParse(property.Value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate < 0 || rate > MaxCapacity)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{property.Name}\" {property.Value.Text} is out of range; use a number of requests from 0 (no limit) to {MaxCapacity}", property.Value);
            return 0;
        }

        return rate;
    }

    /// <summary>A capacity: a whole number of at least 0 (0 or absent: the default).</summary>
    private static long Capacity(JsonProperty? property, ConfigReader read)
    {
        if (property is null || !read.Expect(property, JsonKind.Number, "a whole number of requests"))
        {
            return 0;
        }

        if (!long.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out long capacity) || capacity > MaxCapacity)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{property.Name}\" {property.Value.Text} is out of range; use a whole number of requests from 0 (the default) to {MaxCapacity}", property.Value);
            return 0;
        }

        return capacity;
    }

    /// <summary>
    /// A bucket with KrakenD's default capacity when none is given: the rate per second, rounded down, at least 1
    /// (docs: "the max_rate value expressed in seconds or 1 for smaller fractions").
    /// </summary>
    private static TokenBucketModel Bucket(double rate, long everyMilliseconds, long capacity)
    {
        if (capacity == 0)
        {
            double perSecond = rate * 1000 / everyMilliseconds;
            capacity = perSecond < 1 ? 1 : (long)Math.Min(Math.Floor(perSecond), MaxCapacity);
        }

        return new TokenBucketModel(rate, everyMilliseconds, capacity);
    }

    /// <summary>Checks <c>key</c> for its strategy; for <c>param</c>, returns the parameter's position among the route's parameters.</summary>
    private static int CheckKey(string strategy, string key, JsonProperty keyProperty, List<RouteSegmentModel>? route, DiagnosticBag diagnostics)
    {
        if (strategy != "param")
        {
            if (!Gateway.Http.HttpRules.IsHeaderName(key))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{key}\" is not a header name", keyProperty.Value);
            }

            return -1;
        }

        var parameters = new List<string>();
        foreach (RouteSegmentModel segment in route ?? new List<RouteSegmentModel>())
        {
            if (segment.IsParameter)
            {
                parameters.Add(segment.Text);
            }
        }

        int index = parameters.IndexOf(key);
        if (index < 0)
        {
            // KrakenD would read an empty value and refuse every request with 429.
            string known = parameters.Count == 0 ? "the endpoint has no route parameter" : "its parameters are " + string.Join(", ", parameters);
            diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{key}\" is not a parameter of the endpoint's path; {known}", keyProperty.Value);
        }

        return index;
    }

    private static int Whole(JsonProperty? property, ConfigReader read, string what, int absent, int minimum, int maximum, string range)
    {
        if (property is null || !read.Expect(property, JsonKind.Number, what))
        {
            return absent;
        }

        if (!int.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < minimum || value > maximum)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{property.Name}\" {property.Value.Text} is out of range; use {range}", property.Value);
            return absent;
        }

        return value;
    }

    /// <summary><c>host:port</c> with a port from 1 to 65535 (an IPv6 host in brackets), nothing else.</summary>
    private static bool IsHostAndPort(string address)
    {
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
        {
            return false;
        }

        string host = address.Substring(0, colon);
        if (host.StartsWith("[", StringComparison.Ordinal))
        {
            return host.EndsWith("]", StringComparison.Ordinal) && host.Length > 2;
        }

        foreach (char c in host)
        {
            if (!(char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}

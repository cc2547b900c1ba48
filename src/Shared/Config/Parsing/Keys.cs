using System;
using System.Collections.Generic;

namespace Gateway.Config.Parsing;

/// <summary>
/// The keys each object of the configuration may hold. Keys this gateway implements are parsed; keys
/// KrakenD knows but this gateway does not implement yet get GW2001; anything else gets GW3001 with a
/// suggestion when a known key is close.
/// </summary>
internal static class Keys
{
    public const string Comment = "@comment";

    public static readonly string[] RootSupported =
    {
        "version", "port", "host", "timeout", "cache_ttl", "output_encoding", "endpoints", "echo_endpoint", "debug_endpoint", "disable_rest",
        "extra_config", "name", "$schema", Comment,
    };

    public static readonly string[] RootNotYet =
    {
        "disable_keep_alives", "allow_insecure_connections", "client_tls", "plugin", "async_agent", "sequential_start", "use_h2c", "dns_cache_ttl",
    };

    public static readonly string[] EndpointSupported =
    {
        "endpoint", "method", "timeout", "backend", "extra_config", "cache_ttl", "concurrent_calls", "input_query_strings",
        "input_headers", "output_encoding", Comment,
    };

    public static readonly string[] EndpointNotYet = Array.Empty<string>();

    public static readonly string[] BackendSupported =
    {
        "host", "url_pattern", "method", "encoding", "group", "is_collection", "target", "allow", "deny", "mapping",
        "input_headers", "input_query_strings", "disable_host_sanitize", "extra_config", "sd", "sd_scheme", Comment,
    };

    public static readonly string[] BackendNotYet = Array.Empty<string>();

    /// <summary>Keys KrakenD reads but ignores at this level; accepted with a warning that says so.</summary>
    public static readonly string[] BackendIgnored = { "timeout", "concurrent_calls" };

    public static readonly string[] StaticSupported = { "strategy", "data", Comment };

    public static readonly string[] StaticStrategies = { "always", "success", "errored", "complete", "incomplete" };

    public static readonly string[] FlatmapSupported = { "type", "args", Comment };

    public static readonly string[] FlatmapTypes = { "move", "del", "append" };

    public static readonly string[] OutputEncodings = { "json", "json-collection", "string", "no-op" };

    public static readonly string[] OutputEncodingsNotYet = { "xml", "yaml", "negotiate" };

    public static readonly string[] BackendEncodings = { "json", "safejson", "string", "no-op" };

    public static readonly string[] BackendEncodingsNotYet = { "xml", "rss", "yaml" };

    public static bool Contains(string[] keys, string key) => Array.IndexOf(keys, key) >= 0;

    /// <summary>The closest key within a small edit distance, for "did you mean" hints.</summary>
    public static string? Suggest(string key, params string[][] candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string[] list in candidates)
        {
            foreach (string candidate in list)
            {
                int distance = Distance(key.ToLowerInvariant(), candidate);
                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = candidate;
                }
            }
        }

        int allowed = key.Length <= 4 ? 1 : key.Length <= 10 ? 2 : 3;
        return bestDistance <= allowed ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    public static IEnumerable<string> All(params string[][] lists)
    {
        foreach (string[] list in lists)
        {
            foreach (string key in list)
            {
                yield return key;
            }
        }
    }
}

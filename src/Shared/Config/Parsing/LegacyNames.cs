using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;

namespace Gateway.Config.Parsing;

/// <summary>One legacy name found in a file and the name it is read as.</summary>
internal sealed class LegacyRename
{
    public LegacyRename(JsonProperty property, string current)
    {
        Property = property;
        Current = current;
    }

    /// <summary>The member as written (its name and where the name is).</summary>
    public JsonProperty Property { get; }

    public string Current { get; }
}

/// <summary>
/// KrakenD 1.x names (<c>"version": 2</c> files) and the v3 names they became, in one table (docs/compatibility.md,
/// legacy configurations). The parser reads a legacy name as its v3 name, with a warning (GW3003) at the key;
/// <c>gateway migrate</c> rewrites the file with the same table.
/// </summary>
internal static class LegacyNames
{
    /// <summary><c>extra_config</c> namespaces.</summary>
    public static readonly (string Legacy, string Current)[] Namespaces =
    {
        ("github_com/devopsfaith/krakend/transport/http/server/handler", "plugin/http-server"),
        ("github.com/devopsfaith/krakend/transport/http/client/executor", "plugin/http-client"),
        ("github.com/devopsfaith/krakend/proxy/plugin", "plugin/req-resp-modifier"),
        ("github.com/devopsfaith/krakend/proxy", "proxy"),
        ("github_com/luraproject/lura/router/gin", "router"),
        ("github_com/devopsfaith/krakend/router/gin", "router"),
        ("github.com/devopsfaith/krakend-ratelimit/juju/router", "qos/ratelimit/router"),
        ("github.com/devopsfaith/krakend-ratelimit/juju/proxy", "qos/ratelimit/proxy"),
        ("github.com/devopsfaith/krakend-httpcache", "qos/http-cache"),
        ("github.com/devopsfaith/krakend-circuitbreaker/gobreaker", "qos/circuit-breaker"),
        ("github.com/devopsfaith/krakend-oauth2-clientcredentials", "auth/client-credentials"),
        ("github.com/devopsfaith/krakend-jose/validator", "auth/validator"),
        ("github.com/devopsfaith/krakend-jose/signer", "auth/signer"),
        ("github_com/devopsfaith/bloomfilter", "auth/revoker"),
        ("github_com/devopsfaith/krakend-botdetector", "security/bot-detector"),
        ("github_com/devopsfaith/krakend-httpsecure", "security/http"),
        ("github_com/devopsfaith/krakend-cors", "security/cors"),
        ("github.com/devopsfaith/krakend-cel", "validation/cel"),
        ("github.com/devopsfaith/krakend-jsonschema", "validation/json-schema"),
        ("github.com/devopsfaith/krakend-amqp/consume", "backend/amqp/consumer"),
        ("github.com/devopsfaith/krakend-amqp/produce", "backend/amqp/producer"),
        ("github.com/devopsfaith/krakend-lambda", "backend/lambda"),
        ("github.com/devopsfaith/krakend-pubsub/publisher", "backend/pubsub/publisher"),
        ("github.com/devopsfaith/krakend-pubsub/subscriber", "backend/pubsub/subscriber"),
        ("github.com/devopsfaith/krakend/transport/http/client/graphql", "backend/graphql"),
        ("github.com/devopsfaith/krakend/http", "backend/http"),
        ("github_com/devopsfaith/krakend-gelf", "telemetry/gelf"),
        ("github_com/devopsfaith/krakend-gologging", "telemetry/logging"),
        ("github_com/devopsfaith/krakend-logstash", "telemetry/logstash"),
        ("github_com/devopsfaith/krakend-metrics", "telemetry/metrics"),
        ("github_com/letgoapp/krakend-influx", "telemetry/influx"),
        ("github_com/devopsfaith/krakend-influx", "telemetry/influx"),
        ("github_com/devopsfaith/krakend-opencensus", "telemetry/opencensus"),
        ("github.com/devopsfaith/krakend-lua/router", "modifier/lua-endpoint"),
        ("github.com/devopsfaith/krakend-lua/proxy/backend", "modifier/lua-backend"),
        ("github.com/devopsfaith/krakend-lua/proxy", "modifier/lua-proxy"),
        ("github.com/devopsfaith/krakend-martian", "modifier/martian"),
        ("github_com/devopsfaith/krakend-swagger", "documentation/openapi"),
        ("github_com/devopsfaith/krakend-apikeys", "auth/api-keys"),
        ("github_com/devopsfaith/krakend-instana", "telemetry/instana"),
        ("github.com/devopsfaith/krakend-websocket", "websocket"),
    };

    /// <summary>Keys of an endpoint or a backend.</summary>
    public static readonly (string Legacy, string Current)[] Keys =
    {
        ("headers_to_pass", "input_headers"),
        ("querystring_params", "input_query_strings"),
        ("whitelist", "allow"),
        ("blacklist", "deny"),
    };

    /// <summary>Keys inside a namespace's object.</summary>
    public static readonly (string Legacy, string Current)[] NamespaceKeys =
    {
        ("maxErrors", "max_errors"),
        ("logStatusChange", "log_status_change"),
        ("maxRate", "max_rate"),
        ("clientMaxRate", "client_max_rate"),
        ("propagate-claims", "propagate_claims"),
        ("jwk-url", "jwk_url"),
        ("keys-to-sign", "keys_to_sign"),
        ("cacheSize", "cache_size"),
        ("denylist", "deny"),
        ("allowlist", "allow"),
        ("HashName", "hash_name"),
        ("TokenKeys", "token_keys"),
    };

    /// <summary>
    /// Renames every legacy name of the document in place (root, endpoints, backends, their <c>extra_config</c>
    /// namespaces and the keys inside them), so the parser reads v3 names only; returns what it renamed. A legacy
    /// member next to its v3 name is dropped: the v3 one wins, as in KrakenD.
    /// </summary>
    public static List<LegacyRename> Upgrade(JsonNode root)
    {
        var renames = new List<LegacyRename>();
        UpgradeLevel(root, renames, withKeys: false);
        if (root.Find("endpoints") is { Value.Kind: JsonKind.Array } endpoints)
        {
            foreach (JsonNode endpoint in endpoints.Value.Items!)
            {
                if (endpoint.Kind != JsonKind.Object)
                {
                    continue;
                }

                UpgradeLevel(endpoint, renames, withKeys: true);
                if (endpoint.Find("backend") is { Value.Kind: JsonKind.Array } backends)
                {
                    foreach (JsonNode backend in backends.Value.Items!)
                    {
                        if (backend.Kind == JsonKind.Object)
                        {
                            UpgradeLevel(backend, renames, withKeys: true);
                        }
                    }
                }
            }
        }

        return renames;
    }

    /// <summary>Reports each rename as GW3003 at the legacy key.</summary>
    public static void Report(List<LegacyRename> renames, DiagnosticBag diagnostics)
    {
        foreach (LegacyRename rename in renames)
        {
            diagnostics.ReportAtKey(
                DiagnosticKind.LegacyName,
                $"\"{rename.Property.Name}\" is the KrakenD 1.x name of \"{rename.Current}\" and is read as such; `gateway migrate` rewrites the file with the v3 names",
                rename.Property);
        }
    }

    private static void UpgradeLevel(JsonNode node, List<LegacyRename> renames, bool withKeys)
    {
        if (withKeys)
        {
            Rename(node, Keys, renames);
        }

        if (node.Find("extra_config") is { Value.Kind: JsonKind.Object } extra)
        {
            Rename(extra.Value, Namespaces, renames);
            foreach (JsonProperty ns in extra.Value.Properties!)
            {
                if (ns.Value.Kind == JsonKind.Object)
                {
                    Rename(ns.Value, NamespaceKeys, renames);
                }
            }
        }
    }

    private static void Rename(JsonNode node, (string Legacy, string Current)[] table, List<LegacyRename> renames)
    {
        List<JsonProperty> properties = node.Properties!;
        for (int i = 0; i < properties.Count; i++)
        {
            JsonProperty property = properties[i];
            string? current = null;
            foreach ((string legacy, string v3) in table)
            {
                if (property.Name == legacy)
                {
                    current = v3;
                    break;
                }
            }

            if (current is null)
            {
                continue;
            }

            renames.Add(new LegacyRename(property, current));
            if (node.Find(current) is not null)
            {
                properties.RemoveAt(i--);
                continue;
            }

            properties[i] = new JsonProperty(current, property.NameStart, property.NameLength, property.Value);
        }
    }
}

using System.Globalization;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>Each configuration mistake is reported with its id, severity and the exact line and column (1-based).</summary>
public class DiagnosticTests
{
    // The endpoint/backend skeleton the cases below vary. Line numbers in the expectations count from here.
    private static string Config(string endpointBody, string root = "\"host\": [\"http://127.0.0.1:9000\"],") => $$"""
        {
          "version": 3,
          {{root}}
          "endpoints": [
            {
              {{endpointBody}}
            }
          ]
        }
        """;

    public static TheoryData<string, string, DiagnosticSeverity, int, int> Mistakes => new()
    {
        // JSON syntax: the position of the fault.
        { "{\n  \"version\": 3,\n  \"endpoints\": [\n}", "GW0001", DiagnosticSeverity.Error, 4, 1 },
        { "{\"version\": 3, \"port\": 80a}", "GW0001", DiagnosticSeverity.Error, 1, 26 },
        // Version.
        { "{\"version\": 1}", "GW0003", DiagnosticSeverity.Error, 1, 13 },
        // Wrong type, at the value.
        { Config("\"endpoint\": \"/a\", \"backend\": {}"), "GW0004", DiagnosticSeverity.Error, 6, 36 },
        // Invalid path (a wildcard), at the value.
        { Config("\"endpoint\": \"/a/*\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1001", DiagnosticSeverity.Error, 6, 19 },
        // Duplicate method and path (parameter names do not matter), at the second path.
        { "{\"version\": 3, \"host\": [\"h\"], \"endpoints\": [{\"endpoint\": \"/a/{x}\", \"backend\": [{}]},\n{\"endpoint\": \"/a/{y}\", \"backend\": [{}]}]}", "GW1003", DiagnosticSeverity.Error, 2, 14 },
        // Reserved path, at the value.
        { Config("\"endpoint\": \"/__health/x\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1002", DiagnosticSeverity.Error, 6, 19 },
        // No backends.
        { Config("\"endpoint\": \"/a\", \"backend\": []"), "GW1004", DiagnosticSeverity.Error, 6, 19 },
        // Unsupported method.
        { Config("\"endpoint\": \"/a\", \"method\": \"TRACE\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1005", DiagnosticSeverity.Error, 6, 35 },
        // Invalid duration.
        { Config("\"endpoint\": \"/a\", \"timeout\": \"3 seconds\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1006", DiagnosticSeverity.Error, 6, 36 },
        // Invalid host (a path in the host), at the host string.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://h:8080/api\"], \"url_pattern\": \"/x\"}]"), "GW1007", DiagnosticSeverity.Error, 6, 47 },
        // A port no backend can listen on, at the host string: 0, past 65535, and 0 in a host used verbatim.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://127.0.0.1:0\"], \"url_pattern\": \"/x\"}]"), "GW1007", DiagnosticSeverity.Error, 6, 47 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://127.0.0.1:65536\"], \"url_pattern\": \"/x\"}]"), "GW1007", DiagnosticSeverity.Error, 6, 47 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://127.0.0.1:0/api\"], \"disable_host_sanitize\": true, \"url_pattern\": \"/x\"}]"), "GW1007", DiagnosticSeverity.Error, 6, 47 },
        // Undefined placeholder: the {placeholder} inside the url_pattern.
        { Config("\"endpoint\": \"/a/{id}\", \"backend\": [{\"url_pattern\": \"/x/{user}\"}]"), "GW1008", DiagnosticSeverity.Error, 6, 62 },
        // Reference to the same backend.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y/{resp1_id}\"}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"), "GW1009", DiagnosticSeverity.Error, 6, 80 },
        // Reference on a non-sequential endpoint.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y/{resp0_id}\"}]"), "GW1010", DiagnosticSeverity.Error, 6, 80 },
        // Unclosed brace.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x/{id\"}]"), "GW1011", DiagnosticSeverity.Error, 6, 57 },
        // No host anywhere.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"port\": 8080,"), "GW1012", DiagnosticSeverity.Error, 6, 37 },
        // Reference that skips the referenced backend's group.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"group\": \"g\"}, {\"url_pattern\": \"/y/{resp0_id}\"}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"), "GW1013", DiagnosticSeverity.Error, 6, 94 },
        // A KrakenD feature not implemented yet: at the key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"sequential_start\": true,"), "GW2001", DiagnosticSeverity.Error, 3, 18 },
        // "sd": "dns": the backend's own host is the SRV record's name; a scheme only http(s); KrakenD asks only the first name.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\"}]"), "GW1012", DiagnosticSeverity.Error, 6, 37 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\", \"host\": [\"http://catalog:8080\"]}]"), "GW1007", DiagnosticSeverity.Error, 6, 81 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\", \"sd_scheme\": \"grpc\", \"host\": [\"_api._tcp.example.com\"]}]"), "GW1016", DiagnosticSeverity.Error, 6, 85 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\", \"host\": [\"_api._tcp.example.com\", \"_api._tcp.example.org\"]}]"), "GW3002", DiagnosticSeverity.Warning, 6, 106 },
        // Unknown key close to a known one: a misspelling, an error at the key.
        // A key no one knows, far from every known key: another tool's extension, a warning at the key.
        { Config("\"endpoint\": \"/a\", \"x-owner-team\": \"payments\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3001", DiagnosticSeverity.Warning, 6, 25 },
        // A backend without url_pattern (a misspelled one is also GW1020), at the backend.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://b:1\"]}]"), "GW1021", DiagnosticSeverity.Error, 6, 37 },
        { Config("\"endpoint\": \"/a\", \"timeuot\": \"1s\", \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1020", DiagnosticSeverity.Error, 6, 25 },
        // no-op output with several backends: at output_encoding's value.
        { Config("\"endpoint\": \"/a\", \"output_encoding\": \"no-op\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\"}]"), "GW1014", DiagnosticSeverity.Error, 6, 44 },
        // Unknown backend encoding.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"encoding\": \"jsno\"}]"), "GW1015", DiagnosticSeverity.Error, 6, 71 },
        // Unknown static strategy.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"proxy\": {\"static\": {\"strategy\": \"sometimes\", \"data\": {}}}}"), "GW1016", DiagnosticSeverity.Error, 6, 111 },
        // deny beside allow has no effect: at "deny".
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"allow\": [\"a\"], \"deny\": [\"b\"]}]"), "GW3002", DiagnosticSeverity.Warning, 6, 75 },
        // Without disable_rest, {name} inside a segment is literal text, so the url_pattern cannot use it.
        { Config("\"endpoint\": \"/f/{name}.json\", \"backend\": [{\"url_pattern\": \"/s/{name}\"}]"), "GW1008", DiagnosticSeverity.Error, 6, 69 },
        // Request templates (docs/configuration.md): a GET backend sends no body, at "body".
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/request\": {\"body\": {\"a\": 1}}}}]"), "GW1017", DiagnosticSeverity.Error, 6, 96 },
        // A string body must be a whole-response placeholder, at the value.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"method\": \"POST\", \"extra_config\": {\"gateway/request\": {\"body\": \"text\"}}}]"), "GW1017", DiagnosticSeverity.Error, 6, 122 },
        // A header value written with CR/LF can never be sent, at the value.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"X-A\": \"a\\r\\nb\"}}}}]"), "GW1018", DiagnosticSeverity.Error, 6, 115 },
        // A header the HTTP client writes itself, at the key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"Host\": \"h\"}}}}]"), "GW1018", DiagnosticSeverity.Error, 6, 108 },
        // A body template reading a later backend, at the placeholder inside the string.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"method\": \"POST\", \"extra_config\": {\"gateway/request\": {\"body\": {\"id\": \"{resp1_id}\"}}}}, {\"url_pattern\": \"/y\"}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"), "GW1009", DiagnosticSeverity.Error, 6, 130 },
        // A step index no backend has, in a header template, at the placeholder.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"X-Id\": \"{resp5_id}\"}}}}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"), "GW1009", DiagnosticSeverity.Error, 6, 140 },
        // A whole body cannot go in a header, at the placeholder.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"X-All\": \"{resp0}\"}}}}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"), "GW1011", DiagnosticSeverity.Error, 6, 141 },
        // An undefined placeholder in a header template, at the placeholder.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"Authorization\": \"Bearer {token}\"}}}}]"), "GW1008", DiagnosticSeverity.Error, 6, 133 },
        // proxy-chain without services, at its object.
        { Config("\"endpoint\": \"/a\", \"method\": \"POST\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"proxy-chain\": {\"token_header\": \"X-Token\"}}"), "GW1019", DiagnosticSeverity.Error, 6, 111 },
        // qos/circuit-breaker: values, a required timeout, a key without effect, a typo.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"interval\": 60, \"timeout\": 0, \"max_errors\": 1}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 127 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"timeout\": 10, \"max_errors\": -1}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 129 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"max_errors\": 1}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 99 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"timeout\": 10, \"log_status_change\": true}}}]"), "GW3002", DiagnosticSeverity.Warning, 6, 115 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"timeout\": 10, \"max_erors\": 1}}}]"), "GW1020", DiagnosticSeverity.Error, 6, 115 },
        // KrakenD 1.x names: read as their v3 names, a warning at the old key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/circuit-breaker\": {\"timeout\": 10, \"maxErrors\": 1}}}]"), "GW3003", DiagnosticSeverity.Warning, 6, 115 },
        // security/cors at the configuration root: each wrong value at its place.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"https://app.example.com/\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 71 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"https://*.*.example.com\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 71 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"app.example.com\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 71 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_methods\": [\"GET\", \"GO T\"]}},"), "GW1005", DiagnosticSeverity.Error, 3, 78 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_headers\": [\"X Token\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 71 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"max_age\": \"12 hours\"}},"), "GW1006", DiagnosticSeverity.Error, 3, 64 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"options_success_status\": 404}},"), "GW1016", DiagnosticSeverity.Error, 3, 79 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"*\"], \"allow_credentials\": true}},"), "GW3002", DiagnosticSeverity.Warning, 3, 77 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origin\": [\"*\"]}},"), "GW1020", DiagnosticSeverity.Error, 3, 53 },
        // telemetry/logging: each wrong value at its place.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"LOUD\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 66 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"format\": \"custom\"}},"), "GW2001", DiagnosticSeverity.Error, 3, 67 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"format\": \"xml\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 67 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"INFO\", \"syslog\": true, \"syslog_facility\": \"kern\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 109 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"custom_format\": \"%s\"}},"), "GW2001", DiagnosticSeverity.Error, 3, 57 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"INFO\", \"syslog_facility\": \"local3\"}},"), "GW3002", DiagnosticSeverity.Warning, 3, 74 },
        // telemetry/opentelemetry: exporters are required; each wrong value at its place.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"service_name\": \"x\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 62 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {}}},"), "GW1016", DiagnosticSeverity.Error, 3, 76 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"prometheus\": [{\"port\": 70000}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 101 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"trace_sample_rate\": 1.5, \"exporters\": {\"otlp\": [{}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 84 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"metric_reporting_period\": 0, \"exporters\": {\"otlp\": [{}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 90 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"otlp\": [{\"name\": \"a\"}], \"prometheus\": [{\"name\": \"a\"}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 126 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"layers\": {}, \"exporters\": {\"otlp\": [{}]}}},"), "GW2001", DiagnosticSeverity.Error, 3, 63 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"prometheus\": [{\"go_metrics\": true}]}}},"), "GW3002", DiagnosticSeverity.Warning, 3, 93 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"prometheus\": [{\"listen_ip\": \"everywhere\"}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 106 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"otlp\": [{\"host\": \"http://collector/v1\"}]}}},"), "GW1016", DiagnosticSeverity.Error, 3, 95 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/opentelemetry\": {\"exporters\": {\"otlp\": [{\"host\": \"collector\", \"use_htp\": true}]}}},"), "GW1020", DiagnosticSeverity.Error, 3, 108 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"github_com/devopsfaith/krakend-gologging\": {\"level\": \"INFO\"}},"), "GW3003", DiagnosticSeverity.Warning, 3, 35 },
        // The telemetry namespaces are root namespaces: on an endpoint they are refused at their key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"telemetry/opentelemetry\": {}}"), "GW2001", DiagnosticSeverity.Error, 6, 78 },
        // security/cors is a root namespace: on an endpoint it is refused at its key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"security/cors\": {}}"), "GW2001", DiagnosticSeverity.Error, 6, 78 },
        // Placeholder defaults that cannot work where they land: at the default.
        { Config("\"endpoint\": \"/a/{id}\", \"backend\": [{\"url_pattern\": \"/x/{id|unknown}\"}]"), "GW1011", DiagnosticSeverity.Error, 6, 66 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x?d={input_headers.X-D|null}\"}]"), "GW1011", DiagnosticSeverity.Error, 6, 78 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x/{input_query.q|\\\"\\\"}\"}]"), "GW1011", DiagnosticSeverity.Error, 6, 53 },
        // gateway/step on a backend: a misspelled key; on an endpoint it is refused at its key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/step\": {\"requried\": true}}}]"), "GW1020", DiagnosticSeverity.Error, 6, 93 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"gateway/step\": {\"required\": true}}"), "GW2001", DiagnosticSeverity.Error, 6, 78 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y/{resp0_items.0.id}\"}], \"extra_config\": {\"github.com/devopsfaith/krakend/proxy\": {\"sequential\": true}}"), "GW3003", DiagnosticSeverity.Warning, 6, 120 },
        { Config("\"endpoint\": \"/a\", \"headers_to_pass\": [\"X-A\"], \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3003", DiagnosticSeverity.Warning, 6, 25 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"github_com/devopsfaith/krakend-cors\": {\"allow_origins\": []}},"), "GW3003", DiagnosticSeverity.Warning, 3, 35 },
        // Service discovery, observe-only telemetry, features that cannot be supported.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"consul\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 65 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"static\", \"sd_scheme\": \"https\"}]"), "GW3002", DiagnosticSeverity.Warning, 6, 75 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"telemetry/opencensus\": {}}}]"), "GW3002", DiagnosticSeverity.Warning, 6, 76 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"backend/amqp/consumer\": {\"name\": \"q\"}}}]"), "GW2001", DiagnosticSeverity.Error, 6, 76 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"plugin\": {\"pattern\": \".so\", \"folder\": \"./plugins/\"},"), "GW2001", DiagnosticSeverity.Error, 3, 18 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"async_agent\": [],"), "GW2001", DiagnosticSeverity.Error, 3, 18 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/metrics\": {\"collection_time\": \"60s\"}},"), "GW3002", DiagnosticSeverity.Warning, 3, 35 },
        // modifier/martian: an unsupported modifier, a body that is not base64, a framing header, a wrong scope.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/martian\": {\"header.Id\": {\"scope\": [\"request\"]}}}}]"), "GW2001", DiagnosticSeverity.Error, 6, 97 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/martian\": {\"body.Modifier\": {\"scope\": [\"request\"], \"body\": \"not base64!\"}}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 145 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/martian\": {\"header.Modifier\": {\"scope\": [\"request\"], \"name\": \"Transfer-Encoding\", \"value\": \"chunked\"}}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 147 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/martian\": {\"fifo.Group\": {\"scope\": [\"requests\"], \"modifiers\": []}}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 122 },
        // auth/client-credentials: a token_url that is not absolute, a missing secret (at the namespace object).
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"auth/client-credentials\": {\"client_id\": \"a\", \"client_secret\": \"b\", \"token_url\": \"/token\"}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 157 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"auth/client-credentials\": {\"client_id\": \"a\", \"token_url\": \"https://auth/token\"}}}]"), "GW1016", DiagnosticSeverity.Error, 6, 103 },
        // The root's server keys: a broken TLS version, an address, a key without effect.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"min_version\": \"TLS10\"},"), "GW1016", DiagnosticSeverity.Error, 3, 88 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"listen_ip\": \"localhost\","), "GW1016", DiagnosticSeverity.Error, 3, 31 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"write_timeout\": \"10s\","), "GW3002", DiagnosticSeverity.Warning, 3, 18 },
        // Mutual TLS: authorities without it, a pool that trusts nobody, an empty path; curve preferences .NET cannot apply.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"ca_certs\": [\"ca.pem\"]},"), "GW3002", DiagnosticSeverity.Warning, 3, 73 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"enable_mtls\": true, \"disable_system_ca_pool\": true},"), "GW1016", DiagnosticSeverity.Error, 3, 94 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"enable_mtls\": true, \"ca_certs\": [\"\"]},"), "GW1016", DiagnosticSeverity.Error, 3, 107 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"curve_preferences\": [23, 24]},"), "GW3002", DiagnosticSeverity.Warning, 3, 73 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"curve_preferences\": [23, 22]},"), "GW1016", DiagnosticSeverity.Error, 3, 99 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"read_timeout\": 10,"), "GW1006", DiagnosticSeverity.Error, 3, 34 },
        // router: client address options, each mistake at its place; a key without the others it needs has no effect.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"forwarded_by_client_ip\": true, \"trusted_proxies\": [\"10.0.0.0/8\", \"10.0.0.0/33\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 112 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"forwarded_by_client_ip\": true, \"trusted_proxies\": [\"127.1\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 98 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"forwarded_by_client_ip\": true, \"trusted_proxies\": [\"::1\"], \"remote_ip_headers\": [\"X Real IP\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 128 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"forwarded_by_client_ip\": true}},"), "GW3002", DiagnosticSeverity.Warning, 3, 46 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"trusted_proxies\": [\"10.0.0.0/8\"]}},"), "GW3002", DiagnosticSeverity.Warning, 3, 46 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"disable_gzip\": \"yes\"}},"), "GW0004", DiagnosticSeverity.Error, 3, 62 },
        // router: a health path that cannot be one, or that an endpoint takes; paths the access log cannot match; options the gateway cannot honour.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"health_path\": \"status\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 61 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"health_path\": \"/__ready\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 61 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"health_path\": \"/live/{x}\"}},"), "GW1016", DiagnosticSeverity.Error, 3, 61 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"health_path\": \"/live\", \"disable_health\": true}},"), "GW3002", DiagnosticSeverity.Warning, 3, 46 },
        { Config("\"endpoint\": \"/live\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"health_path\": \"/live\"}},"), "GW1002", DiagnosticSeverity.Error, 6, 19 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"logger_skip_paths\": [\"/__health\", \"metrics\"]}},"), "GW1016", DiagnosticSeverity.Error, 3, 81 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"logger_skip_paths\": \"/__health\"}},"), "GW0004", DiagnosticSeverity.Error, 3, 67 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"app_engine\": true}},"), "GW2001", DiagnosticSeverity.Error, 3, 46 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"use_h2c\": true}},"), "GW2001", DiagnosticSeverity.Error, 3, 46 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"max_multipart_memory\": 1048576}},"), "GW3002", DiagnosticSeverity.Warning, 3, 46 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"error_body\": {\"404\": {\"msg\": \"x\"}, \"406\": {}}}},"), "GW1020", DiagnosticSeverity.Error, 3, 82 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"error_body\": [404]}},"), "GW0004", DiagnosticSeverity.Error, 3, 60 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"auto_options\": \"yes\"}},"), "GW0004", DiagnosticSeverity.Error, 3, 62 },
        // gateway/response on an endpoint: headers that describe a connection or the gateway's own body, a name that is
        // not one, a list with no effect, a typo; on a backend it is refused at its key.
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"ETag\", \"Connection\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 83 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"Content-Length\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 75 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"X Bad\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 75 },
        { Config("\"endpoint\": \"/a\", \"output_encoding\": \"no-op\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"ETag\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3002", DiagnosticSeverity.Warning, 6, 91 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"ETag\", \"etag\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3002", DiagnosticSeverity.Warning, 6, 83 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": []}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3002", DiagnosticSeverity.Warning, 6, 63 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"header\": [\"ETag\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1020", DiagnosticSeverity.Error, 6, 63 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"ETag\"]}}}]"), "GW2001", DiagnosticSeverity.Error, 6, 76 },
        // gateway/limits on an endpoint: a negative, fractional or huge bound, a string, a misspelled or unknown key, a backend.
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": -1}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 88 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 2.5}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 88 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 1000001}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1016", DiagnosticSeverity.Error, 6, 88 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": \"8\"}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW0004", DiagnosticSeverity.Error, 6, 88 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurent_requests\": 8}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW1020", DiagnosticSeverity.Error, 6, 61 },
        { Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 8, \"queue\": 5}}, \"backend\": [{\"url_pattern\": \"/x\"}]"), "GW3001", DiagnosticSeverity.Warning, 6, 91 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 8}}}]"), "GW2001", DiagnosticSeverity.Error, 6, 76 },
        // auth/validator: alg none is never accepted, at the value.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"none\", \"jwk_url\": \"https://idp.example.com/jwks.json\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 104 },
        // auth/validator: EdDSA: not yet.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"EdDSA\", \"jwk_url\": \"https://idp.example.com/jwks.json\"}}"), "GW2001", DiagnosticSeverity.Error, 6, 104 },
        // auth/validator: no alg, at the namespace's object.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"jwk_url\": \"https://idp.example.com/jwks.json\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 96 },
        // auth/validator: no key source, at the namespace's object.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 96 },
        // auth/validator: plain http JWKS without disable_jwk_security.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"http://idp/jwks.json\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 124 },
        // auth/validator: a JWKS URL that is not absolute.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"idp/jwks.json\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 124 },
        // auth/validator: scopes without scopes_key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"scopes\": [\"read\"]}}"), "GW1016", DiagnosticSeverity.Error, 6, 171 },
        // auth/validator: an unknown scopes_matcher.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"scopes\": [\"read\"], \"scopes_key\": \"scope\", \"scopes_matcher\": \"some\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 222 },
        // auth/validator: an unknown key_identify_strategy.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"key_identify_strategy\": \"x5c\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 186 },
        // auth/validator: a propagate_claims entry that is not a pair.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"propagate_claims\": [[\"sub\"]]}}"), "GW0004", DiagnosticSeverity.Error, 6, 182 },
        // auth/validator: a claim sent as a header the client writes.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"propagate_claims\": [[\"sub\", \"Content-Length\"]]}}"), "GW1016", DiagnosticSeverity.Error, 6, 190 },
        // auth/validator: cache with a JWKS file, at cache.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_local_path\": \"./jwks.json\", \"cache\": true}}"), "GW1016", DiagnosticSeverity.Error, 6, 146 },
        // auth/validator: an invalid leeway.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"leeway\": \"1 second\"}}"), "GW1006", DiagnosticSeverity.Error, 6, 171 },
        // auth/validator: certificate pinning: not yet, at the key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"jwk_fingerprints\": [\"abc\"]}}"), "GW2001", DiagnosticSeverity.Error, 6, 161 },
        // auth/validator: a misspelled key.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"isuer\": \"x\"}}"), "GW1020", DiagnosticSeverity.Error, 6, 161 },
        // auth/validator: an invalid cookie name.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"cookie_key\": \"a b\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 175 },
        // auth/validator: audience as a string.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"audience\": \"api\"}}"), "GW0004", DiagnosticSeverity.Error, 6, 173 },
        // auth/validator: a dotted roles_key without roles_key_is_nested is one claim name: a warning.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"roles\": [\"a\"], \"roles_key\": \"realm_access.roles\"}}"), "GW3002", DiagnosticSeverity.Warning, 6, 190 },
        // auth/validator: cache_duration without cache.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\", \"cache_duration\": 60}}"), "GW3002", DiagnosticSeverity.Warning, 6, 161 },
        // auth/validator: jwk_url beside jwk_local_path.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_local_path\": \"./jwks.json\", \"jwk_url\": \"https://idp.example.com/jwks.json\"}}"), "GW3002", DiagnosticSeverity.Warning, 6, 146 },
        // auth/validator: the 1.x namespace name.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"github.com/devopsfaith/krakend-jose/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"https://idp.example.com/jwks.json\"}}"), "GW3003", DiagnosticSeverity.Warning, 6, 78 },
        // auth/validator: a JWT placeholder on an endpoint without auth/validator, at the placeholder.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x/{JWT.sub}\"}]"), "GW1008", DiagnosticSeverity.Error, 6, 57 },
        // qos/ratelimit/router: a client limit without strategy, wrong values, a key the strategy cannot use, tuning without effect.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5}}"), "GW1016", DiagnosticSeverity.Error, 6, 103 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 5, \"every\": \"10 minutes\"}}"), "GW1006", DiagnosticSeverity.Error, 6, 127 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": -1}}"), "GW1016", DiagnosticSeverity.Error, 6, 115 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 5, \"capacity\": 2.5}}"), "GW1016", DiagnosticSeverity.Error, 6, 130 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5, \"strategy\": \"cookie\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 137 },
        { Config("\"endpoint\": \"/a/{id}\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5, \"strategy\": \"param\", \"key\": \"user\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 158 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5, \"strategy\": \"header\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 125 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5, \"strategy\": \"header\", \"key\": \"X Key\"}}"), "GW1016", DiagnosticSeverity.Error, 6, 154 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rat\": 5}}"), "GW1020", DiagnosticSeverity.Error, 6, 103 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 5, \"every\": \"500ms\"}}"), "GW3002", DiagnosticSeverity.Warning, 6, 127 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 5, \"num_shards\": 64}}"), "GW3002", DiagnosticSeverity.Warning, 6, 118 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 5, \"strategy\": \"ip\"}}"), "GW3002", DiagnosticSeverity.Warning, 6, 118 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 0, \"client_max_rate\": 0}}"), "GW3002", DiagnosticSeverity.Warning, 6, 102 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"clientMaxRate\": 5, \"strategy\": \"ip\"}}"), "GW3003", DiagnosticSeverity.Warning, 6, 103 },
        // Each rate-limit namespace at its own level only; qos/ratelimit/proxy values.
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/proxy\": {\"max_rate\": 1}}"), "GW2001", DiagnosticSeverity.Error, 6, 78 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/ratelimit/proxy\": {\"max_rate\": 1, \"every\": \"soon\"}}}]"), "GW1006", DiagnosticSeverity.Error, 6, 124 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/ratelimit/proxy\": {\"capacity\": 1}}}]"), "GW3002", DiagnosticSeverity.Warning, 6, 99 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 1}}}]"), "GW2001", DiagnosticSeverity.Error, 6, 76 },
        // gateway/ratelimit at the root: statuses, the bound on clients, Redis (no password in the file).
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"status_code\": 200}},"), "GW1016", DiagnosticSeverity.Error, 3, 72 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"max_clients\": 0}},"), "GW1016", DiagnosticSeverity.Error, 3, 72 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"redis\": {}}},"), "GW1016", DiagnosticSeverity.Error, 3, 57 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"redis\": {\"address\": \"redis:6379,password=secret\"}}},"), "GW1016", DiagnosticSeverity.Error, 3, 78 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"redis\": {\"address\": \"redis:6379\", \"on_failure\": \"retry\"}}},"), "GW1016", DiagnosticSeverity.Error, 3, 106 },
        { Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"redis\": {\"address\": \"redis:6379\", \"timeout\": \"1 second\"}}},"), "GW1006", DiagnosticSeverity.Error, 3, 103 },
        // Port out of range.
        { "{\"version\": 3, \"port\": 70000}", "GW0005", DiagnosticSeverity.Error, 1, 24 },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Generate_Mistake_ReportsIdSeverityAndPosition(string config, string id, DiagnosticSeverity severity, int line, int column)
    {
        var (_, _, diagnostics) = GeneratorHarness.Run(config);

        Diagnostic diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        var position = diagnostic.Location.GetLineSpan();
        Assert.Equal(GeneratorHarness.ConfigPath, position.Path);
        Assert.Equal((line, column), (position.StartLinePosition.Line + 1, position.StartLinePosition.Character + 1));
    }

    [Theory]
    [InlineData("\"plugin\": {\"pattern\": \".so\"},", "Go plugins")]
    [InlineData("\"extra_config\": {\"backend/pubsub/subscriber\": {}},", "message-broker")]
    public void Generate_AFeatureThatCannotBeSupported_SaysWhatToDoInstead(string root, string reason)
    {
        Diagnostic diagnostic = Assert.Single(GeneratorHarness.Run(Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], " + root)).Diagnostics);

        Assert.Equal("GW2001", diagnostic.Id);
        Assert.Contains("cannot be supported", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains(reason, diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_StrictBuild_WarningsAreErrorsAtTheSamePlace()
    {
        string config = Config("\"endpoint\": \"/a\", \"x-owner-team\": \"payments\", \"backend\": [{\"url_pattern\": \"/x\"}]");

        Diagnostic lenient = Assert.Single(GeneratorHarness.Run(config).Diagnostics);
        Diagnostic strict = Assert.Single(GeneratorHarness.Run(config, strict: true).Diagnostics);

        Assert.Equal((DiagnosticSeverity.Warning, "GW3001"), (lenient.Severity, lenient.Id));
        Assert.Equal((DiagnosticSeverity.Error, "GW3001"), (strict.Severity, strict.Id));
        Assert.Equal(lenient.Location, strict.Location);
        Assert.Equal(lenient.GetMessage(CultureInfo.InvariantCulture), strict.GetMessage(CultureInfo.InvariantCulture));
    }

    public static TheoryData<string> CloseButValid => new()
    {
        // "sd": "static" is KrakenD's default written out.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"static\"}]"),
        Config("\"endpoint\": \"/a/{id}\", \"backend\": [{\"url_pattern\": \"/x/{id}?q={id}\"}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"group\": \"g\"}, {\"url_pattern\": \"/y/{resp0_g.id}\"}], \"extra_config\": {\"proxy\": {\"sequential\": true}}"),
        Config("\"endpoint\": \"/a\", \"timeout\": \"1m30s\", \"method\": \"post\", \"backend\": [{\"host\": [\"https://svc.local:8443/\"], \"url_pattern\": \"x\", \"@comment\": \"relative pattern\"}]"),
        // Every port from 1 to 65535, one digit included.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"host\": [\"http://127.0.0.1:9\", \"http://127.0.0.1:1\", \"http://127.0.0.1:65535\"], \"url_pattern\": \"/x\"}]"),
        Config("\"endpoint\": \"/a/{id}\", \"backend\": [{\"url_pattern\": \"/x\"}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"port\": 9090, \"timeout\": \"500ms\", \"host\": [\"backend\"], \"name\": \"n\","),
        Config("\"endpoint\": \"/f/{name}.json\", \"backend\": [{\"url_pattern\": \"/s/{name}\"}]", root: "\"host\": [\"h\"], \"disable_rest\": true,"),
        Config("\"endpoint\": \"/a\", \"output_encoding\": \"no-op\", \"backend\": [{\"url_pattern\": \"/x\", \"encoding\": \"no-op\"}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"allow\": [\"a\"], \"deny\": []}], \"extra_config\": {\"proxy\": {\"static\": {\"strategy\": \"errored\", \"data\": {\"a\": 1}}}}"),
        Config("\"endpoint\": \"/a\", \"cache_ttl\": \"0s\", \"input_headers\": [\"*\"], \"input_query_strings\": [\"q\"], \"backend\": [{\"url_pattern\": \"/x\", \"encoding\": \"safejson\", \"extra_config\": {\"backend/http\": {\"return_error_code\": true}}}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [\"https://app.example.com\", \"https://*.example.com\", \"http://localhost:3000\"], \"allow_methods\": [\"get\", \"POST\", \"PATCH\"], \"allow_headers\": [\"Authorization\", \"X-Tenant\"], \"expose_headers\": [\"X-Request-Id\"], \"max_age\": \"12h\", \"allow_credentials\": true, \"allow_private_network\": true, \"options_success_status\": 200, \"debug\": false}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"security/cors\": {\"allow_origins\": [], \"max_age\": \"0s\"}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"return_error_msg\": true, \"disable_gzip\": true, \"forwarded_by_client_ip\": true, \"trusted_proxies\": [\"10.0.0.0/8\", \"192.168.1.7\", \"10.1.2.3/16\", \"2001:db8::/32\", \"::1\"], \"remote_ip_headers\": [\"CF-Connecting-IP\", \"X-Forwarded-For\"]}},"),
        // syslog with KrakenD's default facility, and with another one (any case).
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"INFO\", \"syslog\": true, \"stdout\": true}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"ERROR\", \"syslog\": true, \"syslog_facility\": \"LOCAL7\"}},"),
        // "sd": "dns" as KrakenD's page writes it, and with the scheme left to its default.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\", \"sd_scheme\": \"https\", \"host\": [\"api-catalog.service.consul.srv\"], \"disable_host_sanitize\": true}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"sd\": \"dns\", \"host\": [\"_http._tcp.catalog.default.svc.cluster.local.\"]}, {\"url_pattern\": \"/y\"}]"),
        // Mutual TLS with the system's authorities and the listed ones, or the listed ones only.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"public_key\": \"c.pem\", \"private_key\": \"k.pem\", \"enable_mtls\": true},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"tls\": {\"keys\": [{\"public_key\": \"c.pem\", \"private_key\": \"k.pem\"}], \"enable_mtls\": true, \"ca_certs\": [\"./ca/partners.pem\", \"/etc/ssl/internal.pem\"], \"disable_system_ca_pool\": true},"),
        // Every router option KrakenD's page lists that the gateway honours or already behaves as asked.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"auto_options\": true, \"health_path\": \"/status/live\", \"disable_access_log\": true, \"logger_skip_paths\": [\"/status/live\", \"/__stats/metrics\"], \"hide_version_header\": true, \"disable_path_decoding\": true, \"disable_redirect_trailing_slash\": true, \"disable_redirect_fixed_path\": true, \"disable_handle_method_not_allowed\": false, \"remove_extra_slash\": true, \"app_engine\": false, \"use_h2c\": false, \"error_body\": {\"404\": {\"msg\": \"Unknown endpoint\", \"status\": 404}, \"405\": null, \"@comment\": \"c\"}}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"router\": {\"disable_health\": true, \"disable_handle_method_not_allowed\": true}},"),
        Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/response\": {\"headers\": [\"ETag\", \"Cache-Control\", \"Set-Cookie\", \"Vary\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\"}]"),
        // gateway/limits: a bound, no bound (0), the largest bound.
        Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 64, \"@comment\": \"c\"}}, \"backend\": [{\"url_pattern\": \"/x\"}]"),
        Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 0}}, \"backend\": [{\"url_pattern\": \"/x\"}]"),
        Config("\"endpoint\": \"/a\", \"extra_config\": {\"gateway/limits\": {\"max_concurrent_requests\": 1000000}}, \"backend\": [{\"url_pattern\": \"/x\"}]"),
        // auth/validator with every key; a JWKS file; a plain-http JWKS for development, a namespaced roles claim.
        Config("\"endpoint\": \"/a/{id}\", \"input_headers\": [\"X-User\"], \"backend\": [{\"url_pattern\": \"/x/{id}?u={JWT.sub}&r={JWT.https://example.com/roles}\", \"extra_config\": {\"gateway/request\": {\"headers\": {\"X-Tenant\": \"{JWT.tenant.id|0}\"}}}}], \"extra_config\": {\"auth/validator\": {\"alg\": \"ES384\", \"jwk_url\": \"https://idp.example.com/.well-known/jwks.json\", \"cache\": true, \"cache_duration\": 600, \"failed_jwk_key_cooldown\": \"30s\", \"issuer\": \"https://idp.example.com\", \"audience\": [\"api\", \"web\"], \"roles\": [\"admin\"], \"roles_key\": \"realm_access.roles\", \"roles_key_is_nested\": true, \"scopes\": [\"read\"], \"scopes_key\": \"scope\", \"scopes_matcher\": \"all\", \"cookie_key\": \"session\", \"auth_header_name\": \"X-Token\", \"propagate_claims\": [[\"sub\", \"X-User\"], [\"https://example.com/roles\", \"X-Roles\"]], \"propagate_claims_preserve_array\": true, \"leeway\": \"30s\", \"key_identify_strategy\": \"kid_x5t\", \"operation_debug\": true, \"@comment\": \"every key\"}}"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"HS256\", \"jwk_local_path\": \"./secrets/jwks.json\", \"disable_jwk_security\": false}}"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"auth/validator\": {\"alg\": \"RS256\", \"jwk_url\": \"http://127.0.0.1:8080/jwks?realm=dev\", \"disable_jwk_security\": true, \"roles\": [\"a\"], \"roles_key\": \"https://example.com/roles\"}}"),
        // Rate limits as KrakenD's pages write them, and the gateway's own settings.
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 50, \"every\": \"10m\", \"client_max_rate\": 5, \"client_capacity\": 5, \"strategy\": \"IP\", \"@comment\": \"c\"}}"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 100, \"client_capacity\": 100, \"every\": \"1h\", \"strategy\": \"header\", \"key\": \"Authorization\"}}"),
        Config("\"endpoint\": \"/api/{customer_id}/invoices\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"client_max_rate\": 5, \"every\": \"1m\", \"strategy\": \"param\", \"key\": \"customer_id\"}}"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"qos/ratelimit/proxy\": {\"max_rate\": 0.5, \"every\": \"1s\", \"capacity\": 1}, \"qos/circuit-breaker\": {\"timeout\": 10}}}]"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}], \"extra_config\": {\"qos/ratelimit/router\": {\"max_rate\": 10}}", root: "\"host\": [\"h\"], \"extra_config\": {\"gateway/ratelimit\": {\"status_code\": 429, \"client_status_code\": 429, \"max_clients\": 5000, \"redis\": {\"address\": \"redis.internal:6379\", \"on_failure\": \"deny\", \"timeout\": \"50ms\", \"key_prefix\": \"shop:\"}}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"debug\", \"format\": \"logstash\", \"prefix\": \"[KRAKEND]\", \"stdout\": true, \"syslog\": false}, \"telemetry/opentelemetry\": {\"service_name\": \"edge\", \"service_version\": \"1.2\", \"deploy_env\": \"prod\", \"metric_reporting_period\": 15, \"trace_sample_rate\": 0.25, \"exporters\": {\"prometheus\": [{\"name\": \"local\", \"port\": 9091, \"listen_ip\": \"127.0.0.1\"}], \"otlp\": [{\"name\": \"tempo\", \"host\": \"tempo.internal\", \"port\": 4318, \"use_http\": true, \"disable_metrics\": true}]}}},"),
        Config("\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\"}]", root: "\"host\": [\"h\"], \"extra_config\": {\"telemetry/logging\": {\"level\": \"WARNING\", \"format\": \"default\"}, \"telemetry/opentelemetry\": {\"exporters\": {\"otlp\": {\"host\": \"https://collector.example.com\"}}}},"),
    };

    [Theory]
    [MemberData(nameof(CloseButValid))]
    public void Generate_CloseButValid_ReportsNothing(string config)
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(config);

        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Generate_SeveralMistakes_ReportsAllAndEmitsTheValidEndpoints()
    {
        const string config = """
            {
              "version": 3,
              "host": ["http://127.0.0.1:9000"],
              "endpoints": [
                {"endpoint": "/ok", "backend": [{"url_pattern": "/x"}]},
                {"endpoint": "/bad1", "backend": [{"url_pattern": "/x/{nope}"}]},
                {"endpoint": "/bad2", "timeout": "soon", "backend": [{"url_pattern": "/x"}]},
                {"endpoint": "/ok", "backend": [{"url_pattern": "/y"}]}
              ]
            }
            """;
        var (driver, output, diagnostics) = GeneratorHarness.Run(config);

        Assert.Equal(new[] { "GW1008", "GW1006", "GW1003" }, diagnostics.Select(d => d.Id));
        Assert.Equal(new[] { 6, 7, 8 }, diagnostics.Select(d => d.Location.GetLineSpan().StartLinePosition.Line + 1));
        var hints = driver.GetRunResult().Results[0].GeneratedSources.Select(s => s.HintName).ToArray();
        Assert.Contains("Gateway.Generated.GetOkHandler.g.cs", hints);
        Assert.DoesNotContain(hints, h => h.Contains("Bad", StringComparison.Ordinal));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }
}

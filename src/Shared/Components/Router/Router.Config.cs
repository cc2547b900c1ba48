using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Http;

namespace Gateway.Components.Router;

/// <summary>
/// What <c>router</c> sets for the whole gateway: error messages in answers, response compression, and whose word the
/// gateway takes for the client's address.
/// </summary>
/// <param name="Compression">Answers are compressed for clients that accept it (<c>disable_gzip</c> turns it off).</param>
/// <param name="ClientAddress">Who may tell the client's address; null: the connection's peer is the client.</param>
/// <param name="Settings">What the server does before and around routing; null when every option keeps KrakenD's default.</param>
internal sealed record RouterModel(bool ReturnErrorMessage, bool Compression, ClientAddressModel? ClientAddress, RouterSettingsModel? Settings = null)
{
    public static readonly RouterModel Default = new(false, true, null);
}

/// <summary>
/// The <c>router</c> options that act before and around routing and on the access log: a root component (a default of
/// the run-time settings), so that a configuration which keeps KrakenD's defaults builds none.
/// </summary>
/// <param name="HealthPath">Where the health endpoint answers; null with <c>disable_health</c>.</param>
/// <param name="AutoOptions"><c>auto_options</c>: <c>OPTIONS</c> on a configured path answers 200 with <c>Allow</c>.</param>
/// <param name="MethodNotAllowed">A configured path asked with another method answers 405 (<c>disable_handle_method_not_allowed</c>: 404).</param>
/// <param name="RedirectTrailingSlash">A path that matches with the trailing slash added or removed is redirected there.</param>
/// <param name="RedirectFixedPath">A path that matches once cleaned and compared without case is redirected there.</param>
/// <param name="RemoveExtraSlash">The path is cleaned (<c>//</c>, <c>.</c>, <c>..</c>) before routing.</param>
/// <param name="AccessLog">False with <c>disable_access_log</c>: the access log is off unless the operator turns it on.</param>
/// <param name="LoggerSkipPaths">Request paths the access log does not write.</param>
/// <param name="NotFoundBody"><c>error_body."404"</c> as compact JSON; null for the gateway's text.</param>
/// <param name="MethodNotAllowedBody"><c>error_body."405"</c> as compact JSON; null for the gateway's text.</param>
internal sealed record RouterSettingsModel(
    string? HealthPath,
    bool AutoOptions,
    bool MethodNotAllowed,
    bool RedirectTrailingSlash,
    bool RedirectFixedPath,
    bool RemoveExtraSlash,
    bool AccessLog,
    EquatableArray<string> LoggerSkipPaths,
    string? NotFoundBody,
    string? MethodNotAllowedBody) : GatewayComponentModel
{
    public const string DefaultHealthPath = "/__health";

    /// <summary>KrakenD's defaults: nothing for the gateway to build.</summary>
    public static readonly RouterSettingsModel Default = new(DefaultHealthPath, false, true, true, true, false, true, EquatableArray<string>.Empty, null, null);
}

/// <summary>
/// <c>forwarded_by_client_ip</c> with its <c>trusted_proxies</c> (networks, written canonically: <c>10.0.0.0/8</c>) and
/// <c>remote_ip_headers</c> (the headers read, in order).
/// </summary>
internal sealed record ClientAddressModel(EquatableArray<string> TrustedProxies, EquatableArray<string> Headers);

/// <summary>
/// KrakenD's <c>router</c> namespace at the configuration root: the HTTP server's behaviour (docs/configuration.md,
/// router options). Every option of KrakenD's page is read: those the gateway implements (errors, compression, the
/// client address, the health endpoint, automatic <c>OPTIONS</c>, redirects, path cleaning, the access log, error
/// bodies), those the gateway already behaves as they ask (<c>hide_version_header</c>, <c>disable_path_decoding</c>),
/// and those it cannot honour, each refused or warned about at its key with what to do instead.
/// </summary>
internal static class RouterConfig
{
    public static readonly ConfigNamespace Namespace = new("router", ConfigScope.Root, "github_com/luraproject/lura/router/gin");

    /// <summary>gin's default <c>RemoteIPHeaders</c>, which KrakenD keeps when <c>remote_ip_headers</c> is absent.</summary>
    public static readonly string[] DefaultRemoteIpHeaders = { "X-Forwarded-For", "X-Real-IP" };

    private static readonly string[] Supported =
    {
        "return_error_msg", "disable_gzip", "forwarded_by_client_ip", "remote_ip_headers", "trusted_proxies", "disable_health",
        "health_path", "auto_options", "disable_access_log", "logger_skip_paths", "disable_path_decoding", "hide_version_header",
        "disable_redirect_trailing_slash", "disable_redirect_fixed_path", "disable_handle_method_not_allowed", "remove_extra_slash",
        "app_engine", "max_multipart_memory", "use_h2c", "error_body", Keys.Comment,
    };

    /// <summary>Paths the gateway answers itself, whatever the configuration: the health endpoint cannot take them.</summary>
    private static readonly string[] BuiltInPaths = { "/__ready", "/__debug", "/__echo", "/__stats" };

    /// <summary>Reads the namespace; without it, the defaults (no error messages, compression on, the peer is the client).</summary>
    public static RouterModel Read(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } router)
        {
            return RouterModel.Default;
        }

        read.CheckKeys(router, "\"router\"", Supported, Array.Empty<string>());
        RouterSettingsModel settings = ReadSettings(router, read);
        return new RouterModel(
            read.ParseBool(router.Find("return_error_msg")),
            !read.ParseBool(router.Find("disable_gzip")),
            ReadClientAddress(router, read),
            settings == RouterSettingsModel.Default ? null : settings);
    }

    /// <summary>The options that act around routing, as lura's gin engine reads them (krakend.md §12).</summary>
    private static RouterSettingsModel ReadSettings(JsonNode router, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        string? healthPath = RouterSettingsModel.DefaultHealthPath;
        JsonProperty? healthPathProperty = router.Find("health_path");
        if (healthPathProperty is not null && read.Expect(healthPathProperty, JsonKind.String, "a path such as \"/health\""))
        {
            healthPath = ReadHealthPath(healthPathProperty.Value, diagnostics) ?? RouterSettingsModel.DefaultHealthPath;
        }

        if (router.Find("disable_health") is { } disableHealth && read.ParseBool(disableHealth))
        {
            healthPath = null;
            if (healthPathProperty is not null)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"health_path\" has no effect with \"disable_health\": true: there is no health endpoint (/__ready still answers for load balancers)", healthPathProperty);
            }
        }

        var skipPaths = new List<string>();
        if (router.Find("logger_skip_paths") is { } skipProperty)
        {
            foreach (JsonNode item in read.StringItems(skipProperty, "request paths such as \"/__health\""))
            {
                if (item.Text!.Length == 0 || item.Text[0] != '/')
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" in \"logger_skip_paths\" is not a path: a request's path starts with '/', as in \"/__health\"", item);
                }
                else if (!skipPaths.Contains(item.Text))
                {
                    skipPaths.Add(item.Text);
                }
            }
        }

        ReadRefused(router, read, "app_engine", "it makes the gateway believe any X-AppEngine-* header a client sends; behind Google's front end, use \"forwarded_by_client_ip\" with \"trusted_proxies\" (Google's ranges) and \"remote_ip_headers\": [\"X-Appengine-Remote-Addr\"]");
        ReadRefused(router, read, "use_h2c", "Kestrel cannot serve HTTP/1.1 and cleartext HTTP/2 on one port; the gateway serves HTTP/2 over TLS (\"tls\"), or put an HTTP/2 proxy in front of it");
        if (router.Find("max_multipart_memory") is { } multipart)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"max_multipart_memory\" has no effect: the gateway never parses multipart forms; request bodies are forwarded as they come, up to 8 MiB", multipart);
        }

        // Accepted as they are: the gateway already behaves as these ask, whatever their value (docs/compatibility.md).
        // hide_version_header: the gateway sends no version header at all; disable_path_decoding: route parameters are
        // decoded once and encoded again for the backend, never refused for being encoded twice.
        read.ParseBool(router.Find("hide_version_header"));
        read.ParseBool(router.Find("disable_path_decoding"));

        (string? notFound, string? methodNotAllowed) = ErrorBodies(router, read);
        return new RouterSettingsModel(
            healthPath,
            read.ParseBool(router.Find("auto_options")),
            !read.ParseBool(router.Find("disable_handle_method_not_allowed")),
            !read.ParseBool(router.Find("disable_redirect_trailing_slash")),
            !read.ParseBool(router.Find("disable_redirect_fixed_path")),
            read.ParseBool(router.Find("remove_extra_slash")),
            !read.ParseBool(router.Find("disable_access_log")),
            EquatableArray.From(skipPaths),
            notFound,
            methodNotAllowed);
    }

    /// <summary>
    /// The health endpoint's path: literal segments only (no parameters, query or fragment), and none of the paths the
    /// gateway answers itself. Null, reported, when it cannot be used.
    /// </summary>
    private static string? ReadHealthPath(JsonNode value, DiagnosticBag diagnostics)
    {
        string path = value.Text!;
        string? problem = null;
        if (path.Length == 0 || path[0] != '/')
        {
            problem = "it must start with '/'";
        }
        else if (path.IndexOf("//", StringComparison.Ordinal) >= 0)
        {
            problem = "it has an empty segment ('//')";
        }
        else
        {
            foreach (char c in path)
            {
                if (c is '?' or '#' or '{' or '}' or '*' or '%' || c <= ' ' || c >= 0x7F)
                {
                    problem = $"'{c}' cannot be part of it: the health endpoint's path is literal text";
                    break;
                }
            }
        }

        foreach (string builtIn in BuiltInPaths)
        {
            if (problem is null && (path == builtIn || path.StartsWith(builtIn + "/", StringComparison.Ordinal)))
            {
                problem = $"{builtIn} is one of the gateway's own endpoints";
            }
        }

        if (problem is not null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, $"\"health_path\" \"{path}\" cannot be used: {problem}", value);
            return null;
        }

        return path;
    }

    /// <summary>An option whose <c>true</c> the gateway cannot honour: GW2001 at the key with what to do instead.</summary>
    private static void ReadRefused(JsonNode router, ConfigReader read, string key, string instead)
    {
        if (router.Find(key) is { } property && read.ParseBool(property))
        {
            read.Diagnostics.ReportAtKey(DiagnosticKind.UnsupportedFeature, $"\"{key}\": true in \"router\" cannot be supported: {instead}", property);
        }
    }

    /// <summary>
    /// <c>error_body."404"</c> and <c>."405"</c>: the JSON values KrakenD CE answers instead of its texts, compacted; null
    /// when absent or <c>null</c> (the text then).
    /// </summary>
    private static (string? NotFound, string? MethodNotAllowed) ErrorBodies(JsonNode router, ConfigReader read)
    {
        if (router.Find("error_body") is not { } property || !read.Expect(property, JsonKind.Object, "an object with \"404\" and \"405\" bodies"))
        {
            return (null, null);
        }

        read.CheckKeys(property.Value, "\"error_body\"", new[] { "404", "405", Keys.Comment }, Array.Empty<string>());
        return (Body("404"), Body("405"));

        string? Body(string status) =>
            property.Value.Find(status) is { } body && body.Value.Kind != JsonKind.Null ? JsonText.Compact(body.Value) : null;
    }

    /// <summary>
    /// gin's rule, which KrakenD uses: the headers are believed only when <c>forwarded_by_client_ip</c> is true and the
    /// connection comes from a trusted proxy. Each key without the others it needs has no effect, and says so.
    /// </summary>
    private static ClientAddressModel? ReadClientAddress(JsonNode router, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        JsonProperty? enabledProperty = router.Find("forwarded_by_client_ip");
        JsonProperty? proxiesProperty = router.Find("trusted_proxies");
        JsonProperty? headersProperty = router.Find("remote_ip_headers");
        bool enabled = read.ParseBool(enabledProperty);
        int errorsBefore = diagnostics.ErrorCount;

        var networks = new List<string>();
        if (proxiesProperty is not null)
        {
            foreach (JsonNode item in read.StringItems(proxiesProperty, "IP addresses or CIDR networks such as \"10.0.0.0/8\""))
            {
                if (!IpNetwork.TryParse(item.Text!, out IpNetwork network, out string problem))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" in \"trusted_proxies\" is not an IP address or network: {problem}", item);
                }
                else if (!networks.Contains(network.ToString()))
                {
                    networks.Add(network.ToString());
                }
            }

            if (!enabled)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"trusted_proxies\" has no effect unless \"forwarded_by_client_ip\" is true: the gateway takes the connection's address as the client's", proxiesProperty);
            }
        }

        var headers = new List<string>();
        if (headersProperty is not null)
        {
            foreach (JsonNode item in read.StringItems(headersProperty, "header names"))
            {
                if (!HttpRules.IsHeaderName(item.Text!))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" in \"remote_ip_headers\" is not a header name", item);
                }
                else if (!HttpRules.Contains(headers.ToArray(), item.Text!))
                {
                    headers.Add(item.Text!);
                }
            }

            if (!enabled)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"remote_ip_headers\" has no effect unless \"forwarded_by_client_ip\" is true", headersProperty);
            }
            else if (headersProperty.Value.Kind == JsonKind.Array && headersProperty.Value.Items!.Count == 0)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"an empty \"remote_ip_headers\" has no effect: the default headers ({string.Join(", ", DefaultRemoteIpHeaders)}) are read", headersProperty);
            }
        }

        if (enabled && networks.Count == 0 && diagnostics.ErrorCount == errorsBefore)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"forwarded_by_client_ip\" has no effect without \"trusted_proxies\": no connection is trusted to tell the client's address; list your proxies' addresses or networks", enabledProperty!);
        }

        if (!enabled || networks.Count == 0 || diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        return new ClientAddressModel(EquatableArray.From(networks), EquatableArray.From(headers.Count > 0 ? headers : new List<string>(DefaultRemoteIpHeaders)));
    }
}

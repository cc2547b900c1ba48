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
internal sealed record RouterModel(bool ReturnErrorMessage, bool Compression, ClientAddressModel? ClientAddress)
{
    public static readonly RouterModel Default = new(false, true, null);
}

/// <summary>
/// <c>forwarded_by_client_ip</c> with its <c>trusted_proxies</c> (networks, written canonically: <c>10.0.0.0/8</c>) and
/// <c>remote_ip_headers</c> (the headers read, in order).
/// </summary>
internal sealed record ClientAddressModel(EquatableArray<string> TrustedProxies, EquatableArray<string> Headers);

/// <summary>
/// KrakenD's <c>router</c> namespace at the configuration root: the HTTP server's behaviour. The gateway implements
/// <c>return_error_msg</c> (docs/configuration.md, errors), <c>disable_gzip</c> (compression) and the client address
/// options <c>forwarded_by_client_ip</c>, <c>trusted_proxies</c> and <c>remote_ip_headers</c>; the other options are
/// refused until they are implemented.
/// </summary>
internal static class RouterConfig
{
    public static readonly ConfigNamespace Namespace = new("router", ConfigScope.Root, "github_com/luraproject/lura/router/gin");

    /// <summary>gin's default <c>RemoteIPHeaders</c>, which KrakenD keeps when <c>remote_ip_headers</c> is absent.</summary>
    public static readonly string[] DefaultRemoteIpHeaders = { "X-Forwarded-For", "X-Real-IP" };

    private static readonly string[] Supported =
    {
        "return_error_msg", "disable_gzip", "forwarded_by_client_ip", "remote_ip_headers", "trusted_proxies", Keys.Comment,
    };

    private static readonly string[] NotYet =
    {
        "disable_health", "health_path", "auto_options", "disable_access_log", "logger_skip_paths", "disable_path_decoding",
        "hide_version_header", "disable_redirect_trailing_slash", "disable_redirect_fixed_path", "disable_handle_method_not_allowed",
        "remove_extra_slash", "app_engine", "max_multipart_memory", "use_h2c", "error_body",
    };

    /// <summary>Reads the namespace; without it, the defaults (no error messages, compression on, the peer is the client).</summary>
    public static RouterModel Read(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } router)
        {
            return RouterModel.Default;
        }

        read.CheckKeys(router, "\"router\"", Supported, NotYet);
        return new RouterModel(
            read.ParseBool(router.Find("return_error_msg")),
            !read.ParseBool(router.Find("disable_gzip")),
            ReadClientAddress(router, read));
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

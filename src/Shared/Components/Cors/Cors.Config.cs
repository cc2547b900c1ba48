using System;
using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Http;

namespace Gateway.Components.Cors;

/// <summary>
/// The gateway's CORS policy, normalised at build time: origins lower-cased and split into exact ones and
/// <c>prefix*suffix</c> patterns, methods upper-cased, allowed headers lower-cased, the exposed-headers value joined.
/// </summary>
internal sealed record CorsModel(
    bool AllOrigins,
    EquatableArray<string> Origins,
    EquatableArray<string> OriginPatterns,
    EquatableArray<string> Methods,
    bool AllHeaders,
    EquatableArray<string> Headers,
    string? ExposeHeaders,
    bool AllowCredentials,
    bool AllowPrivateNetwork,
    bool OptionsPassthrough,
    int OptionsSuccessStatus,
    long MaxAgeSeconds,
    bool Debug) : GatewayComponentModel;

/// <summary>
/// KrakenD's <c>security/cors</c> at the configuration root (docs/configuration.md, CORS): which origins may call the
/// gateway from a browser, with which methods and headers, and what the browser may read of the answer. Preflight
/// requests are answered by the gateway itself, on any path, before routing.
/// </summary>
internal static class CorsConfig
{
    public static readonly ConfigNamespace Namespace = new("security/cors", ConfigScope.Root, "github_com/devopsfaith/krakend-cors");

    /// <summary>KrakenD's default methods when <c>allow_methods</c> is absent or empty: the CORS-safelisted ones.</summary>
    public static readonly string[] DefaultMethods = { "GET", "POST", "HEAD" };

    private static readonly string[] Supported =
    {
        "allow_origins", "allow_methods", "allow_headers", "expose_headers", "allow_credentials", "allow_private_network",
        "options_passthrough", "options_success_status", "max_age", "debug", Keys.Comment,
    };

    private static readonly string[] Methods = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static GatewayComponentModel? Read(JsonNode node, GatewayReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"security/cors\"", Supported, Array.Empty<string>());

        // Origins: none listed, or "*" among them, allows every origin (KrakenD's default).
        bool allOrigins = true;
        var origins = new List<string>();
        var patterns = new List<string>();
        if (node.Find("allow_origins") is { } originsProperty)
        {
            List<JsonNode> items = read.StringItems(originsProperty, "origins such as \"https://app.example.com\"");
            allOrigins = items.Count == 0;
            foreach (JsonNode item in items)
            {
                string origin = item.Text!.ToLowerInvariant();
                if (origin == "*")
                {
                    allOrigins = true;
                }
                else if (OriginProblem(origin) is { } problem)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" in \"allow_origins\" is not an origin: {problem}", item);
                }
                else
                {
                    (origin.IndexOf('*') >= 0 ? patterns : origins).Add(origin);
                }
            }
        }

        var methods = new List<string>();
        if (node.Find("allow_methods") is { } methodsProperty)
        {
            foreach (JsonNode item in read.StringItems(methodsProperty, "HTTP methods"))
            {
                // Any method token (CONNECT and TRACE appear in real files); standard ones are written upper-case.
                string method = item.Text!.ToUpperInvariant();
                if (!HttpRules.IsHeaderName(method))
                {
                    diagnostics.Report(DiagnosticKind.UnsupportedMethod, $"\"{item.Text}\" in \"allow_methods\" is not a method name; use names such as {string.Join(", ", Methods)}", item);
                }
                else if (!methods.Contains(method))
                {
                    methods.Add(method);
                }
            }
        }

        if (methods.Count == 0)
        {
            methods.AddRange(DefaultMethods);
        }

        // Allowed request headers: none listed allows every header (KrakenD's default), as does "*".
        bool allHeaders = true;
        var headers = new List<string>();
        if (node.Find("allow_headers") is { } headersProperty)
        {
            List<JsonNode> items = read.StringItems(headersProperty, "header names");
            allHeaders = items.Count == 0;
            foreach (JsonNode item in items)
            {
                if (item.Text == "*")
                {
                    allHeaders = true;
                }
                else if (HeaderName(item, "allow_headers", diagnostics) && !headers.Contains(item.Text!.ToLowerInvariant()))
                {
                    headers.Add(item.Text!.ToLowerInvariant());
                }
            }
        }

        string? expose = null;
        if (node.Find("expose_headers") is { } exposeProperty)
        {
            var names = new List<string>();
            foreach (JsonNode item in read.StringItems(exposeProperty, "header names"))
            {
                if (item.Text == "*" || HeaderName(item, "expose_headers", diagnostics))
                {
                    names.Add(item.Text!);
                }
            }

            expose = names.Count == 0 ? null : string.Join(", ", names);
        }

        bool credentials = read.ParseBool(node.Find("allow_credentials"));
        if (credentials && allOrigins)
        {
            diagnostics.ReportAtKey(
                DiagnosticKind.NoEffect,
                "\"allow_credentials\" has no effect while every origin is allowed: browsers refuse credentialed answers that carry Access-Control-Allow-Origin: *; list the origins in \"allow_origins\"",
                node.Find("allow_credentials")!);
        }

        int status = 204;
        if (node.Find("options_success_status") is { } statusProperty && read.Expect(statusProperty, JsonKind.Number, "an HTTP status"))
        {
            if (!int.TryParse(statusProperty.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out status) || status < 200 || status > 299)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"options_success_status\" {statusProperty.Value.Text} is not a 2xx status; a browser accepts a preflight answer only with 200-299", statusProperty.Value);
                status = 204;
            }
        }

        long maxAge = 0;
        if (node.Find("max_age") is { } maxAgeProperty && read.Expect(maxAgeProperty, JsonKind.String, "a duration such as \"12h\""))
        {
            if (Durations.TryParseMilliseconds(maxAgeProperty.Value.Text!, out long milliseconds, allowZero: true))
            {
                maxAge = milliseconds / 1000;
            }
            else
            {
                diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"max_age\" \"{maxAgeProperty.Value.Text}\" is not a duration; write one such as \"12h\", \"30m\" or \"600s\"", maxAgeProperty.Value);
            }
        }

        if (diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        return new CorsModel(
            allOrigins,
            allOrigins ? EquatableArray<string>.Empty : EquatableArray.From(origins),
            allOrigins ? EquatableArray<string>.Empty : EquatableArray.From(patterns),
            EquatableArray.From(methods),
            allHeaders,
            allHeaders ? EquatableArray<string>.Empty : EquatableArray.From(headers),
            expose,
            credentials,
            read.ParseBool(node.Find("allow_private_network")),
            read.ParseBool(node.Find("options_passthrough")),
            status,
            maxAge,
            read.ParseBool(node.Find("debug")));
    }

    private static bool HeaderName(JsonNode item, string key, DiagnosticBag diagnostics)
    {
        if (HttpRules.IsHeaderName(item.Text!))
        {
            return true;
        }

        diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{item.Text}\" in \"{key}\" is not a header name", item);
        return false;
    }

    /// <summary>
    /// Why a lower-cased <c>allow_origins</c> entry can never equal a browser's <c>Origin</c> header, or null when it can:
    /// an origin is a scheme and a host with an optional port (RFC 6454), with at most one <c>*</c> standing for any run
    /// of characters.
    /// </summary>
    internal static string? OriginProblem(string origin)
    {
        int scheme = origin.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return "write the scheme and the host, e.g. \"https://app.example.com\"";
        }

        string rest = origin.Substring(scheme + 3);
        if (rest.Length == 0)
        {
            return "the host is missing";
        }

        if (rest.IndexOf('/') >= 0)
        {
            return "an origin has no path, not even a trailing \"/\" (browsers send \"https://app.example.com\")";
        }

        int star = origin.IndexOf('*');
        if (star >= 0 && origin.IndexOf('*', star + 1) >= 0)
        {
            return "use at most one \"*\"";
        }

        foreach (char c in origin)
        {
            if (c <= ' ' || c >= 0x7f || c == ',' || c == '"')
            {
                return "it holds a character no origin has";
            }
        }

        return null;
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Server;

/// <summary>A certificate and its key, as PEM files read when the gateway starts.</summary>
internal sealed record TlsKeyModel(string PublicKey, string PrivateKey);

/// <summary>The root's <c>tls</c> object.</summary>
/// <param name="MutualTls"><c>enable_mtls</c>: every client must present a certificate the gateway trusts.</param>
/// <param name="CaCertificates"><c>ca_certs</c>: PEM files of the authorities trusted for client certificates, besides the system's.</param>
/// <param name="SystemCaPool">False with <c>disable_system_ca_pool</c>: only <paramref name="CaCertificates"/> are trusted.</param>
internal sealed record TlsModel(
    EquatableArray<TlsKeyModel> Keys,
    string? MinVersion,
    string? MaxVersion,
    EquatableArray<int> CipherSuites,
    bool MutualTls = false,
    EquatableArray<string> CaCertificates = default,
    bool SystemCaPool = true);

/// <summary>
/// The root's server keys, as KrakenD's HTTP server reads them: where to listen, the client-side timeouts and header
/// limit, the backend connection settings the .NET client has, and TLS. Null values leave the gateway's defaults.
/// </summary>
internal sealed record ServerModel(
    string? ListenIp,
    long? ReadHeaderTimeoutMilliseconds,
    long? IdleTimeoutMilliseconds,
    int? MaxHeaderBytes,
    long? DialerTimeoutMilliseconds,
    long? IdleConnectionTimeoutMilliseconds,
    TlsModel? Tls) : GatewayComponentModel;

/// <summary>
/// KrakenD's service-level server keys at the configuration root (docs/configuration.md, server settings). They become
/// the defaults of the gateway's run-time settings: a command-line argument or a <c>GATEWAY_*</c> variable still wins.
/// </summary>
internal static class ServerConfig
{
    /// <summary>The root keys this component reads.</summary>
    public static readonly string[] RootKeys =
    {
        "listen_ip", "read_timeout", "read_header_timeout", "write_timeout", "idle_timeout", "max_header_bytes", "tls",
        "dialer_timeout", "dialer_keep_alive", "dialer_fallback_delay", "idle_connection_timeout", "max_idle_connections",
        "max_idle_connections_per_host", "response_header_timeout", "expect_continue_timeout", "disable_compression",
    };

    private static readonly string[] TlsSupported =
    {
        "public_key", "private_key", "keys", "min_version", "max_version", "cipher_suites", "disabled", "enable_mtls", "ca_certs",
        "disable_system_ca_pool", "curve_preferences", Keys.Comment,
    };

    /// <summary>Go's curve identifiers KrakenD's <c>curve_preferences</c> takes: P-256, P-384, P-521 and X25519.</summary>
    private static readonly string[] CurveIds = { "23", "24", "25", "29" };

    private static readonly string[] TlsVersions = { "SSL3.0", "TLS10", "TLS11", "TLS12", "TLS13" };

    /// <summary>Reads the server keys of the root; null when it has none that change anything.</summary>
    public static ServerModel? Read(JsonNode root, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        string? listenIp = null;
        if (root.Find("listen_ip") is { } ip && read.Expect(ip, JsonKind.String, "an IP address"))
        {
            if (!System.Net.IPAddress.TryParse(ip.Value.Text, out _))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"listen_ip\" \"{ip.Value.Text}\" is not an IP address", ip.Value);
            }
            else
            {
                listenIp = ip.Value.Text;
            }
        }

        // Go's server: read_header_timeout falls back to read_timeout, idle_timeout to read_timeout.
        long? readTimeout = Duration(root, "read_timeout", read);
        long? readHeader = Duration(root, "read_header_timeout", read) ?? readTimeout;
        long? idle = Duration(root, "idle_timeout", read) ?? readTimeout;
        if (root.Find("write_timeout") is { } write && Duration(root, "write_timeout", read) is not null)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"write_timeout\" has no effect: each answer is bounded by its endpoint's \"timeout\" instead, and a client too slow to read it is cut by the server's minimum data rate", write);
        }

        int? maxHeaderBytes = null;
        if (root.Find("max_header_bytes") is { } bytes && read.Expect(bytes, JsonKind.Number, "a number of bytes"))
        {
            if (!int.TryParse(bytes.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1024)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"max_header_bytes\" {bytes.Value.Text} is out of range; use a whole number of bytes, at least 1024", bytes.Value);
            }
            else
            {
                maxHeaderBytes = value;
            }
        }

        long? dialer = Duration(root, "dialer_timeout", read);
        long? idleConnection = Duration(root, "idle_connection_timeout", read);
        foreach (string pool in new[] { "max_idle_connections", "max_idle_connections_per_host", "dialer_keep_alive", "dialer_fallback_delay", "response_header_timeout", "expect_continue_timeout", "disable_compression" })
        {
            if (root.Find(pool) is { } property)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{pool}\" has no effect: the gateway's backend connections are pooled by .NET's HTTP client, which has no such setting (each endpoint's \"timeout\" bounds a backend call)", property);
            }
        }

        TlsModel? tls = root.Find("tls") is { } tlsProperty && read.Expect(tlsProperty, JsonKind.Object, "an object") ? ReadTls(tlsProperty.Value, read) : null;
        return listenIp is null && readHeader is null && idle is null && maxHeaderBytes is null && dialer is null && idleConnection is null && tls is null
            ? null
            : new ServerModel(listenIp, readHeader, idle, maxHeaderBytes, dialer, idleConnection, tls);
    }

    private static TlsModel? ReadTls(JsonNode node, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        read.CheckKeys(node, "\"tls\"", TlsSupported, Array.Empty<string>());
        if (read.ParseBool(node.Find("disabled")))
        {
            return null;
        }

        var keys = new List<TlsKeyModel>();
        if (Path(node, "public_key", read) is { } pub && Path(node, "private_key", read) is { } key)
        {
            keys.Add(new TlsKeyModel(pub, key));
        }

        if (node.Find("keys") is { } list && read.Expect(list, JsonKind.Array, "an array of {\"public_key\", \"private_key\"} objects"))
        {
            foreach (JsonNode item in list.Value.Items!)
            {
                if (item.Kind != JsonKind.Object)
                {
                    diagnostics.Report(DiagnosticKind.WrongType, "each entry of \"keys\" must be an object with \"public_key\" and \"private_key\"", item);
                    continue;
                }

                read.CheckKeys(item, "a \"tls\" key", new[] { "public_key", "private_key", Keys.Comment }, Array.Empty<string>());
                if (Path(item, "public_key", read) is { } itemPub && Path(item, "private_key", read) is { } itemKey)
                {
                    keys.Add(new TlsKeyModel(itemPub, itemKey));
                }
            }
        }

        if (keys.Count == 0)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"tls\" needs \"public_key\" and \"private_key\" (PEM files), or \"keys\"; or \"disabled\": true", node.Start, 1);
            return null;
        }

        string? min = Version(node, "min_version", read);
        string? max = Version(node, "max_version", read);
        var suites = new List<int>();
        if (node.Find("cipher_suites") is { } ciphers && read.Expect(ciphers, JsonKind.Array, "an array of cipher suite numbers"))
        {
            foreach (JsonNode item in ciphers.Value.Items!)
            {
                if (item.Kind != JsonKind.Number || !int.TryParse(item.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id > 0xFFFF)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, "each entry of \"cipher_suites\" must be a cipher suite's number (IANA, as KrakenD's list: 4865 is TLS_AES_128_GCM_SHA256)", item);
                    continue;
                }

                suites.Add(id);
            }
        }

        ReadCurves(node, read);
        (bool mutual, List<string> authorities, bool systemPool) = ReadMutualTls(node, read);
        return new TlsModel(EquatableArray.From(keys), min, max, EquatableArray.From(suites), mutual, EquatableArray.From(authorities), systemPool);
    }

    /// <summary>
    /// <c>enable_mtls</c> with <c>ca_certs</c> and <c>disable_system_ca_pool</c>, as KrakenD's server reads them: client
    /// certificates required and verified against the system's authorities and the listed ones (or only the listed ones).
    /// </summary>
    private static (bool Mutual, List<string> Authorities, bool SystemPool) ReadMutualTls(JsonNode node, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        JsonProperty? mutualProperty = node.Find("enable_mtls");
        bool mutual = read.ParseBool(mutualProperty);
        var authorities = new List<string>();
        JsonProperty? authoritiesProperty = node.Find("ca_certs");
        if (authoritiesProperty is not null)
        {
            foreach (JsonNode item in read.StringItems(authoritiesProperty, "PEM file paths"))
            {
                if (item.Text!.Length == 0)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, "an entry of \"ca_certs\" is empty; write the path of a PEM file", item);
                }
                else if (!authorities.Contains(item.Text))
                {
                    authorities.Add(item.Text);
                }
            }
        }

        JsonProperty? systemProperty = node.Find("disable_system_ca_pool");
        bool systemPool = !read.ParseBool(systemProperty);
        if (!mutual)
        {
            foreach (JsonProperty? without in new[] { authoritiesProperty, systemProperty })
            {
                if (without is not null)
                {
                    diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"{without.Name}\" has no effect without \"enable_mtls\": true: the gateway asks clients for no certificate", without);
                }
            }
        }
        else if (!systemPool && authorities.Count == 0 && diagnostics.ErrorCount == errorsBefore)
        {
            diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, "\"disable_system_ca_pool\": true without \"ca_certs\" trusts no authority: every client would be refused; list the PEM files of the authorities that issue your clients' certificates", systemProperty!);
        }

        return (mutual, authorities, systemPool);
    }

    /// <summary>
    /// <c>curve_preferences</c>: checked, then warned about. .NET leaves the key-exchange groups to the system's TLS library
    /// (OpenSSL offers X25519, P-256, P-384 and P-521), with no setting to order or narrow them.
    /// </summary>
    private static void ReadCurves(JsonNode node, ConfigReader read)
    {
        if (node.Find("curve_preferences") is not { } curves || !read.Expect(curves, JsonKind.Array, "an array of curve identifiers (23, 24, 25)"))
        {
            return;
        }

        int errorsBefore = read.Diagnostics.ErrorCount;
        foreach (JsonNode item in curves.Value.Items!)
        {
            if (item.Kind != JsonKind.Number || !Keys.Contains(CurveIds, item.Text!))
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, "each entry of \"curve_preferences\" must be a curve's identifier: 23 (P-256), 24 (P-384), 25 (P-521) or 29 (X25519)", item);
            }
        }

        if (read.Diagnostics.ErrorCount == errorsBefore)
        {
            read.Diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"curve_preferences\" has no effect: .NET lets the system's TLS library choose the key exchange among X25519, P-256, P-384 and P-521, and has no setting to restrict or order them", curves);
        }
    }

    private static string? Version(JsonNode node, string key, ConfigReader read)
    {
        if (node.Find(key) is not { } property || !read.Expect(property, JsonKind.String, "a TLS version such as \"TLS12\""))
        {
            return null;
        }

        if (!Keys.Contains(TlsVersions, property.Value.Text!))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{key}\" \"{property.Value.Text}\" is not a TLS version; use TLS12 or TLS13", property.Value);
            return null;
        }

        if (property.Value.Text is "SSL3.0" or "TLS10" or "TLS11")
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{key}\" \"{property.Value.Text}\" is a broken protocol version the gateway does not offer; use TLS12 or TLS13", property.Value);
            return null;
        }

        return property.Value.Text;
    }

    private static string? Path(JsonNode node, string key, ConfigReader read) =>
        node.Find(key) is { } property && read.Expect(property, JsonKind.String, "a file path") && property.Value.Text!.Length > 0 ? property.Value.Text : null;

    private static long? Duration(JsonNode root, string key, ConfigReader read)
    {
        if (root.Find(key) is not { } property)
        {
            return null;
        }

        if (property.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(property.Value.Text!, out long milliseconds))
        {
            return milliseconds;
        }

        read.Diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"{key}\" must be a positive duration such as \"10s\", not {(property.Value.Kind == JsonKind.String ? $"\"{property.Value.Text}\"" : JsonNode.Describe(property.Value.Kind))}", property.Value);
        return null;
    }
}

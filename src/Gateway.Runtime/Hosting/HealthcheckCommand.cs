using System.Net;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// <c>gateway healthcheck [--url URL] [--timeout DURATION]</c>: GETs the gateway's <c>/__health</c> and exits 0 on a
/// 200, 1 otherwise. It exists for container images built <c>FROM scratch</c>, which have no curl for a
/// <c>HEALTHCHECK</c>. Without <c>--url</c> it asks the gateway of this container where the serving process listens:
/// the port and address from the same variables (<c>GATEWAY_PORT</c>, <c>KRAKEND_PORT</c>,
/// <c>GATEWAY_LISTEN_IP</c>) and the configuration, over loopback when it listens on every address, at the configuration's
/// health path (<c>router.health_path</c>; <c>/__ready</c> with <c>router.disable_health</c>), over HTTPS when the
/// configuration has <c>tls</c>.
/// </summary>
public static class HealthcheckCommand
{
    public const int ExitHealthy = 0;
    public const int ExitUnhealthy = 1;

    private const string Usage =
        "usage: gateway healthcheck [--url URL] [--timeout DURATION]\n" +
        "  GETs the gateway's /__health: exit 0 on 200, 1 otherwise, 2 on usage errors\n" +
        "  --url URL            what to GET (default http://127.0.0.1:PORT/__health, PORT as the gateway resolves it,\n" +
        "                       the configuration's health path, https with its tls)\n" +
        "  --timeout DURATION   give up after this long (default 3s)";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, GatewayDefinition definition, Func<string, string?> variable, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(variable);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? url = null;
        TimeSpan timeout = TimeSpan.FromSeconds(3);
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return ExitHealthy;
            }

            if (args[i] is "--url" or "--timeout" && i + 1 < args.Count)
            {
                string value = args[++i];
                if (args[i - 1] == "--timeout")
                {
                    if (ServeSettings.ParseDuration(value, allowZero: false) is not { } parsed)
                    {
                        return UsageError(error, $"--timeout: '{value}' is not a duration (e.g. 3s, 500ms)");
                    }

                    timeout = parsed;
                }
                else if (!Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    return UsageError(error, $"--url: '{value}' is not an http(s) URL");
                }
                else
                {
                    url = value;
                }

                continue;
            }

            return UsageError(error, args[i] is "--url" or "--timeout" ? $"{args[i]} needs a value" : $"unexpected argument '{args[i]}'");
        }

        string[]? servedCertificates = null;
        if (url is null)
        {
            GatewayOptions options = GatewayOptions.For(definition);
            if (GatewayProgram.ReadEnvironment(options, variable) is { } environmentError)
            {
                return UsageError(error, environmentError);
            }

            url = DefaultUrl(options, definition);
            servedCertificates = options.Tls is { } tls ? ServedCertificates(tls) : null;
        }

        return await CheckAsync(url, timeout, servedCertificates, output, error).ConfigureAwait(false);
    }

    /// <summary>Where the serving gateway answers <c>/__health</c>, seen from inside its own container or host.</summary>
    internal static string DefaultUrl(GatewayOptions options, GatewayDefinition definition)
    {
        IPAddress address = options.ListenAddress;
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            address = IPAddress.Loopback;
        }

        string host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        string scheme = options.Tls is null ? "http" : "https";
        return $"{scheme}://{host}:{options.Port ?? definition.Port}{options.Router.HealthPath ?? GatewayDispatcher.ReadyPath}";
    }

    /// <summary>
    /// The SHA-256 hashes of the certificates the configuration's <c>tls</c> serves: over loopback the gateway's
    /// certificate names the service, not 127.0.0.1, so the check trusts exactly those (files it cannot read: none).
    /// </summary>
    private static string[] ServedCertificates(Components.Server.TlsSettings tls)
    {
        var hashes = new List<string>();
        foreach ((string publicKey, string _) in tls.Keys)
        {
            try
            {
                using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(publicKey);
                hashes.Add(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                // The serving gateway could not load it either; the ordinary validation then decides.
            }
        }

        return [.. hashes];
    }

    /// <param name="servedCertificates">Certificate hashes trusted besides the ordinary validation (the own gateway's); null for none.</param>
    private static async Task<int> CheckAsync(string url, TimeSpan timeout, string[]? servedCertificates, TextWriter output, TextWriter error)
    {
        using var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = timeout };
        if (servedCertificates is { Length: > 0 })
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == System.Net.Security.SslPolicyErrors.None
                || (certificate is not null && Array.IndexOf(servedCertificates, certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)) >= 0);
        }

        using var client = new HttpClient(handler) { Timeout = timeout };
        try
        {
            using HttpResponseMessage response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                output.WriteLine($"{url}: 200");
                return ExitHealthy;
            }

            error.WriteLine($"gateway healthcheck: {url} answered {(int)response.StatusCode}");
            return ExitUnhealthy;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            string reason = e is TaskCanceledException ? $"no answer within {timeout.TotalSeconds} s" : e.Message;
            error.WriteLine($"gateway healthcheck: {url}: {reason}");
            return ExitUnhealthy;
        }
    }

    private static int UsageError(TextWriter error, string message)
    {
        error.WriteLine($"gateway healthcheck: {message}\n{Usage}");
        return GatewayProgram.ExitUsage;
    }
}

using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gateway.Runtime.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gateway.Components.Server;

/// <summary>
/// The configuration root's server keys (docs/configuration.md, server settings), applied as the defaults of the
/// run-time settings before the command line and the environment are read, so an operator's argument or variable
/// still wins.
/// </summary>
public sealed class ServerSettings : IGatewayDefaults
{
    private readonly string? _listenIp;
    private readonly long? _readHeaderTimeoutMilliseconds;
    private readonly long? _idleTimeoutMilliseconds;
    private readonly int? _maxHeaderBytes;
    private readonly long? _dialerTimeoutMilliseconds;
    private readonly long? _idleConnectionTimeoutMilliseconds;
    private readonly TlsSettings? _tls;

    public ServerSettings(
        string? listenIp = null,
        long? readHeaderTimeoutMilliseconds = null,
        long? idleTimeoutMilliseconds = null,
        int? maxHeaderBytes = null,
        long? dialerTimeoutMilliseconds = null,
        long? idleConnectionTimeoutMilliseconds = null,
        TlsSettings? tls = null)
    {
        _listenIp = listenIp;
        _readHeaderTimeoutMilliseconds = readHeaderTimeoutMilliseconds;
        _idleTimeoutMilliseconds = idleTimeoutMilliseconds;
        _maxHeaderBytes = maxHeaderBytes;
        _dialerTimeoutMilliseconds = dialerTimeoutMilliseconds;
        _idleConnectionTimeoutMilliseconds = idleConnectionTimeoutMilliseconds;
        _tls = tls;
    }

    public void ApplyDefaults(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_listenIp is not null)
        {
            options.ListenAddress = IPAddress.Parse(_listenIp);
        }

        if (_readHeaderTimeoutMilliseconds is { } readHeader)
        {
            options.Limits.RequestHeadersTimeout = TimeSpan.FromMilliseconds(readHeader);
        }

        if (_idleTimeoutMilliseconds is { } idle)
        {
            options.Limits.KeepAliveTimeout = TimeSpan.FromMilliseconds(idle);
        }

        if (_maxHeaderBytes is { } bytes)
        {
            options.Limits.MaxRequestHeaderBytes = bytes;
        }

        if (_dialerTimeoutMilliseconds is { } dialer)
        {
            options.Backend.ConnectTimeout = TimeSpan.FromMilliseconds(dialer);
        }

        if (_idleConnectionTimeoutMilliseconds is { } idleConnection)
        {
            options.Backend.PooledConnectionIdleTimeout = TimeSpan.FromMilliseconds(idleConnection);
        }

        options.Tls ??= _tls;
    }

    public void ConfigureHost(GatewayHost host)
    {
    }
}

/// <summary>
/// The root's <c>tls</c>: the gateway serves HTTPS only, with the certificates and keys of PEM files read when it
/// starts (the first is the default; others are chosen by the name the client asks for), between the TLS versions
/// given (TLS 1.2 and 1.3 by default) and, on Linux, only with the listed cipher suites.
/// </summary>
public sealed class TlsSettings
{
    private readonly (string PublicKey, string PrivateKey)[] _keys;
    private readonly SslProtocols _protocols;
    private readonly TlsCipherSuite[] _cipherSuites;

    public TlsSettings((string PublicKey, string PrivateKey)[] keys, string? minVersion = null, string? maxVersion = null, int[]? cipherSuites = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _protocols = (minVersion, maxVersion) switch
        {
            ("TLS13", _) => SslProtocols.Tls13,
            (_, "TLS12") => SslProtocols.Tls12,
            _ => SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        _cipherSuites = (cipherSuites ?? []).Select(id => (TlsCipherSuite)id).ToArray();
    }

    /// <summary>The certificate files, for start-up messages.</summary>
    public IReadOnlyList<(string PublicKey, string PrivateKey)> Keys => _keys;

    /// <summary>
    /// Loads the certificates and builds Kestrel's HTTPS options. A file that is missing or not a PEM certificate with
    /// its key throws <see cref="InvalidOperationException"/> naming the file.
    /// </summary>
    public HttpsConnectionAdapterOptions CreateOptions()
    {
        var certificates = new List<X509Certificate2>();
        foreach ((string publicKey, string privateKey) in _keys)
        {
            try
            {
                certificates.Add(X509Certificate2.CreateFromPemFile(publicKey, privateKey));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                throw new InvalidOperationException($"tls: cannot load the certificate \"{publicKey}\" with the key \"{privateKey}\" ({(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : "not a PEM certificate and its key")})", e);
            }
        }

        var options = new HttpsConnectionAdapterOptions { SslProtocols = _protocols };
        if (certificates.Count == 1)
        {
            options.ServerCertificate = certificates[0];
        }
        else
        {
            options.ServerCertificateSelector = (_, name) => Select(certificates, name);
        }

        if (_cipherSuites.Length > 0 && OperatingSystem.IsLinux())
        {
            var policy = new CipherSuitesPolicy(_cipherSuites);
            options.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = policy;
        }

        return options;
    }

    private static X509Certificate2 Select(List<X509Certificate2> certificates, string? name)
    {
        if (!string.IsNullOrEmpty(name))
        {
            foreach (X509Certificate2 certificate in certificates)
            {
                if (certificate.MatchesHostname(name))
                {
                    return certificate;
                }
            }
        }

        return certificates[0];
    }
}

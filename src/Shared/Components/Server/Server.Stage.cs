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
/// given (TLS 1.2 and 1.3 by default) and, on Linux, only with the listed cipher suites. With <c>enable_mtls</c>, every
/// client must present a certificate that chains to a trusted authority (the system's and <c>ca_certs</c>, or only
/// <c>ca_certs</c> with <c>disable_system_ca_pool</c>) and may be used for client authentication; any other connection
/// ends in the handshake, before a request is read.
/// </summary>
public sealed class TlsSettings
{
    /// <summary>The extended key usage "TLS client authentication" (RFC 5280 §4.2.1.12).</summary>
    private static readonly System.Security.Cryptography.Oid s_clientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly (string PublicKey, string PrivateKey)[] _keys;
    private readonly SslProtocols _protocols;
    private readonly TlsCipherSuite[] _cipherSuites;
    private readonly bool _mutualTls;
    private readonly string[] _caCertificates;
    private readonly bool _systemCaPool;

    public TlsSettings(
        (string PublicKey, string PrivateKey)[] keys,
        string? minVersion = null,
        string? maxVersion = null,
        int[]? cipherSuites = null,
        bool mutualTls = false,
        string[]? caCertificates = null,
        bool systemCaPool = true)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _mutualTls = mutualTls;
        _caCertificates = caCertificates ?? [];
        _systemCaPool = systemCaPool;
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

    /// <summary><c>enable_mtls</c>: clients must present a trusted certificate.</summary>
    public bool MutualTls => _mutualTls;

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

        if (_mutualTls)
        {
            X509Certificate2Collection authorities = LoadAuthorities();
            options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            options.ClientCertificateValidation = (certificate, _, errors) => IsTrustedClient(certificate, errors, authorities);
        }

        return options;
    }

    /// <summary>The certificates of <c>ca_certs</c>, every certificate of each PEM file.</summary>
    private X509Certificate2Collection LoadAuthorities()
    {
        var authorities = new X509Certificate2Collection();
        foreach (string file in _caCertificates)
        {
            int before = authorities.Count;
            try
            {
                authorities.ImportFromPemFile(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new InvalidOperationException($"tls: cannot load the CA certificates \"{file}\" of ca_certs ({(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : "not PEM certificates")})", e);
            }

            if (authorities.Count == before)
            {
                throw new InvalidOperationException($"tls: the CA certificates file \"{file}\" of ca_certs holds no PEM certificate");
            }
        }

        return authorities;
    }

    /// <summary>
    /// Whether a client's certificate is trusted, as Go's server verifies it for KrakenD: a chain to the system's
    /// authorities (the framework's own validation, <paramref name="errors"/>) or to one of <c>ca_certs</c>, valid now,
    /// for client authentication. Revocation is not checked (KrakenD does not either).
    /// </summary>
    private bool IsTrustedClient(X509Certificate2 certificate, SslPolicyErrors errors, X509Certificate2Collection authorities)
    {
        if (_systemCaPool && errors == SslPolicyErrors.None && AllowsClientAuthentication(certificate, null))
        {
            return true;
        }

        return authorities.Count > 0 && AllowsClientAuthentication(certificate, authorities);
    }

    /// <summary>Builds the certificate's chain to the system's roots (null) or to <paramref name="roots"/> only.</summary>
    private static bool AllowsClientAuthentication(X509Certificate2 certificate, X509Certificate2Collection? roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(s_clientAuthentication);
        if (roots is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        }

        try
        {
            return chain.Build(certificate);
        }
        finally
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
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

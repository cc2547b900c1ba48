using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>tls.enable_mtls</c> (Configs/mtls.json): the gateway serves only clients whose certificate its <c>ca_certs</c>
/// authority issued (the system's authorities are off). Every certificate is made here: an authority, the gateway's
/// certificate, a client's, and a client's from another authority.
/// </summary>
public sealed class MutualTlsTests : IAsyncLifetime
{
    private static readonly string s_directory = Path.Combine(Environment.CurrentDirectory, "e2e-mtls");

    private readonly List<IDisposable> _owned = [];
    private X509Certificate2 _server = null!;
    private X509Certificate2 _client = null!;
    private X509Certificate2 _stranger = null!;
    private X509Certificate2 _serverOnly = null!;
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(s_directory);
        X509Certificate2 authority = Own(Authority("CN=gateway-test-ca"));
        X509Certificate2 otherAuthority = Own(Authority("CN=someone-else-ca"));
        using RSA serverKey = RSA.Create(2048);
        _server = Own(Issue(authority, "CN=gateway.test", serverKey, "1.3.6.1.5.5.7.3.1", dns: "gateway.test"));
        _client = Own(Issue(authority, "CN=partner-a", null, "1.3.6.1.5.5.7.3.2"));
        _stranger = Own(Issue(otherAuthority, "CN=partner-b", null, "1.3.6.1.5.5.7.3.2"));

        // A certificate of the right authority that may only authenticate servers: not a client certificate.
        _serverOnly = Own(Issue(authority, "CN=not-a-client", null, "1.3.6.1.5.5.7.3.1"));

        await File.WriteAllTextAsync(Path.Combine(s_directory, "ca.pem"), authority.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(s_directory, "server.pem"), _server.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(s_directory, "server-key.pem"), serverKey.ExportPkcs8PrivateKeyPem());

        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.MutualTls.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }

    [Fact]
    public async Task ClientCertificateFromTheConfiguredAuthority_Served()
    {
        using HttpClient client = Client(_client);

        using HttpResponseMessage response = await client.GetAsync("/items/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"id": 1}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoClientCertificate_RefusedInTheHandshake()
    {
        _backend.ClearReceived();
        using HttpClient client = Client(null);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/items/1"));
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task ClientCertificateFromAnotherAuthority_Refused()
    {
        _backend.ClearReceived();
        using HttpClient client = Client(_stranger);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/items/1"));
        Assert.Empty(_backend.Received);
    }

    [Fact]
    public async Task CertificateOfTheAuthorityNotMeantForClients_Refused()
    {
        using HttpClient client = Client(_serverOnly);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/items/1"));
    }

    /// <summary>A client that trusts exactly the gateway's certificate and presents <paramref name="certificate"/>.</summary>
    private HttpClient Client(X509Certificate2? certificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == _server.GetCertHashString();
        if (certificate is not null)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        return new HttpClient(handler) { BaseAddress = _gateway.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
    }

    private X509Certificate2 Own(X509Certificate2 certificate)
    {
        _owned.Add(certificate);
        return certificate;
    }

    private static X509Certificate2 Authority(string name)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
    }

    /// <summary>A certificate <paramref name="authority"/> issues for <paramref name="usage"/> (an extended key usage OID), with its private key.</summary>
    private static X509Certificate2 Issue(X509Certificate2 authority, string name, RSA? key, string usage, string? dns = null)
    {
        using RSA ownKey = RSA.Create(2048);
        RSA subjectKey = key ?? ownKey;
        var request = new CertificateRequest(name, subjectKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], critical: false));
        if (dns is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(dns);
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using X509Certificate2 issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return issued.CopyWithPrivateKey(subjectKey);
    }
}

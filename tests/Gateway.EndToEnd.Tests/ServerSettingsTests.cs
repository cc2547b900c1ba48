using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Runtime.Hosting;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The root's server keys (Configs/server.json): they become the defaults of the run-time settings, which the
/// environment still overrides, and <c>tls</c> serves HTTPS with the certificate files it names, TLS 1.2 and up.
/// </summary>
[Collection(nameof(ServerSettingsTests))]
public sealed class ServerSettingsTests : IAsyncLifetime
{
    private const string Directory = "/tmp/gateway-e2e-tls";

    private X509Certificate2 _certificate = null!;
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        // A certificate made here, written where the configuration says.
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=gateway.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("gateway.test");
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        System.IO.Directory.CreateDirectory(Directory);
        await File.WriteAllTextAsync(Path.Combine(Directory, "cert.pem"), _certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(Directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());

        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.Server.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public void ServerKeys_BecomeTheDefaultsOfTheRunTimeSettings()
    {
        GatewayOptions defaults = GatewayOptions.For(Gateway.EndToEnd.Server.CompiledGateway.Definition);

        Assert.Equal(TimeSpan.FromSeconds(7), defaults.Limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), defaults.Limits.KeepAliveTimeout);
        Assert.Equal(16384, defaults.Limits.MaxRequestHeaderBytes);
        Assert.Equal(TimeSpan.FromSeconds(2), defaults.Backend.ConnectTimeout);
        Assert.NotNull(defaults.Tls);
    }

    [Fact]
    public async Task Tls_TheGatewayServesHttpsWithTheConfiguredCertificate()
    {
        Uri address = _gateway.Client.BaseAddress!;
        Assert.Equal("https", address.Scheme);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == _certificate.Thumbprint };
        using var client = new HttpClient(handler) { BaseAddress = address };

        using HttpResponseMessage response = await client.GetAsync("/items/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"id\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, true)]
    [InlineData(SslProtocols.Tls13, true)]
#pragma warning disable SYSLIB0039, CA5397 // TLS 1.1 is offered on purpose: the gateway must refuse it.
    [InlineData(SslProtocols.Tls11, false)]
#pragma warning restore SYSLIB0039, CA5397
    public async Task Tls_OnlyTls12AndUpAreAccepted(SslProtocols protocol, bool accepted)
    {
        Uri address = _gateway.Client.BaseAddress!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, presented, _, _) => presented?.GetCertHashString() == _certificate.GetCertHashString());
        var options = new SslClientAuthenticationOptions { TargetHost = "gateway.test", EnabledSslProtocols = protocol };

        Exception? failure = await Record.ExceptionAsync(() => ssl.AuthenticateAsClientAsync(options));

        Assert.Equal(accepted, failure is null);
        if (accepted)
        {
            Assert.Equal(protocol, ssl.SslProtocol);
        }
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Runtime.Transport;

namespace Gateway.Runtime.Tests.Transport;

/// <summary>
/// .NET's HTTP client over <see cref="LoopStream"/> (its connect callback when the event loops serve the gateway):
/// HTTPS answers arrive whole through TLS on top of the loop's socket, a pooled connection is reused, and the caller
/// goes on on a loop thread, not on .NET's socket thread or the thread pool.
/// </summary>
public sealed class LoopStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task HttpsCalls_AnswersArriveWhole_OnePooledConnection_TheCallerGoesOnOnALoopThread()
    {
        using X509Certificate2 certificate = SelfSigned();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        byte[] body = RandomNumberGenerator.GetBytes(300_000);
        var connections = new List<Task>();
        Task accepting = AcceptAsync(listener, certificate, body, connections);

        using var handler = new SocketsHttpHandler { ConnectCallback = LoopStream.ConnectAsync };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var invoker = new HttpMessageInvoker(handler);
        var threads = new List<string?>();
        for (int i = 0; i < 4; i++)
        {
            (HttpStatusCode status, byte[] received, string? thread) = await CallAsync(invoker, $"https://127.0.0.1:{port}/{i}").WaitAsync(Patience);
            threads.Add(thread);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(body, received);
        }

        // The answers' heads were read on a loop thread, and the caller went on there (a pooled connection: no hand-off).
        Assert.All(threads.Skip(1), name => Assert.StartsWith("gateway-loop-", name, StringComparison.Ordinal));
        listener.Stop();
        await accepting.WaitAsync(Patience);
        int opened = connections.Count;
        Assert.Equal(1, opened);
    }

    /// <summary>One call; the thread the caller went on on once the answer's head was read (no hop back to the test's).</summary>
    private static async Task<(HttpStatusCode Status, byte[] Body, string? Thread)> CallAsync(HttpMessageInvoker invoker, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using HttpResponseMessage response = await invoker.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
        string? thread = Thread.CurrentThread.Name;
        byte[] body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        return (response.StatusCode, body, thread);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BackendHostGroup_DotnetClientsCalls_GoOnOnALoopThreadOnlyWhenTheLoopsServe(bool eventLoops)
    {
        // .NET's client for every call (--backend-http sockets); the loops' connect callback only when they serve.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        string origin = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var connections = new List<Task>();
        Task accepting = AcceptPlainAsync(listener, connections);
        var options = new Gateway.Runtime.Forwarding.BackendClientOptions { HttpClient = Gateway.Runtime.Forwarding.BackendHttpClient.Sockets, EventLoops = eventLoops };
        using (var hosts = new Gateway.Runtime.Forwarding.BackendHostGroup([origin], options, new Gateway.Runtime.Http.BufferBudget(1 << 20)))
        {
            Assert.Null(hosts.Http1);
            var threads = new List<string?>();
            for (int i = 0; i < 3; i++)
            {
                (HttpStatusCode status, byte[] received, string? thread) = await CallAsync(hosts.Invoker, $"{origin}/{i}").WaitAsync(Patience);
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("{}", Encoding.ASCII.GetString(received));
                threads.Add(thread);
            }

            Assert.All(threads.Skip(1), name => Assert.Equal(eventLoops, name?.StartsWith("gateway-loop-", StringComparison.Ordinal) == true));
        }

        listener.Stop();
        await accepting.WaitAsync(Patience);
    }

    [Fact]
    public async Task ZeroByteRead_WaitsForBytes_WithoutTakingThem()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ValueTask<Stream> connecting = LoopStream.ConnectAsync(listener.LocalEndpoint, CancellationToken.None);
        using Socket peer = await listener.AcceptSocketAsync().WaitAsync(Patience);
        await using Stream stream = await connecting;

        byte[] buffer = new byte[8];
        peer.Send("abc"u8);
        Assert.Equal(3, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));

        // Drained (a short read): the zero-byte read waits for the next bytes, and leaves them to the next read.
        ValueTask<int> waiting = stream.ReadAsync(Memory<byte>.Empty);
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        peer.Send("de"u8);
        Assert.Equal(0, await waiting.AsTask().WaitAsync(Patience));
        Assert.Equal(2, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        Assert.Equal("de", Encoding.ASCII.GetString(buffer, 0, 2));

        peer.Shutdown(SocketShutdown.Both);
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task Write_ToAResetConnection_IsAnIOException()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ValueTask<Stream> connecting = LoopStream.ConnectAsync(listener.LocalEndpoint, CancellationToken.None);
        Socket peer = await listener.AcceptSocketAsync().WaitAsync(Patience);
        await using Stream stream = await connecting;
        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose(); // RST

        byte[] chunk = new byte[64 * 1024];
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await stream.WriteAsync(chunk).AsTask().WaitAsync(Patience);
            }
        });
    }

    /// <summary>Answers every request on every connection with <paramref name="body"/>, over TLS, until the listener stops.</summary>
    private static async Task AcceptAsync(TcpListener listener, X509Certificate2 certificate, byte[] body, List<Task> connections)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            connections.Add(ServeAsync(client, certificate, body));
        }
    }

    /// <summary>Answers every request with <c>{}</c>, in plain HTTP, until the listener stops.</summary>
    private static async Task AcceptPlainAsync(TcpListener listener, List<Task> connections)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            connections.Add(ServePlainAsync(client));
        }
    }

    private static async Task ServePlainAsync(TcpClient client)
    {
        using (client)
        {
            NetworkStream stream = client.GetStream();
            byte[] buffer = new byte[4096];
            var head = new StringBuilder();
            while (true)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer);
                }
                catch (IOException)
                {
                    return;
                }

                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    head.Clear();
                    await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"u8.ToArray());
                }
            }
        }
    }

    private static async Task ServeAsync(TcpClient client, X509Certificate2 certificate, byte[] body)
    {
        using (client)
        await using (var tls = new SslStream(client.GetStream()))
        {
            await tls.AuthenticateAsServerAsync(certificate);
            byte[] buffer = new byte[4096];
            var head = new StringBuilder();
            while (true)
            {
                int read = await tls.ReadAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    head.Clear();
                    await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nContent-Type: application/octet-stream\r\n\r\n"));
                    await tls.WriteAsync(body);
                }
            }
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}

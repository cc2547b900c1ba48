using System.Net;
using System.Net.Sockets;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// A compiled gateway served by Kestrel on 127.0.0.1 with a random port. The configuration's logical hosts are
/// pointed at loopback test backends through <see cref="GatewayOptions.HostOverrides"/>; the JSON is never edited.
/// </summary>
public sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayUnderTest(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    /// <summary>
    /// The backend HTTP client every gateway of this run uses unless a test chooses one: <c>GATEWAY_TEST_BACKEND_HTTP</c>
    /// (<c>gateway</c> or <c>sockets</c>), else the product's default.
    /// </summary>
    public static BackendHttpClient DefaultBackendHttpClient { get; } =
        Environment.GetEnvironmentVariable("GATEWAY_TEST_BACKEND_HTTP") is "sockets" ? BackendHttpClient.Sockets : BackendHttpClient.Gateway;

    /// <summary>
    /// The transport every gateway of this run uses unless a test chooses one: <c>GATEWAY_TEST_TRANSPORT</c> (<c>loop</c> or
    /// <c>sockets</c>), else the product's default.
    /// </summary>
    public static ServerTransport DefaultTransport { get; } =
        Environment.GetEnvironmentVariable("GATEWAY_TEST_TRANSPORT") is "sockets" ? ServerTransport.Sockets : ServerTransport.EventLoop;

    /// <summary>The gateway's services (its <c>BackendRegistry</c>, say).</summary>
    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayUnderTest> StartAsync(GatewayDefinition definition, IReadOnlyDictionary<string, string> hosts, Action<GatewayOptions>? configure = null)
    {
        GatewayOptions options = GatewayOptions.For(definition);
        options.Port = 0;
        options.ListenAddress = IPAddress.Loopback;
        foreach (KeyValuePair<string, string> host in hosts)
        {
            options.HostOverrides[host.Key] = host.Value;
        }

        // The gateway's own log output is not read by most tests (CapturingLoggerProvider is); telemetry tests set their own.
        options.Telemetry.LogStream = Stream.Null;
        // The differential run (scripts/test.sh) runs this whole suite once more over .NET's HTTP client.
        options.Backend.HttpClient = DefaultBackendHttpClient;
        options.Transport = DefaultTransport;
        configure?.Invoke(options);
        WebApplication app = GatewayServer.Build(definition, options);
        await app.StartAsync();
        // The gateway's own port is listened on first; a metrics port of its own may follow.
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(20) };
        return new GatewayUnderTest(app, client);
    }

    /// <summary>A loopback URL where nothing listens: a port that was bound and released.</summary>
    public static string ClosedPortUrl()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return $"http://127.0.0.1:{port}";
    }

    /// <summary>
    /// Sends a request line exactly as written (HttpClient would normalise the path), then <paramref name="headers"/>
    /// (CRLF-terminated lines) after Host and Connection: HttpClient cannot send a Content-Type without a Content-Length.
    /// </summary>
    public async Task<(int Status, string Head, string Body)> SendRawAsync(string method, string target, string headers = "")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Client.BaseAddress!.Host, Client.BaseAddress.Port);
        NetworkStream stream = tcp.GetStream();
        byte[] request = System.Text.Encoding.ASCII.GetBytes($"{method} {target} HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n{headers}\r\n");
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream);
        string response = await reader.ReadToEndAsync();
        int split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string head = response[..split];
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, head, response[(split + 4)..]);
    }

    /// <summary>Stops the server as the process would on SIGTERM: what telemetry still buffers is written and exported.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Hosting;

namespace Gateway.Runtime.Tests.Hosting;

/// <summary><c>gateway healthcheck</c> against real loopback listeners: 200 is healthy, anything else is not.</summary>
public class HealthcheckCommandTests
{
    private static readonly GatewayDefinition s_definition = new(8080, [], _ => []);

    [Theory]
    [InlineData(200, 0)]
    [InlineData(503, 1)]
    [InlineData(404, 1)]
    public async Task RunAsync_Status_HealthyOnlyOn200(int status, int expected)
    {
        using var server = new OneShotServer(status);
        var output = new StringWriter();
        var error = new StringWriter();

        int code = await HealthcheckCommand.RunAsync(["--url", server.Url], s_definition, NoVariables, output, error);

        Assert.Equal(expected, code);
        Assert.Equal("GET /__health HTTP/1.1", await server.RequestLine);
        Assert.Contains(status == 200 ? $"{server.Url}: 200" : $"answered {status}", status == 200 ? output.ToString() : error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NothingListening_Unhealthy()
    {
        int port = FreePort();
        var error = new StringWriter();

        int code = await HealthcheckCommand.RunAsync(["--url", $"http://127.0.0.1:{port}/__health"], s_definition, NoVariables, new StringWriter(), error);

        Assert.Equal(1, code);
        Assert.Contains("refused", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task RunAsync_ServerNeverAnswers_UnhealthyWithinTheTimeout()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(); // accepts connections (the backlog) but never answers
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var error = new StringWriter();
        long started = Environment.TickCount64;

        int code = await HealthcheckCommand.RunAsync(["--url", $"http://127.0.0.1:{port}/__health", "--timeout", "300ms"], s_definition, NoVariables, new StringWriter(), error);

        Assert.Equal(1, code);
        Assert.InRange(Environment.TickCount64 - started, 250, 5000);
        Assert.Contains("no answer within 0.3 s", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NoUrl_AsksThePortTheGatewayWouldListenOn()
    {
        using var server = new OneShotServer(200);

        int code = await HealthcheckCommand.RunAsync([], s_definition, name => name == "KRAKEND_PORT" ? server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) : null, new StringWriter(), new StringWriter());

        Assert.Equal(0, code);
        Assert.Equal("GET /__health HTTP/1.1", await server.RequestLine);
    }

    [Theory]
    [InlineData(null, null, "http://127.0.0.1:8080/__health")]
    [InlineData("9000", null, "http://127.0.0.1:9000/__health")]
    [InlineData("9000", "10.1.2.3", "http://10.1.2.3:9000/__health")]
    [InlineData(null, "::", "http://127.0.0.1:8080/__health")]
    [InlineData(null, "::1", "http://[::1]:8080/__health")]
    public void DefaultUrl_FollowsTheServingSettings(string? port, string? listenIp, string expected)
    {
        var options = new GatewayOptions();
        Assert.Null(GatewayProgram.ReadEnvironment(options, GatewayProgramPortTests.Environment(("GATEWAY_PORT", port), ("GATEWAY_LISTEN_IP", listenIp))));

        Assert.Equal(expected, HealthcheckCommand.DefaultUrl(options, s_definition));
    }

    [Theory]
    [InlineData("/status/live", "http://127.0.0.1:8080/status/live")]
    [InlineData(null, "http://127.0.0.1:8080/__ready")]
    public void DefaultUrl_FollowsTheConfiguredHealthPath(string? healthPath, string expected)
    {
        var definition = new GatewayDefinition(8080, [], _ => [], components: [new Gateway.Components.Router.RouterSettings(healthPath: healthPath)]);

        Assert.Equal(expected, HealthcheckCommand.DefaultUrl(GatewayOptions.For(definition), definition));
    }

    [Theory]
    [InlineData(new[] { "--url" }, "--url needs a value")]
    [InlineData(new[] { "--url", "ftp://x/__health" }, "is not an http(s) URL")]
    [InlineData(new[] { "--timeout", "3" }, "is not a duration")]
    [InlineData(new[] { "--verbose" }, "unexpected argument '--verbose'")]
    public async Task RunAsync_UsageError_Exit2(string[] args, string message)
    {
        var error = new StringWriter();

        Assert.Equal(2, await HealthcheckCommand.RunAsync(args, s_definition, NoVariables, new StringWriter(), error));
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BadPortVariable_Exit2()
    {
        var error = new StringWriter();

        Assert.Equal(2, await HealthcheckCommand.RunAsync([], s_definition, name => name == "GATEWAY_PORT" ? "x" : null, new StringWriter(), error));
        Assert.Contains("GATEWAY_PORT: 'x' is not a port number", error.ToString(), StringComparison.Ordinal);
    }

    private static string? NoVariables(string name) => null;

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A loopback HTTP/1.1 server that answers one request with a fixed status and records its request line.</summary>
    private sealed class OneShotServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public OneShotServer(int status)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            RequestLine = ServeAsync(status);
        }

        public int Port { get; }

        public string Url => $"http://127.0.0.1:{Port}/__health";

        public Task<string> RequestLine { get; }

        public void Dispose() => _listener.Dispose();

        private async Task<string> ServeAsync(int status)
        {
            using TcpClient client = await _listener.AcceptTcpClientAsync();
            NetworkStream stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
            string requestLine = await reader.ReadLineAsync() ?? string.Empty;
            while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
            {
            }

            byte[] answer = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(answer);
            return requestLine;
        }
    }
}

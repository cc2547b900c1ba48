using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Runtime.Hosting;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>telemetry/logging.syslog</c> (Configs/syslog.json, facility <c>local5</c>, <c>stdout</c> too): every entry is one
/// RFC 5424 datagram on the syslog socket, here a unix datagram socket the test listens on.
/// </summary>
public sealed partial class SyslogTests : IAsyncLifetime, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"gateway-syslog-{Guid.NewGuid():N}.sock");
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private TestBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _listener.Bind(new UnixDomainSocketEndPoint(_path));
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 1}""");
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
    }

    [Fact]
    public async Task Syslog_EachEntryIsAnRfc5424MessageWithTheFacilityAndTheLevel()
    {
        var stdout = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Telemetry.LogStream = stdout))
        {
            (await gateway.Client.GetAsync("/items/1")).Dispose();
            await gateway.StopAsync();
        }

        string[] messages = Received();
        // local5 is facility 21: informational (6) is priority 21 * 8 + 6 = 174.
        string access = Assert.Single(messages, m => m.Contains("\"event\":\"access\"", StringComparison.Ordinal));
        Match header = Rfc5424().Match(access);
        Assert.True(header.Success, access);
        Assert.Equal("174", header.Groups["priority"].Value);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), header.Groups["process"].Value);
        Assert.StartsWith("{", header.Groups["message"].Value, StringComparison.Ordinal);
        Assert.Contains("\"endpoint\":\"/items/{id}\"", access, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", access, StringComparison.Ordinal);

        // stdout: true keeps the standard output too.
        Assert.Contains(stdout.Lines(), l => l.Contains("\"event\":\"access\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Syslog_AWarningHasSeverity4()
    {
        await using (GatewayUnderTest gateway = await StartAsync(o => o.Backend.ConnectTimeout = TimeSpan.FromSeconds(2)))
        {
            await _backend.DisposeAsync();
            (await gateway.Client.GetAsync("/items/1")).Dispose(); // the backend is gone: a backend_failed warning
            await gateway.StopAsync();
        }

        string failed = Assert.Single(Received(), m => m.Contains("\"event\":\"backend_failed\"", StringComparison.Ordinal));
        Assert.StartsWith("<172>1 ", failed, StringComparison.Ordinal); // 21 * 8 + 4
        _backend = await TestBackend.StartAsync();
    }

    [Fact]
    public async Task SyslogWithoutStdout_TheStreamGetsNothing()
    {
        var stdout = new CapturedStream();
        await using (GatewayUnderTest gateway = await StartAsync(o =>
        {
            o.Telemetry.LogStream = stdout;
            o.Telemetry.LogToStandardOutput = false; // what "stdout": false says
        }))
        {
            (await gateway.Client.GetAsync("/items/1")).Dispose();
            await gateway.StopAsync();
        }

        Assert.Contains(Received(), m => m.Contains("\"event\":\"access\"", StringComparison.Ordinal));
        Assert.Empty(stdout.Lines());
    }

    [Fact]
    public async Task NoSyslogSocket_TheStartStopsWithASentence()
    {
        var failure = await Assert.ThrowsAsync<GatewayStartupException>(() => StartAsync(o => o.Telemetry.SyslogPath = _path + ".missing"));

        Assert.StartsWith("telemetry/logging: syslog: no syslog socket accepts messages", failure.Message, StringComparison.Ordinal);
        Assert.Contains(_path + ".missing", failure.Message, StringComparison.Ordinal);
    }

    private Task<GatewayUnderTest> StartAsync(Action<GatewayOptions> configure) =>
        GatewayUnderTest.StartAsync(Gateway.EndToEnd.Syslog.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl }, o =>
        {
            o.Telemetry.SyslogPath = _path;
            configure(o);
        });

    /// <summary>The datagrams received so far, each as text.</summary>
    private string[] Received()
    {
        var messages = new List<string>();
        var buffer = new byte[64 * 1024];
        while (_listener.Available > 0)
        {
            int length = _listener.Receive(buffer);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, length));
        }

        return [.. messages];
    }

    // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG (RFC 5424 §6).
    [GeneratedRegex(@"^<(?<priority>\d{1,3})>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \S+ gateway (?<process>\d+) - - (?<message>.*)$", RegexOptions.Singleline)]
    private static partial Regex Rfc5424();
}

using System.Net;
using Gateway.Runtime.Hosting;

namespace Gateway.Runtime.Tests.Hosting;

public class GatewayProgramTests
{
    [Theory]
    [InlineData("256MiB", 256L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("2048 KiB", 2L << 20)]
    [InlineData("1048576", 1L << 20)]
    [InlineData("4mib", 4L << 20)]
    public void ParseSize_Valid(string text, long bytes) => Assert.Equal(bytes, GatewayProgram.ParseSize(text));

    [Theory]
    [InlineData("")]
    [InlineData("MiB")]
    [InlineData("-5MiB")]
    [InlineData("1.5GiB")]
    [InlineData("512KiB")] // under 1 MiB: the gateway could not hold one ordinary body
    [InlineData("99999999999999GiB")]
    [InlineData("10MB")]
    public void ParseSize_Invalid(string text) => Assert.Null(GatewayProgram.ParseSize(text));

    [Theory]
    [InlineData("http://users:8080=http://127.0.0.1:9")]
    [InlineData("http://users:8080=http://127.0.0.1:65535/")]
    [InlineData("http://users:8080=https://users.internal")]
    public void AddHostOverride_BaseUrl_Accepted(string pair) => Assert.Null(GatewayProgram.AddHostOverride(new GatewayOptions(), pair));

    [Theory]
    [InlineData("http://users:8080=http://127.0.0.1:0")] // the same port rule as a configured host (GW1007)
    [InlineData("http://users:8080=http://127.0.0.1:65536")]
    [InlineData("http://users:8080=http://127.0.0.1:8080/api")]
    [InlineData("http://users:8080")]
    public void AddHostOverride_NotABaseUrl_Refused(string pair) => Assert.NotNull(GatewayProgram.AddHostOverride(new GatewayOptions(), pair));
}

/// <summary>The port's sources and their precedence: argument, GATEWAY_PORT, KRAKEND_PORT, then the configuration.</summary>
public class GatewayProgramPortTests
{
    [Theory]
    [InlineData(new[] { "--port", "7001" }, "7002", "7003", 7001)]
    [InlineData(new string[0], "7002", "7003", 7002)]
    [InlineData(new string[0], null, "7003", 7003)]
    [InlineData(new string[0], "", "7003", 7003)] // an empty variable counts as unset
    [InlineData(new[] { "--port", "7001" }, null, "7003", 7001)]
    public void ReadOptions_PortSources_ArgumentOverGatewayPortOverKrakendPort(string[] args, string? gatewayPort, string? krakendPort, int expected)
    {
        var options = new GatewayOptions();
        string? error = GatewayProgram.ReadOptions(args, Environment(("GATEWAY_PORT", gatewayPort), ("KRAKEND_PORT", krakendPort)), options, out bool help);

        Assert.Null(error);
        Assert.False(help);
        Assert.Equal(expected, options.Port);
    }

    [Fact]
    public void ReadOptions_NoPortAnywhere_LeavesTheConfigurationsPort() =>
        Assert.Null(Read([]).Port);

    [Theory]
    [InlineData("KRAKEND_PORT", "eighty")]
    [InlineData("GATEWAY_PORT", "65536")]
    [InlineData("GATEWAY_PORT", "-1")]
    public void ReadOptions_BadPortVariable_ErrorNamesTheVariable(string variable, string value)
    {
        string? error = GatewayProgram.ReadOptions([], Environment((variable, value)), new GatewayOptions(), out _);

        Assert.StartsWith($"{variable}: '{value}' is not a port number", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOptions_Help_Recognised() =>
        Assert.True(GatewayProgram.ReadOptions(["--help"], Environment(), new GatewayOptions(), out bool help) is null && help);

    internal static GatewayOptions Read(string[] args, params (string Name, string? Value)[] variables)
    {
        var options = new GatewayOptions();
        string? error = GatewayProgram.ReadOptions(args, Environment(variables), options, out _);
        Assert.Null(error);
        return options;
    }

    internal static Func<string, string?> Environment(params (string Name, string? Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}

/// <summary>The configuration's server keys are defaults; the environment and the command line still win.</summary>
public class GatewayProgramDefaultsTests
{
    private static readonly GatewayDefinition s_definition = new(
        8080,
        [],
        _ => [],
        components: [new Gateway.Components.Server.ServerSettings(listenIp: "127.0.0.1", readHeaderTimeoutMilliseconds: 7000, idleTimeoutMilliseconds: 45000)]);

    [Fact]
    public void ReadOptions_ConfigurationDefaults_EnvironmentAndArgumentsOverrideThem()
    {
        GatewayOptions options = GatewayOptions.For(s_definition);

        string? error = GatewayProgram.ReadOptions(["--request-headers-timeout", "3s"], name => name == "GATEWAY_KEEP_ALIVE_TIMEOUT" ? "10s" : null, options, out _);

        Assert.Null(error);
        Assert.Equal(IPAddress.Loopback, options.ListenAddress);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.Limits.RequestHeadersTimeout);
    }

    [Fact]
    public async Task RunAsync_PortInUse_OneLineThatNamesThePortAndExit3()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var error = new StringWriter();
        TextWriter original = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            exit = await GatewayProgram.RunAsync(["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--listen-ip", "127.0.0.1"], s_definition);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Equal(GatewayProgram.ExitStartup, exit);
        string[] lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"gateway: cannot listen on 127.0.0.1:{port}: the port is already in use; stop what uses it, or choose another port with --port N (or GATEWAY_PORT)", Assert.Single(lines));
    }
}

/// <summary>A host override names a configured host as written or normalised, and one that matches none is refused.</summary>
public class GatewayProgramOverrideTests
{
    private static readonly GatewayDefinition s_definition = new(8080, [["http://localhost:9501"], ["https://users.internal"]], _ => []);

    [Theory]
    [InlineData("localhost:9501=http://127.0.0.1:5000")]
    [InlineData("http://localhost:9501=http://127.0.0.1:5000")]
    [InlineData("http://localhost:9501/=http://127.0.0.1:5000")]
    public void AddHostOverride_ConfiguredHostAsWrittenOrNormalised_AppliesToIt(string pair)
    {
        var options = new GatewayOptions();

        Assert.Null(GatewayProgram.AddHostOverride(options, pair));

        Assert.Equal("http://127.0.0.1:5000", options.HostOverrides["http://localhost:9501"]);
        Assert.Null(GatewayProgram.UnmatchedOverride(options, s_definition));
    }

    [Fact]
    public void UnmatchedOverride_AHostNoBackendUses_NamesTheConfiguredHosts()
    {
        var options = new GatewayOptions();
        Assert.Null(GatewayProgram.AddHostOverride(options, "http://orders.internal=http://127.0.0.1:5000"));

        Assert.Equal(
            "--backend-host: no backend uses the host 'http://orders.internal'; the configured hosts are http://localhost:9501, https://users.internal",
            GatewayProgram.UnmatchedOverride(options, s_definition));
    }
}

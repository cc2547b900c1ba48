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

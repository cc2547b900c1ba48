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

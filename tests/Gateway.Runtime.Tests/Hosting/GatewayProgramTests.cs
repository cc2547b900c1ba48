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
}

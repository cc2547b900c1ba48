using Gateway.Runtime.Hosting;

namespace Gateway.Runtime.Tests.Hosting;

public class VersionCommandTests
{
    private static readonly GatewayDefinition s_definition = new(8080, [], _ => [], endpointCount: 3, configurationHash: "sha256:" + new string('a', 64));

    [Fact]
    public void Run_NoArguments_PrintsVersionCommitHashAndEndpointCount()
    {
        var output = new StringWriter();

        int code = VersionCommand.Run([], s_definition, output, new StringWriter());

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(0, code);
        Assert.Matches(@"^gateway \d+\.\d+\.\d+", lines[0]);
        // The SDK stamps the git commit of this checkout into the informational version.
        Assert.Matches("^commit: ([0-9a-f]{40}|unknown)$", lines[1]);
        Assert.Equal("configuration: sha256:" + new string('a', 64), lines[2]);
        Assert.Equal("endpoints: 3", lines[3]);
        Assert.StartsWith("runtime: .NET ", lines[4], StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InformationalVersion_SplitsVersionAndCommit()
    {
        (string version, string commit) = VersionCommand.Build();

        Assert.DoesNotContain('+', version);
        Assert.DoesNotContain('+', commit);
        Assert.NotEmpty(version);
    }

    [Fact]
    public void Run_Help_PrintsUsageExit0()
    {
        var output = new StringWriter();

        Assert.Equal(0, VersionCommand.Run(["--help"], s_definition, output, new StringWriter()));
        Assert.StartsWith("usage: gateway version", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_UnexpectedArgument_UsageErrorExit2()
    {
        var error = new StringWriter();

        Assert.Equal(2, VersionCommand.Run(["--json"], s_definition, new StringWriter(), error));
        Assert.Contains("unexpected argument '--json'", error.ToString(), StringComparison.Ordinal);
    }
}

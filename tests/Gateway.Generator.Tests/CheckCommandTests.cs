using Gateway.Runtime.Hosting;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary><c>gateway check</c> reports exactly what the build reports, from the same parser.</summary>
public class CheckCommandTests
{
    public static TheoryData<string> Configs()
    {
        var data = new TheoryData<string>();
        foreach (object[] row in DiagnosticTests.Mistakes)
        {
            data.Add((string)row[0]);
        }

        foreach (string config in DiagnosticTests.CloseButValid)
        {
            data.Add(config);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Check_SameConfig_PrintsTheGeneratorsFindings(string config)
    {
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config);
        try
        {
            var (_, _, generatorDiagnostics) = GeneratorHarness.Run(config, path: path);
            string[] expected = generatorDiagnostics.Select(d => d.ToString().Replace($" ({d.Descriptor.HelpLinkUri})", string.Empty, StringComparison.Ordinal)).ToArray();

            using var output = new StringWriter();
            using var error = new StringWriter();
            int exit = CheckCommand.Run([path], output, error);

            string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected, lines[..^1]);
            Assert.Equal(generatorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) ? CheckCommand.ExitInvalid : CheckCommand.ExitValid, exit);
            Assert.Empty(error.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Check_FormatJson_ListsFindingsWithPositions()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"version\": 2}");
        try
        {
            using var output = new StringWriter();
            int exit = CheckCommand.Run([path, "--format", "json"], output, TextWriter.Null);

            Assert.Equal(CheckCommand.ExitInvalid, exit);
            using var report = System.Text.Json.JsonDocument.Parse(output.ToString());
            Assert.False(report.RootElement.GetProperty("valid").GetBoolean());
            var finding = report.RootElement.GetProperty("diagnostics")[0];
            Assert.Equal("GW0003", finding.GetProperty("id").GetString());
            Assert.Equal("error", finding.GetProperty("severity").GetString());
            Assert.Equal(1, finding.GetProperty("line").GetInt32());
            Assert.Equal(13, finding.GetProperty("column").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("/no/such/file.json")]
    [InlineData("a.json b.json")]
    [InlineData("a.json --format xml")]
    public void Check_UsageErrors_Exit2(string commandLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        using var error = new StringWriter();
        Assert.Equal(CheckCommand.ExitUsage, CheckCommand.Run(args, TextWriter.Null, error));
        Assert.NotEmpty(error.ToString());
    }
}

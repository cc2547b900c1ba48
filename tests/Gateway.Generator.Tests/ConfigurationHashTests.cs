using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>
/// The configuration hash and endpoint count that <c>gateway version</c> prints: emitted into <c>CompiledGateway</c>,
/// equal for configurations of the same meaning, different as soon as behaviour differs.
/// </summary>
public class ConfigurationHashTests
{
    private const string Original = """
        {
          "version": 3,
          "host": ["http://127.0.0.1:9000"],
          "endpoints": [
            {"endpoint": "/a/{id}", "backend": [{"url_pattern": "/x/{id}"}]},
            {"endpoint": "/b", "backend": [{"url_pattern": "/y"}]}
          ]
        }
        """;

    private const string Reformatted = """
        {"version": 3, "@comment": "formatting only",
         "host": ["http://127.0.0.1:9000"],
         "endpoints": [
           {"endpoint": "/a/{id}",
            "backend": [{"url_pattern": "/x/{id}", "@comment": "the same backend"}]},
           {"endpoint": "/b", "backend": [{"url_pattern": "/y"}]}]}
        """;

    [Fact]
    public void Emit_SameMeaningDifferentText_SameHash() =>
        Assert.Equal(Hash(Original), Hash(Reformatted));

    [Theory]
    [InlineData("/x/{id}", "/x2/{id}")] // a backend path
    [InlineData("http://127.0.0.1:9000", "http://127.0.0.1:9001")] // a host
    [InlineData("\"version\": 3,", "\"version\": 3, \"port\": 9090,")] // the default port
    public void Emit_MeaningfulEdit_DifferentHash(string before, string after) =>
        Assert.NotEqual(Hash(Original), Hash(Original.Replace(before, after, StringComparison.Ordinal)));

    [Fact]
    public void Emit_Hash_IsSha256Hex() =>
        Assert.Matches("^sha256:[0-9a-f]{64}$", Hash(Original));

    [Fact]
    public void Emit_EndpointCount_CountsTheConfigurationsEndpoints()
    {
        Assert.Equal("2", Argument(Original, "endpointCount"));
        Assert.Equal("1", Argument(Original.Replace("""{"endpoint": "/b", "backend": [{"url_pattern": "/y"}]}""", string.Empty, StringComparison.Ordinal).Replace("]},\n", "]}\n", StringComparison.Ordinal), "endpointCount"));
    }

    private static string Hash(string config) => Argument(config, "configurationHash").Trim('"');

    private static string Argument(string config, string name)
    {
        (_, Compilation output, _) = GeneratorHarness.Run(config);
        string entryPoint = output.SyntaxTrees.Single(t => t.FilePath.EndsWith("CompiledGateway.g.cs", StringComparison.Ordinal)).ToString();
        Match match = Regex.Match(entryPoint, $@"\b{name}: ([^,)\n]+)");
        Assert.True(match.Success, $"no {name} argument in\n{entryPoint}");
        return match.Groups[1].Value;
    }
}

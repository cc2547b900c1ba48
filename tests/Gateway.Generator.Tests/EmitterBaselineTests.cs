using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Routing;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>
/// The emitted code for the bundled example, compared with reviewed baselines. To accept a deliberate change:
/// <c>GATEWAY_UPDATE_BASELINES=1 dotnet test tests/Gateway.Generator.Tests</c>, then review the diff.
/// </summary>
public class EmitterBaselineTests
{
    private static string ExampleConfig => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", "example.krakend.json"));

    [Theory]
    [InlineData("example.krakend.json", "Example", 4)]
    [InlineData("contract.krakend.json", "Contract", 32)]
    [InlineData("chaining.krakend.json", "Chaining", 10)]
    public void Emit_Config_MatchesBaselines(string configFile, string baseline, int files)
    {
        string config = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", configFile));
        var (driver, output, diagnostics) = GeneratorHarness.Run(config);
        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        GeneratedSourceResult[] sources = driver.GetRunResult().Results[0].GeneratedSources.ToArray();
        Assert.Equal(files, sources.Length);
        string baselineDirectory = Path.Combine(SourceDirectory(), "Baselines", baseline);
        bool update = Environment.GetEnvironmentVariable("GATEWAY_UPDATE_BASELINES") == "1";
        foreach (GeneratedSourceResult source in sources)
        {
            string path = Path.Combine(baselineDirectory, source.HintName);
            string actual = source.SourceText.ToString();
            if (update)
            {
                Directory.CreateDirectory(baselineDirectory);
                File.WriteAllText(path, actual);
                continue;
            }

            Assert.True(File.Exists(path), $"no baseline {path}; run with GATEWAY_UPDATE_BASELINES=1");
            Assert.Equal(File.ReadAllText(path), actual);
        }
    }

    [Fact]
    public void Emit_ExampleConfig_CompilesWithWarningsAsErrorsAndBuildsTheRouteTable()
    {
        var (_, output, generatorDiagnostics) = GeneratorHarness.Run(ExampleConfig, "Gateway.Compiled.Example");
        Assert.Empty(generatorDiagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));

        var context = new AssemblyLoadContext("generated", isCollectible: true);
        try
        {
            image.Position = 0;
            var assembly = context.LoadFromStream(image);
            var entryPoint = assembly.GetType("Gateway.Compiled.Example.CompiledGateway", throwOnError: true)!;
            var definition = (GatewayDefinition)entryPoint.GetProperty("Definition")!.GetValue(null)!;

            Assert.Equal(8080, definition.Port);
            Assert.Equal(new[] { "http://127.0.0.1:8000" }, Assert.Single(definition.HostGroups));

            using var registry = new BackendRegistry(definition.HostGroups, new Dictionary<string, string>(), new BackendClientOptions());
            RouteEntry[] routes = definition.CreateRoutes(registry);
            Assert.Equal(
                new[] { "GET /hotel-destinations/{id} GetHotelDestinationsIdHandler", "GET /hotels/{id}/overview GetHotelsIdOverviewHandler", "POST /hotels/{id}/book PostHotelsIdBookHandler" },
                routes.Select(r => $"{r.Method} {r.Template} {r.Handler.GetType().Name}"));
            Assert.Equal(new[] { false, true }, routes[0].Segments.Select(s => s.IsParameter));
        }
        finally
        {
            context.Unload();
        }
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

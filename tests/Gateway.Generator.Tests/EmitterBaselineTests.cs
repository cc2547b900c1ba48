using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Routing;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>
/// The emitted code for the bundled example, compared with reviewed baselines. To accept a deliberate change:
/// <c>GATEWAY_UPDATE_BASELINES=1 dotnet test tests/Gateway.Generator.Tests</c>, then review the diff. A baseline
/// directory must hold exactly the files the generator produces: a snapshot it no longer produces fails the test, and
/// the update mode deletes it.
/// </summary>
public class EmitterBaselineTests
{
    private static string ExampleConfig => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", "example.krakend.json"));

    [Theory]
    [InlineData("example.krakend.json", "Example", 4)]
    [InlineData("contract.krakend.json", "Contract", 32)]
    [InlineData("chaining.krakend.json", "Chaining", 14)]
    [InlineData("cors.krakend.json", "Cors", 6)]
    [InlineData("martian.krakend.json", "Martian", 4)]
    [InlineData("credentials.krakend.json", "Credentials", 4)]
    [InlineData("server.krakend.json", "Server", 2)]
    [InlineData("bff.krakend.json", "Bff", 12)]
    [InlineData("jwt.krakend.json", "Jwt", 17)]
    [InlineData("ratelimit.krakend.json", "RateLimit", 10)]
    [InlineData("ratelimit-shared.krakend.json", "SharedRateLimit", 4)]
    [InlineData("telemetry-root.krakend.json", "TelemetryRoot", 2)]
    [InlineData("router.krakend.json", "Router", 6)]
    [InlineData("mtls.krakend.json", "MutualTls", 2)]
    [InlineData("sd.krakend.json", "ServiceDiscovery", 5)]
    [InlineData("lua.krakend.json", "Lua", 18)]
    [InlineData("limits.krakend.json", "Limits", 10)]
    [InlineData("flow.krakend.json", "Flow", 15)]
    public void Emit_Config_MatchesBaselines(string configFile, string baseline, int files)
    {
        GeneratedFile[] produced = Generate(configFile);
        Assert.Equal(files, produced.Length);
        string baselineDirectory = Path.Combine(SourceDirectory(), "Baselines", baseline);
        if (BaselineDirectory.UpdateRequested)
        {
            BaselineDirectory.Update(baselineDirectory, produced);
            return;
        }

        BaselineDirectory.Verify(baselineDirectory, produced);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Emit_GatewayOpenTelemetryProperty_CompiledGatewayCarriesTheSdkOnlyWhenAsked(bool property)
    {
        (_, Compilation output, _) = GeneratorHarness.Run(ExampleConfig, openTelemetry: property);
        string compiled = output.SyntaxTrees.Single(t => t.FilePath.EndsWith("CompiledGateway.g.cs", StringComparison.Ordinal)).ToString();

        // The example has no telemetry/opentelemetry: only the build property brings the SDK's component in, exporting
        // nothing until an operator asks.
        Assert.Equal(property, compiled.Contains("new global::Gateway.Components.OpenTelemetry.OpenTelemetrySettings(", StringComparison.Ordinal));
        if (property)
        {
            Assert.Contains("prometheus: new global::Gateway.Runtime.Telemetry.PrometheusExport[] {  }", compiled, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Emit_BaselineDirectoryHoldsAFileTheGeneratorDidNotProduce_FailsNamingIt()
    {
        // A copy of the reviewed Example baselines plus the snapshot of an endpoint that no longer exists.
        GeneratedFile[] produced = Generate("example.krakend.json");
        string directory = CopyOfBaselines("Example");
        try
        {
            File.WriteAllText(Path.Combine(directory, "Gateway.Generated.GetRemovedHandler.g.cs"), "// an endpoint that was removed");

            var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => BaselineDirectory.Verify(directory, produced));
            Assert.Contains("Gateway.Generated.GetRemovedHandler.g.cs", failure.Message, StringComparison.Ordinal);
            Assert.Contains(BaselineDirectory.UpdateVariable, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Emit_UpdateModeWithAnOrphanedBaseline_DeletesItAndKeepsTheProducedFiles()
    {
        GeneratedFile[] produced = Generate("example.krakend.json");
        string directory = CopyOfBaselines("Example");
        try
        {
            File.WriteAllText(Path.Combine(directory, "Gateway.Generated.GetRemovedHandler.g.cs"), "// an endpoint that was removed");
            File.WriteAllText(Path.Combine(directory, produced[0].Name), "// stale text");

            BaselineDirectory.Update(directory, produced);

            Assert.Equal(produced.Select(f => f.Name).Order(StringComparer.Ordinal), Directory.EnumerateFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal(produced[0].Text, File.ReadAllText(Path.Combine(directory, produced[0].Name)));
            BaselineDirectory.Verify(directory, produced);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Emit_BaselineMissingForAProducedFile_FailsNamingIt()
    {
        GeneratedFile[] produced = Generate("example.krakend.json");
        string directory = CopyOfBaselines("Example");
        try
        {
            File.Delete(Path.Combine(directory, produced[^1].Name));

            var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => BaselineDirectory.Verify(directory, produced));
            Assert.Contains(produced[^1].Name, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
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

    /// <summary>Runs the generator over a bundled configuration; asserts it compiles without warnings.</summary>
    private static GeneratedFile[] Generate(string configFile)
    {
        string config = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", configFile));
        // The Lua sources the configurations name, as the build passes them (Configs/lua/*.lua).
        var sources = new Dictionary<string, string>();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Configs", "lua")))
        {
            sources["lua/" + Path.GetFileName(file)] = File.ReadAllText(file);
        }

        var (driver, output, diagnostics) = GeneratorHarness.Run(config, files: sources);
        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
        return driver.GetRunResult().Results[0].GeneratedSources.Select(s => new GeneratedFile(s.HintName, s.SourceText.ToString())).ToArray();
    }

    /// <summary>A scratch copy of a reviewed baseline directory, for tests that must not touch the real one.</summary>
    private static string CopyOfBaselines(string baseline)
    {
        string copy = Path.Combine(Path.GetTempPath(), "gateway-baselines-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.EnumerateFiles(Path.Combine(SourceDirectory(), "Baselines", baseline)))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Gateway.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Gateway.Generator.Tests;

/// <summary>Runs the real generator over a configuration text, the way the compiler does in a build.</summary>
internal static class GeneratorHarness
{
    public const string ConfigPath = "/configs/krakend.json";

    private static readonly Lazy<MetadataReference[]> s_references = new(LoadReferences);

    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(string config, string? @namespace = null, string path = ConfigPath, bool strict = false, bool openTelemetry = false)
    {
        GeneratorDriver driver = CreateDriver(new InMemoryAdditionalText(path, config), @namespace, strict, openTelemetry);
        driver = driver.RunGeneratorsAndUpdateCompilation(CreateCompilation(), out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (driver, output, diagnostics);
    }

    public static GeneratorDriver CreateDriver(string config, string? @namespace = null) =>
        CreateDriver(new InMemoryAdditionalText(ConfigPath, config), @namespace);

    public static GeneratorDriver CreateDriver(AdditionalText config, string? @namespace = null, bool strict = false, bool openTelemetry = false)
    {
        var options = new TestOptionsProvider(@namespace, strict, openTelemetry);
        return CSharpGeneratorDriver.Create(
            new[] { new GatewayGenerator().AsSourceGenerator() },
            new[] { config },
            parseOptions: new CSharpParseOptions(LanguageVersion.Preview),
            optionsProvider: options,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    public static CSharpCompilation CreateCompilation() =>
        CSharpCompilation.Create(
            "GeneratedGatewayTests",
            Array.Empty<SyntaxTree>(),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static MetadataReference[] LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(Gateway.Runtime.Hosting.GatewayDefinition).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }

    internal sealed class InMemoryAdditionalText : AdditionalText
    {
        private readonly SourceText _text;

        public InMemoryAdditionalText(string path, string text)
        {
            Path = path;
            _text = SourceText.From(text);
        }

        public override string Path { get; }

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class TestOptionsProvider : AnalyzerConfigOptionsProvider
    {
        private readonly DictionaryOptions _fileOptions;

        public TestOptionsProvider(string? @namespace, bool strict, bool openTelemetry)
        {
            // What -p:GatewayStrict=true and -p:GatewayOpenTelemetry=true become through CompilerVisibleProperty.
            var properties = new Dictionary<string, string>();
            if (strict)
            {
                properties["build_property.GatewayStrict"] = "true";
            }

            if (openTelemetry)
            {
                properties["build_property.GatewayOpenTelemetry"] = "true";
            }

            GlobalOptions = new DictionaryOptions(properties);
            var values = new Dictionary<string, string> { ["build_metadata.AdditionalFiles.GatewayConfig"] = "true" };
            if (@namespace is not null)
            {
                values["build_metadata.AdditionalFiles.GatewayNamespace"] = @namespace;
            }

            _fileOptions = new DictionaryOptions(values);
        }

        public override AnalyzerConfigOptions GlobalOptions { get; }

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _fileOptions;
    }

    private sealed class DictionaryOptions : AnalyzerConfigOptions
    {
        private readonly Dictionary<string, string> _values;

        public DictionaryOptions(Dictionary<string, string> values) => _values = values;

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => _values.TryGetValue(key, out value);
    }
}

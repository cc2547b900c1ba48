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

    /// <param name="config">The configuration's text.</param>
    /// <param name="namespace">The namespace of the generated code.</param>
    /// <param name="path">The configuration's path.</param>
    /// <param name="strict">Every warning an error.</param>
    /// <param name="openTelemetry">As -p:GatewayOpenTelemetry=true.</param>
    /// <param name="files">Files beside the configuration (Lua sources), by name relative to its folder, handed to the generator as the build does.</param>
    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(string config, string? @namespace = null, string path = ConfigPath, bool strict = false, bool openTelemetry = false, IReadOnlyDictionary<string, string>? files = null)
    {
        GeneratorDriver driver = CreateDriver(new InMemoryAdditionalText(path, config), @namespace, strict, openTelemetry, files, Path.GetDirectoryName(path)!);
        driver = driver.RunGeneratorsAndUpdateCompilation(CreateCompilation(), out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (driver, output, diagnostics);
    }

    public static GeneratorDriver CreateDriver(string config, string? @namespace = null) =>
        CreateDriver(new InMemoryAdditionalText(ConfigPath, config), @namespace);

    public static GeneratorDriver CreateDriver(AdditionalText config, string? @namespace = null, bool strict = false, bool openTelemetry = false, IReadOnlyDictionary<string, string>? files = null, string directory = "/configs")
    {
        var options = new TestOptionsProvider(@namespace, strict, openTelemetry, config.Path);
        var texts = new List<AdditionalText> { config };
        foreach (KeyValuePair<string, string> file in files ?? new Dictionary<string, string>())
        {
            texts.Add(new InMemoryAdditionalText(Path.Combine(directory, file.Key), file.Value));
        }

        return CSharpGeneratorDriver.Create(
            new[] { new GatewayGenerator().AsSourceGenerator() },
            texts,
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
        private readonly DictionaryOptions _sourceOptions = new(new Dictionary<string, string> { ["build_metadata.AdditionalFiles.GatewayLuaSource"] = "true" });
        private readonly string _configPath;

        public TestOptionsProvider(string? @namespace, bool strict, bool openTelemetry, string configPath)
        {
            _configPath = configPath;
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

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => textFile.Path == _configPath ? _fileOptions : _sourceOptions;
    }

    private sealed class DictionaryOptions : AnalyzerConfigOptions
    {
        private readonly Dictionary<string, string> _values;

        public DictionaryOptions(Dictionary<string, string> values) => _values = values;

        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => _values.TryGetValue(key, out value);
    }
}

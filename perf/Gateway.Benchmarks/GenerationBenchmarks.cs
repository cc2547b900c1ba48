using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Gateway.Benchmarks;

/// <summary>
/// How long the generator takes to turn a configuration of N endpoints (a mix of single, parallel and sequential
/// endpoints with shaping) into code: a cold run, and an edit that changes no meaning (whitespace), which the
/// incremental pipeline should absorb.
/// </summary>
[MemoryDiagnoser]
public class GenerationBenchmarks
{
    private GeneratorDriver _warmDriver = null!;
    private AdditionalText _config = null!;
    private AdditionalText _reformatted = null!;
    private CSharpCompilation _compilation = null!;

    [Params(10, 100, 1000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string config = Config(Endpoints);
        _config = new Text("/bench/krakend.json", config);
        _reformatted = new Text("/bench/krakend.json", config.Replace("\n", "\n  ", StringComparison.Ordinal));
        _compilation = CSharpCompilation.Create("bench", [], [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)], new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        _warmDriver = CreateDriver(_config).RunGenerators(_compilation);
    }

    [Benchmark]
    public GeneratorDriver Generate() => CreateDriver(_config).RunGenerators(_compilation);

    [Benchmark]
    public GeneratorDriver RegenerateAfterWhitespaceEdit() => _warmDriver.ReplaceAdditionalText(_config, _reformatted).RunGenerators(_compilation);

    private static GeneratorDriver CreateDriver(AdditionalText config) =>
        CSharpGeneratorDriver.Create([new GatewayGenerator().AsSourceGenerator()], [config], optionsProvider: new Options());

    internal static string Config(int endpoints)
    {
        var text = new StringBuilder("{\n\"version\": 3,\n\"host\": [\"http://backend:8080\"],\n\"endpoints\": [\n");
        for (int i = 0; i < endpoints; i++)
        {
            text.Append(i > 0 ? ",\n" : string.Empty);
            text.Append((i % 3) switch
            {
                0 => $"{{\"endpoint\": \"/users{i}/{{id}}\", \"backend\": [{{\"url_pattern\": \"/users/{{id}}\", \"allow\": [\"id\", \"name\", \"address.city\"]}}]}}",
                1 => $"{{\"endpoint\": \"/parallel{i}/{{id}}\", \"backend\": [{{\"url_pattern\": \"/a/{{id}}\"}}, {{\"url_pattern\": \"/b/{{id}}?x=1\", \"group\": \"b\", \"mapping\": {{\"x\": \"y\"}}}}]}}",
                _ => $"{{\"endpoint\": \"/chain{i}/{{id}}\", \"backend\": [{{\"url_pattern\": \"/a/{{id}}\", \"group\": \"a\"}}, {{\"url_pattern\": \"/b/{{resp0_a.next.id}}\", \"target\": \"data\"}}], \"extra_config\": {{\"proxy\": {{\"sequential\": true}}}}}}",
            });
        }

        return text.Append("\n]\n}\n").ToString();
    }

    private sealed class Text(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private sealed class Options : AnalyzerConfigOptionsProvider
    {
        private static readonly FileOptions s_file = new();

        public override AnalyzerConfigOptions GlobalOptions { get; } = new FileOptions();

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => s_file;

        private sealed class FileOptions : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
            {
                value = key == "build_metadata.AdditionalFiles.GatewayConfig" ? "true" : null;
                return value is not null;
            }
        }
    }
}

using System.Threading;
using Gateway.Config.Diagnostics;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Generator.Emitters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Gateway.Generator;

/// <summary>
/// Compiles KrakenD v3 configurations into gateway code. The pipeline:
/// <list type="number">
/// <item>Pick the AdditionalFiles marked <c>GatewayConfig="true"</c> (set by Gateway.Generator.targets from <c>$(GatewayConfig)</c>).</item>
/// <item>Parse each into a position-free, value-equal model plus its diagnostics. Both are plain data, so an edit
/// that changes no meaning (whitespace, <c>@comment</c>) stops here.</item>
/// <item>Report the diagnostics at their exact place in the file (warnings as errors with <c>-p:GatewayStrict=true</c>).</item>
/// <item>Emit one handler class per endpoint and the <c>CompiledGateway</c> entry point, only when the model changed.</item>
/// </list>
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class GatewayGenerator : IIncrementalGenerator
{
    public const string DefaultNamespace = "Gateway.Generated";

    /// <summary>Tracking names, asserted by the incremental-caching tests.</summary>
    public static class Steps
    {
        public const string Parse = nameof(Parse);
        public const string Model = nameof(Model);
        public const string Diagnostics = nameof(Diagnostics);
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. The configuration files and the namespace each compiles into.
        IncrementalValuesProvider<(AdditionalText File, string Namespace)> configs = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Select(static (pair, _) => (pair.Left, pair.Right.GetOptions(pair.Left)))
            .Where(static pair => IsGatewayConfig(pair.Item2))
            .Select(static (pair, _) => (pair.Left, NamespaceOf(pair.Item2)));

        // 2. The files configurations name besides themselves (Lua sources), marked GatewayLuaSource="true": their
        //    paths and texts, value-equal so that an unrelated edit re-parses nothing.
        IncrementalValueProvider<EquatableArray<SourceFile>> sourceFiles = context.AdditionalTextsProvider
            .Combine(context.AnalyzerConfigOptionsProvider)
            .Where(static pair => IsLuaSource(pair.Right.GetOptions(pair.Left)))
            .Select(static (pair, cancellationToken) => new SourceFile(pair.Left.Path, pair.Left.GetText(cancellationToken)?.ToString()))
            .Collect()
            .Select(static (files, _) => EquatableArray.From(new System.Collections.Generic.List<SourceFile>(files)));

        // 3. Parse: text -> model + diagnostics (no Roslyn types past this point).
        IncrementalValuesProvider<ParsedConfig> parsed = configs
            .Combine(sourceFiles)
            .Select(static (config, cancellationToken) => Parse(config.Left.File, config.Left.Namespace, config.Right, cancellationToken))
            .WithTrackingName(Steps.Parse);

        // 4. Diagnostics travel on their own, so a moved warning does not re-emit code. With -p:GatewayStrict=true,
        //    every warning is reported as an error.
        IncrementalValueProvider<bool> strict = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.GatewayStrict", out string? value)
                && string.Equals(value?.Trim(), "true", System.StringComparison.OrdinalIgnoreCase));
        IncrementalValuesProvider<ParsedDiagnostics> diagnostics = parsed
            .Select(static (p, _) => new ParsedDiagnostics(p.Path, p.Diagnostics))
            .WithTrackingName(Steps.Diagnostics);
        context.RegisterSourceOutput(diagnostics.Combine(strict), static (spc, d) => Report(spc, d.Left, d.Right));

        // 5. Code, from the model alone.
        //    With -p:GatewayOpenTelemetry=true, the OpenTelemetry SDK is compiled in even without telemetry/opentelemetry
        //    (an empty one is added), so that arguments and OTEL_* variables alone can turn exporters on.
        IncrementalValueProvider<bool> openTelemetry = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.GatewayOpenTelemetry", out string? value)
                && string.Equals(value?.Trim(), "true", System.StringComparison.OrdinalIgnoreCase));
        IncrementalValuesProvider<GatewayModel> models = parsed
            .Where(static p => p.Model is not null)
            .Combine(openTelemetry)
            .Select(static (p, _) => p.Right ? Components.OpenTelemetry.OpenTelemetryConfig.WithSdk(p.Left.Model!) : p.Left.Model!)
            .WithTrackingName(Steps.Model);
        context.RegisterSourceOutput(models, static (spc, model) => GatewayEmitter.Emit(model, spc.AddSource));
    }

    private static bool IsGatewayConfig(AnalyzerConfigOptions options) =>
        options.TryGetValue("build_metadata.AdditionalFiles.GatewayConfig", out string? flag)
        && string.Equals(flag, "true", System.StringComparison.OrdinalIgnoreCase);

    private static bool IsLuaSource(AnalyzerConfigOptions options) =>
        options.TryGetValue("build_metadata.AdditionalFiles.GatewayLuaSource", out string? flag)
        && string.Equals(flag, "true", System.StringComparison.OrdinalIgnoreCase);

    private static string NamespaceOf(AnalyzerConfigOptions options) =>
        options.TryGetValue("build_metadata.AdditionalFiles.GatewayNamespace", out string? ns) && !string.IsNullOrWhiteSpace(ns)
            ? ns.Trim()
            : DefaultNamespace;

    private static ParsedConfig Parse(AdditionalText file, string generatedNamespace, EquatableArray<SourceFile> sources, CancellationToken cancellationToken)
    {
        SourceText? text = file.GetText(cancellationToken);
        if (text is null)
        {
            var unreadable = new ConfigDiagnostic(DiagnosticKind.UnreadableFile, $"the configuration file '{file.Path}' cannot be read", 0, 0, 0, 0, 0, 0);
            return new ParsedConfig(file.Path, null, new EquatableArray<ConfigDiagnostic>(new[] { unreadable }));
        }

        var byPath = new System.Collections.Generic.Dictionary<string, string>(System.StringComparer.Ordinal);
        foreach (SourceFile source in sources)
        {
            if (source.Text is not null)
            {
                byPath[System.IO.Path.GetFullPath(source.Path)] = source.Text;
            }
        }

        ConfigParseResult result = ConfigParser.Parse(new ConfigSource(file.Path, text.ToString()), generatedNamespace, ConfigFiles.FromSet(file.Path, byPath));
        return new ParsedConfig(file.Path, result.Model, result.Diagnostics);
    }

    private static void Report(SourceProductionContext context, ParsedDiagnostics parsed, bool strict)
    {
        foreach (ConfigDiagnostic diagnostic in parsed.Diagnostics)
        {
            var location = Location.Create(
                parsed.Path,
                new TextSpan(diagnostic.Start, diagnostic.Length),
                new LinePositionSpan(new LinePosition(diagnostic.Line, diagnostic.Column), new LinePosition(diagnostic.EndLine, diagnostic.EndColumn)));
            DiagnosticDescriptor descriptor = DiagnosticDescriptors.For(diagnostic.Kind);
            context.ReportDiagnostic(strict && descriptor.DefaultSeverity != DiagnosticSeverity.Error
                ? Diagnostic.Create(descriptor, location, DiagnosticSeverity.Error, additionalLocations: null, properties: null, diagnostic.Message)
                : Diagnostic.Create(descriptor, location, diagnostic.Message));
        }
    }

    /// <summary>A file a configuration may name (a Lua source): its full path and text (null when unreadable).</summary>
    private sealed record SourceFile(string Path, string? Text);

    private sealed record ParsedConfig(string Path, GatewayModel? Model, EquatableArray<ConfigDiagnostic> Diagnostics);

    private sealed record ParsedDiagnostics(string Path, EquatableArray<ConfigDiagnostic> Diagnostics);
}

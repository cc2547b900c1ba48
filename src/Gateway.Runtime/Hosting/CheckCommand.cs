using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Parsing;

namespace Gateway.Runtime.Hosting;

/// <summary>One finding of <c>gateway check --format json</c>.</summary>
public sealed record CheckFinding(string File, int Line, int Column, string Severity, string Id, string Message);

/// <summary>The whole JSON report of <c>gateway check --format json</c>.</summary>
public sealed record CheckReport(string File, bool Valid, int Errors, int Warnings, IReadOnlyList<CheckFinding> Diagnostics);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CheckReport))]
internal sealed partial class CheckJsonContext : JsonSerializerContext
{
}

/// <summary>
/// <c>gateway check path/to/krakend.json [--format text|json]</c>: validates a configuration with exactly the rules the
/// build applies (the parser is the generator's own, linked in) and prints the findings in the compiler's format.
/// Exit code 0 when valid, 1 on errors, 2 on usage errors.
/// </summary>
public static class CheckCommand
{
    public const int ExitValid = 0;
    public const int ExitInvalid = 1;
    public const int ExitUsage = 2;

    private const string Usage = "usage: gateway check path/to/krakend.json [--format text|json]";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? path = null;
        string format = "text";
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--format" && i + 1 < args.Count && args[i + 1] is "text" or "json")
            {
                format = args[++i];
            }
            else if (args[i] is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return ExitValid;
            }
            else if (path is null && !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                path = args[i];
            }
            else
            {
                error.WriteLine($"gateway check: unexpected argument '{args[i]}'\n{Usage}");
                return ExitUsage;
            }
        }

        if (path is null)
        {
            error.WriteLine($"gateway check: no configuration file given\n{Usage}");
            return ExitUsage;
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error.WriteLine($"gateway check: cannot read '{path}': {e.Message}");
            return ExitUsage;
        }

        IReadOnlyList<ConfigDiagnostic> diagnostics = Check(path, text);
        int errors = diagnostics.Count(d => d.Severity == ConfigSeverity.Error);
        if (format == "json")
        {
            var report = new CheckReport(
                path,
                errors == 0,
                errors,
                diagnostics.Count - errors,
                diagnostics.Select(d => new CheckFinding(path, d.Line + 1, d.Column + 1, d.Severity == ConfigSeverity.Error ? "error" : "warning", d.Id, d.Message)).ToArray());
            output.WriteLine(JsonSerializer.Serialize(report, CheckJsonContext.Default.CheckReport));
        }
        else
        {
            foreach (ConfigDiagnostic diagnostic in diagnostics)
            {
                output.WriteLine(diagnostic.Format(path));
            }

            output.WriteLine(errors == 0 ? $"{path}: valid ({diagnostics.Count} warning(s))" : $"{path}: {errors} error(s), {diagnostics.Count - errors} warning(s)");
        }

        return errors == 0 ? ExitValid : ExitInvalid;
    }

    /// <summary>The findings for a configuration text, in file order as the generator reports them.</summary>
    internal static IReadOnlyList<ConfigDiagnostic> Check(string path, string text) =>
        ConfigParser.Parse(new ConfigSource(path, text), "Gateway.Check").Diagnostics.ToArray();
}

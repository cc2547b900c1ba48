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
/// <c>gateway check path/to/krakend.json [--format text|json] [--strict]</c>: validates a configuration with exactly the
/// rules the build applies (the parser is the generator's own, linked in) and prints the findings in the compiler's
/// format. <c>--strict</c> counts every warning as an error, as <c>-p:GatewayStrict=true</c> does for the build.
/// Exit code 0 when valid, 1 on errors, 2 on usage errors.
/// </summary>
public static class CheckCommand
{
    public const int ExitValid = 0;
    public const int ExitInvalid = 1;
    public const int ExitUsage = 2;

    private const string Usage =
        "usage: gateway check path/to/krakend.json [--format text|json] [--strict] [--explain]\n" +
        "  --format text|json  the compiler's format (default) or one JSON report\n" +
        "  --strict            count every warning as an error (as -p:GatewayStrict=true does for the build)\n" +
        "  --explain           also print each endpoint's plan: its steps, what each waits for and reads, the order they run in";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? path = null;
        string format = "text";
        bool strict = false;
        bool explain = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--format")
            {
                if (i + 1 >= args.Count || args[i + 1] is not ("text" or "json"))
                {
                    error.WriteLine($"gateway check: --format needs text or json{(i + 1 < args.Count ? $", not '{args[i + 1]}'" : string.Empty)}\n{Usage}");
                    return ExitUsage;
                }

                format = args[++i];
            }
            else if (arg == "--strict")
            {
                strict = true;
            }
            else if (arg == "--explain")
            {
                explain = true;
            }
            else if (arg is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return ExitValid;
            }
            else if (path is null && !arg.StartsWith('-'))
            {
                path = arg;
            }
            else
            {
                error.WriteLine($"gateway check: unknown argument '{arg}'; the options are --format text|json, --strict and --explain\n{Usage}");
                return ExitUsage;
            }
        }

        if (path is null)
        {
            error.WriteLine($"gateway check: no configuration file given\n{Usage}");
            return ExitUsage;
        }

        if (ReadProblem(path, out string text) is { } problem)
        {
            error.WriteLine($"gateway check: cannot read '{path}': {problem}");
            return ExitUsage;
        }

        IReadOnlyList<ConfigDiagnostic> diagnostics = Check(path, text);
        int errors = strict ? diagnostics.Count : diagnostics.Count(d => d.Severity == ConfigSeverity.Error);
        if (format == "json")
        {
            var report = new CheckReport(
                path,
                errors == 0,
                errors,
                diagnostics.Count - errors,
                diagnostics.Select(d => new CheckFinding(path, d.Line + 1, d.Column + 1, d.Severity == ConfigSeverity.Error || strict ? "error" : "warning", d.Id, d.Message)).ToArray());
            output.WriteLine(JsonSerializer.Serialize(report, CheckJsonContext.Default.CheckReport));
        }
        else
        {
            foreach (ConfigDiagnostic diagnostic in diagnostics)
            {
                output.WriteLine(diagnostic.Format(path, strict));
            }

            output.WriteLine(errors == 0 ? $"{path}: valid ({diagnostics.Count} warning(s))" : $"{path}: {errors} error(s), {diagnostics.Count - errors} warning(s)");
            if (explain && errors == 0 && ConfigParser.Parse(new ConfigSource(path, text), "Gateway.Check").Model is { } model)
            {
                output.WriteLine();
                PlanWriter.Write(model, output);
            }
        }

        return errors == 0 ? ExitValid : ExitInvalid;
    }

    /// <summary>
    /// Reads the file; on failure, a sentence of the gateway's own. The native binary strips the framework's resource
    /// strings, so an exception's message would be a resource key such as <c>IO_PathNotFound_Path</c>.
    /// </summary>
    private static string? ReadProblem(string path, out string text)
    {
        text = string.Empty;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "no such file";
        }
        catch (UnauthorizedAccessException)
        {
            return Directory.Exists(path) ? "it is a directory, not a file" : "permission denied";
        }
        catch (Exception e) when (e is IOException or ArgumentException or NotSupportedException)
        {
            return Directory.Exists(path) ? "it is a directory, not a file" : $"the file cannot be read ({e.GetType().Name})";
        }
    }

    /// <summary>The findings for a configuration text, in file order as the generator reports them.</summary>
    internal static IReadOnlyList<ConfigDiagnostic> Check(string path, string text) =>
        ConfigParser.Parse(new ConfigSource(path, text), "Gateway.Check", new ConfigFiles(path, ReadSource)).Diagnostics.ToArray();

    /// <summary>A file the configuration names (a Lua source), read from the disk; null when it cannot be.</summary>
    private static string? ReadSource(string fullPath)
    {
        try
        {
            return File.Exists(fullPath) ? File.ReadAllText(fullPath, Encoding.UTF8) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

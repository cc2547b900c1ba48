using System.Text;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// <c>gateway migrate path/to/krakend.json [-o OUT | --in-place]</c>: rewrites a KrakenD 1.x (<c>"version": 2</c>)
/// configuration with the v3 names (docs/compatibility.md, legacy configurations). Only the legacy names and the version
/// change; formatting, order and everything else stay as written. Writes to standard output unless told otherwise.
/// Exit code 0 when written, 1 when the file is not valid JSON, 2 on usage errors.
/// </summary>
public static class MigrateCommand
{
    private const string Usage =
        "usage: gateway migrate path/to/krakend.json [-o OUT | --in-place]\n" +
        "  rewrites KrakenD 1.x names (\"version\": 2, headers_to_pass, github_com/... namespaces) with their v3 names\n" +
        "  -o OUT      write the result to OUT (default: standard output)\n" +
        "  --in-place  replace the file";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? path = null;
        string? target = null;
        bool inPlace = false;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                output.WriteLine(Usage);
                return CheckCommand.ExitValid;
            }

            if (arg == "-o" && i + 1 < args.Count)
            {
                target = args[++i];
            }
            else if (arg == "--in-place")
            {
                inPlace = true;
            }
            else if (path is null && !arg.StartsWith('-'))
            {
                path = arg;
            }
            else
            {
                error.WriteLine($"gateway migrate: unknown argument '{arg}'; the options are -o OUT and --in-place\n{Usage}");
                return CheckCommand.ExitUsage;
            }
        }

        if (path is null || (inPlace && target is not null))
        {
            error.WriteLine($"gateway migrate: {(path is null ? "no configuration file given" : "-o and --in-place exclude each other")}\n{Usage}");
            return CheckCommand.ExitUsage;
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"gateway migrate: cannot read '{path}': {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : "the file cannot be read")}");
            return CheckCommand.ExitUsage;
        }

        if (Migrate(text, out string migrated, out List<string> notes) is { } problem)
        {
            error.WriteLine($"gateway migrate: {path}: {problem}");
            return CheckCommand.ExitInvalid;
        }

        foreach (string note in notes)
        {
            error.WriteLine($"gateway migrate: {path}: {note}");
        }

        if (inPlace || target is not null)
        {
            File.WriteAllText(target ?? path, migrated, new UTF8Encoding(false));
        }
        else
        {
            output.Write(migrated);
        }

        return CheckCommand.ExitValid;
    }

    /// <summary>
    /// The file with every legacy name replaced where it is written; <paramref name="notes"/> says what changed.
    /// Returns a problem when the text is not a JSON object.
    /// </summary>
    internal static string? Migrate(string text, out string migrated, out List<string> notes)
    {
        migrated = text;
        notes = new List<string>();
        JsonNode? root = JsonDocumentReader.Read(text, out JsonSyntaxError? syntax);
        if (root is null || root.Kind != JsonKind.Object)
        {
            return syntax is null ? "the configuration is not a JSON object" : $"not valid JSON: {syntax.Message}";
        }

        var edits = new List<(int Start, int Length, string Text)>();
        if (root.Find("version") is { Value: { Kind: JsonKind.Number, Text: "2" } } version)
        {
            edits.Add((version.Value.Start, version.Value.Length, "3"));
            notes.Add("\"version\": 2 -> 3");
        }

        foreach (LegacyRename rename in LegacyNames.Upgrade(root))
        {
            var name = new StringBuilder();
            JsonText.WriteString(rename.Current, name);
            edits.Add((rename.Property.NameStart, rename.Property.NameLength, name.ToString()));
            notes.Add($"\"{rename.Property.Name}\" -> \"{rename.Current}\"");
        }

        edits.Sort((a, b) => b.Start.CompareTo(a.Start));
        var result = new StringBuilder(text);
        foreach ((int start, int length, string replacement) in edits)
        {
            result.Remove(start, length).Insert(start, replacement);
        }

        migrated = result.ToString();
        return null;
    }
}

namespace Gateway.Generator.Tests;

/// <summary>One generated file: its hint name (the file name of its baseline) and its text.</summary>
internal sealed record GeneratedFile(string Name, string Text);

/// <summary>
/// A directory of reviewed snapshots of generated files, one file per generated hint name. It must hold exactly the
/// files the generator produces: a snapshot of a file the generator no longer produces (an endpoint renamed or
/// removed) is an orphan, and fails the comparison until the update mode deletes it.
/// </summary>
internal static class BaselineDirectory
{
    public const string UpdateVariable = "GATEWAY_UPDATE_BASELINES";

    public static bool UpdateRequested => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <summary>Asserts that <paramref name="directory"/> holds exactly <paramref name="produced"/>, each with its text.</summary>
    public static void Verify(string directory, IReadOnlyCollection<GeneratedFile> produced)
    {
        string[] orphans = Orphans(directory, produced);
        Assert.True(
            orphans.Length == 0,
            $"{directory} holds baselines of files the generator no longer produces: {string.Join(", ", orphans)}; run with {UpdateVariable}=1 to delete them");

        foreach (GeneratedFile file in produced)
        {
            string path = Path.Combine(directory, file.Name);
            Assert.True(File.Exists(path), $"no baseline {path}; run with {UpdateVariable}=1");
            Assert.Equal(File.ReadAllText(path), file.Text);
        }
    }

    /// <summary>Makes <paramref name="directory"/> hold exactly <paramref name="produced"/>: orphans deleted, every produced file written.</summary>
    public static void Update(string directory, IReadOnlyCollection<GeneratedFile> produced)
    {
        Directory.CreateDirectory(directory);

        // Deleted before writing: on a case-insensitive file system an orphan may be the old spelling of a produced name.
        foreach (string orphan in Orphans(directory, produced))
        {
            File.Delete(Path.Combine(directory, orphan));
        }

        foreach (GeneratedFile file in produced)
        {
            File.WriteAllText(Path.Combine(directory, file.Name), file.Text);
        }
    }

    /// <summary>The names of the files in <paramref name="directory"/> (not below it) that are not among <paramref name="produced"/>, sorted.</summary>
    public static string[] Orphans(string directory, IReadOnlyCollection<GeneratedFile> produced)
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var names = new HashSet<string>(produced.Select(f => f.Name), StringComparer.Ordinal);
        return Directory.EnumerateFiles(directory)
            .Select(path => Path.GetFileName(path))
            .Where(name => !names.Contains(name))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }
}

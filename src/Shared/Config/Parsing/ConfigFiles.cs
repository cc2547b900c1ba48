using System;
using System.Collections.Generic;
using System.IO;

namespace Gateway.Config.Parsing;

/// <summary>
/// The files a configuration names besides itself (Lua <c>sources</c>): a relative name is read from the configuration's
/// own folder. The generator hands in the files the build passed to it (Gateway.Generator.targets passes every
/// <c>*.lua</c> under the configuration's folder); <c>gateway check</c> reads the disk.
/// </summary>
internal sealed class ConfigFiles
{
    private readonly string _directory;
    private readonly Func<string, string?> _read;

    public ConfigFiles(string configPath, Func<string, string?> readFullPath)
    {
        _directory = Path.GetDirectoryName(configPath) ?? string.Empty;
        _read = readFullPath;
    }

    /// <summary>No file besides the configuration can be read (a configuration parsed from text alone).</summary>
    public static ConfigFiles None { get; } = new(string.Empty, static _ => null);

    /// <summary>The full path <paramref name="name"/> stands for: itself when absolute, else under the configuration's folder.</summary>
    public string FullPath(string name) => Path.GetFullPath(Path.IsPathRooted(name) ? name : Path.Combine(_directory, name));

    /// <summary>The text of the file <paramref name="name"/> names, or null when it cannot be read.</summary>
    public string? Read(string name)
    {
        try
        {
            return _read(FullPath(name));
        }
        catch (ArgumentException)
        {
            return null; // not a path (invalid characters)
        }
    }

    /// <summary>A reader over a set of files known by full path (the generator's additional files).</summary>
    public static ConfigFiles FromSet(string configPath, IReadOnlyDictionary<string, string> byFullPath) =>
        new(configPath, path => byFullPath.TryGetValue(Path.GetFullPath(path), out string? text) ? text : null);
}

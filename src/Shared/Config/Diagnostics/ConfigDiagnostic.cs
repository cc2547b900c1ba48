using System;

namespace Gateway.Config.Diagnostics;

internal enum ConfigSeverity
{
    Warning,
    Error,
}

/// <summary>
/// One finding about a configuration file, with its place in the file. Plain data with value equality,
/// so the generator's diagnostics pipeline caches it and <c>gateway check</c> prints the same thing.
/// Lines and columns are zero-based here; printers add one.
/// </summary>
internal sealed class ConfigDiagnostic : IEquatable<ConfigDiagnostic>
{
    public ConfigDiagnostic(DiagnosticKind kind, string message, int start, int length, int line, int column, int endLine, int endColumn)
    {
        Kind = kind;
        Message = message;
        Start = start;
        Length = length;
        Line = line;
        Column = column;
        EndLine = endLine;
        EndColumn = endColumn;
    }

    public DiagnosticKind Kind { get; }

    public string Id => Kind.Id;

    public ConfigSeverity Severity => Kind.Severity;

    public string Message { get; }

    public int Start { get; }

    public int Length { get; }

    public int Line { get; }

    public int Column { get; }

    public int EndLine { get; }

    public int EndColumn { get; }

    /// <summary>
    /// The compiler's format, which editors and CI logs understand: <c>path(line,col): error GW0001: message</c>.
    /// <paramref name="strict"/> prints a warning as the error it counts as (<c>gateway check --strict</c>).
    /// </summary>
    public string Format(string path, bool strict = false) =>
        $"{path}({Line + 1},{Column + 1}): {(Severity == ConfigSeverity.Error || strict ? "error" : "warning")} {Id}: {Message}";

    public bool Equals(ConfigDiagnostic? other) =>
        other is not null && ReferenceEquals(Kind, other.Kind) && Message == other.Message && Start == other.Start && Length == other.Length;

    public override bool Equals(object? obj) => Equals(obj as ConfigDiagnostic);

    public override int GetHashCode() => unchecked((Kind.Id.GetHashCode() * 31 + Message.GetHashCode()) * 31 + Start);
}

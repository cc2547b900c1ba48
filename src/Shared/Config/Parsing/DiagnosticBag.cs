using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;

namespace Gateway.Config.Parsing;

/// <summary>Collects every finding of one file, mapping offsets to lines and columns.</summary>
internal sealed class DiagnosticBag
{
    private readonly ConfigSource _source;
    private readonly List<ConfigDiagnostic> _items = new();

    public DiagnosticBag(ConfigSource source) => _source = source;

    public int ErrorCount { get; private set; }

    public List<ConfigDiagnostic> Items => _items;

    public void Report(DiagnosticKind kind, string message, int start, int length)
    {
        (int line, int column) = _source.GetPosition(start);
        (int endLine, int endColumn) = _source.GetPosition(start + length);
        _items.Add(new ConfigDiagnostic(kind, message, start, length, line, column, endLine, endColumn));
        if (kind.Severity == ConfigSeverity.Error)
        {
            ErrorCount++;
        }
    }

    public void Report(DiagnosticKind kind, string message, JsonNode at) => Report(kind, message, at.Start, at.Length);

    /// <summary>Reports at a member's name: the place an editor should jump to for a key-level finding.</summary>
    public void ReportAtKey(DiagnosticKind kind, string message, JsonProperty at) => Report(kind, message, at.NameStart, at.NameLength);
}

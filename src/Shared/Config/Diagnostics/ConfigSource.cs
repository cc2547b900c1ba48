using System.Collections.Generic;

namespace Gateway.Config.Diagnostics;

/// <summary>The text of a configuration file and a map from character offsets to line and column.</summary>
internal sealed class ConfigSource
{
    private readonly int[] _lineStarts;

    public ConfigSource(string path, string text)
    {
        Path = path;
        Text = text;
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n' || (c == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = starts.ToArray();
    }

    public string Path { get; }

    public string Text { get; }

    /// <summary>Zero-based line and column of an offset (clamped to the text).</summary>
    public (int Line, int Column) GetPosition(int offset)
    {
        if (offset < 0)
        {
            offset = 0;
        }
        else if (offset > Text.Length)
        {
            offset = Text.Length;
        }

        int lo = 0;
        int hi = _lineStarts.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (_lineStarts[mid] <= offset)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return (lo, offset - _lineStarts[lo]);
    }
}

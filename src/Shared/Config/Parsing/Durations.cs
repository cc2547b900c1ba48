using System.Globalization;

namespace Gateway.Config.Parsing;

/// <summary>Go duration strings as KrakenD writes them: <c>"300ms"</c>, <c>"3s"</c>, <c>"1m30s"</c>, <c>"1.5h"</c>.</summary>
internal static class Durations
{
    /// <summary>Parses a positive duration into whole milliseconds (sub-millisecond values round up to 1 ms).</summary>
    public static bool TryParseMilliseconds(string text, out long milliseconds, bool allowZero = false)
    {
        milliseconds = 0;
        if (text.Length == 0)
        {
            return false;
        }

        double totalNanoseconds = 0;
        int i = 0;
        while (i < text.Length)
        {
            int numberStart = i;
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (i == numberStart || !double.TryParse(text.Substring(numberStart, i - numberStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                return false;
            }

            int unitStart = i;
            while (i < text.Length && !char.IsDigit(text[i]) && text[i] != '.')
            {
                i++;
            }

            double unit = text.Substring(unitStart, i - unitStart) switch
            {
                "ns" => 1,
                "us" or "\u00b5s" or "\u03bcs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => -1,
            };
            if (unit < 0)
            {
                return false;
            }

            totalNanoseconds += value * unit;
        }

        // More than a year is certainly a mistake, for a request budget or a cache lifetime.
        if ((totalNanoseconds <= 0 && !(allowZero && totalNanoseconds == 0)) || totalNanoseconds > 86_400e9 * 365)
        {
            return false;
        }

        milliseconds = (long)System.Math.Ceiling(totalNanoseconds / 1e6);
        return true;
    }
}

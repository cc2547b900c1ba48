using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// Writes the gateway's metrics in Prometheus' text exposition format (version 0.0.4) when a scrape collects them.
/// A pull exporter: <see cref="MetricsEndpoint"/> asks its reader to collect, the SDK hands the metrics here, and the
/// text is the scrape's answer. OpenTelemetry names map as Prometheus expects: dots become underscores, the unit
/// becomes a suffix (<c>s</c> → <c>_seconds</c>; annotations such as <c>{request}</c> are dropped) and monotonic
/// counters end in <c>_total</c>.
/// </summary>
internal sealed class PrometheusText : BaseExporter<Metric>
{
    private readonly StringBuilder _text = new();

    /// <summary>What the last collection wrote; read under the endpoint's lock.</summary>
    public string Text => _text.ToString();

    public void Reset() => _text.Clear();

    public override ExportResult Export(in Batch<Metric> batch)
    {
        WriteTargetInfo();
        foreach (Metric metric in batch)
        {
            Write(metric);
        }

        return ExportResult.Success;
    }

    private void WriteTargetInfo()
    {
        _text.Append("# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{");
        bool first = true;
        foreach (KeyValuePair<string, object> attribute in ParentProvider?.GetResource().Attributes ?? [])
        {
            _text.Append(first ? "" : ",").Append(Sanitize(attribute.Key)).Append("=\"");
            AppendLabelValue(Convert.ToString(attribute.Value, CultureInfo.InvariantCulture));
            _text.Append('"');
            first = false;
        }

        _text.Append("} 1\n");
    }

    private void Write(Metric metric)
    {
        bool counter = metric.MetricType is MetricType.LongSum or MetricType.DoubleSum;
        bool histogram = metric.MetricType == MetricType.Histogram;
        string name = Name(metric.Name, metric.Unit, counter);
        _text.Append("# HELP ").Append(name).Append(' ').Append(metric.Description.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(counter ? "counter" : histogram ? "histogram" : "gauge").Append('\n');
        foreach (ref readonly MetricPoint point in metric.GetMetricPoints())
        {
            if (histogram)
            {
                long cumulative = 0;
                foreach (HistogramBucket bucket in point.GetHistogramBuckets())
                {
                    cumulative += bucket.BucketCount;
                    _text.Append(name).Append("_bucket");
                    AppendLabels(point.Tags, double.IsPositiveInfinity(bucket.ExplicitBound) ? "+Inf" : Number(bucket.ExplicitBound));
                    _text.Append(' ').Append(cumulative).Append('\n');
                }

                _text.Append(name).Append("_sum");
                AppendLabels(point.Tags, null);
                _text.Append(' ').Append(Number(point.GetHistogramSum())).Append('\n');
                _text.Append(name).Append("_count");
                AppendLabels(point.Tags, null);
                _text.Append(' ').Append(point.GetHistogramCount()).Append('\n');
                continue;
            }

            _text.Append(name);
            AppendLabels(point.Tags, null);
            _text.Append(' ').Append(metric.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong().ToString(CultureInfo.InvariantCulture),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => Number(point.GetSumDouble()),
                MetricType.LongGauge => point.GetGaugeLastValueLong().ToString(CultureInfo.InvariantCulture),
                MetricType.DoubleGauge => Number(point.GetGaugeLastValueDouble()),
                _ => "0",
            }).Append('\n');
        }
    }

    private void AppendLabels(ReadOnlyTagCollection tags, string? le)
    {
        if (tags.Count == 0 && le is null)
        {
            return;
        }

        _text.Append('{');
        bool first = true;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            _text.Append(first ? "" : ",").Append(Sanitize(tag.Key)).Append("=\"");
            AppendLabelValue(Convert.ToString(tag.Value, CultureInfo.InvariantCulture));
            _text.Append('"');
            first = false;
        }

        if (le is not null)
        {
            _text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
        }

        _text.Append('}');
    }

    /// <summary>A label value with backslash, double quote and line feed escaped, as the format requires.</summary>
    private void AppendLabelValue(string? value)
    {
        foreach (char c in value ?? string.Empty)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '"' => _text.Append("\\\""),
                '\n' => _text.Append("\\n"),
                _ => _text.Append(c),
            };
        }
    }

    internal static string Name(string name, string? unit, bool counter)
    {
        string sanitized = Sanitize(name);
        string? suffix = unit switch
        {
            null or "" or "1" => null,
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            _ when unit.StartsWith('{') => null,
            _ => Sanitize(unit),
        };
        if (suffix is not null && !sanitized.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            sanitized += "_" + suffix;
        }

        return counter && !sanitized.EndsWith("_total", StringComparison.Ordinal) ? sanitized + "_total" : sanitized;
    }

    /// <summary>A metric or label name: letters, digits and underscores, not starting with a digit.</summary>
    internal static string Sanitize(string name)
    {
        var result = new StringBuilder(name.Length);
        foreach (char c in name)
        {
            result.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (result.Length == 0 || char.IsAsciiDigit(result[0]))
        {
            result.Insert(0, '_');
        }

        return result.ToString();
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);
}

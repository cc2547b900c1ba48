using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// The gateway's metrics as Prometheus scrapes them, aggregated by the gateway itself: a fixed set of instruments
/// (<see cref="GatewayInstruments"/>) whose labels are templates and closed sets, so a series is found by a small key
/// and updated with interlocked operations, without the OpenTelemetry SDK (which a binary carries only when it pushes
/// metrics or traces over OTLP). Values are cumulative, as Prometheus expects. The text is the exposition format 0.0.4;
/// names follow the OpenTelemetry-to-Prometheus conventions (dots become underscores, the unit becomes a suffix,
/// counters end in <c>_total</c>), so a dashboard reads the same names whichever way the metrics leave the gateway.
/// </summary>
public sealed class PrometheusMetrics
{
    private readonly ConcurrentDictionary<(string Route, string Method, int Status), Histogram> _requests = new();
    private readonly ConcurrentDictionary<(string Route, int Backend, BackendFailure Outcome), Histogram> _backends = new();
    private readonly ConcurrentDictionary<(string Route, string Method), Counter> _incomplete = new();
    private readonly KeyValuePair<string, string>[] _target;
    private long _active;

    /// <param name="target">The resource attributes (<c>service.name</c>, ...) shown as <c>target_info</c>'s labels.</param>
    public PrometheusMetrics(IEnumerable<KeyValuePair<string, string>> target)
    {
        _target = [.. target];
    }

    internal void RequestStarted() => Interlocked.Increment(ref _active);

    internal void RequestEnded(string route, string method, int status, bool incomplete, double seconds)
    {
        Interlocked.Decrement(ref _active);
        _requests.GetOrAdd((route, method, status), static _ => new Histogram()).Record(seconds);
        if (incomplete)
        {
            _incomplete.GetOrAdd((route, method), static _ => new Counter()).Increment();
        }
    }

    internal void BackendCalled(string route, int backend, BackendFailure outcome, double seconds) =>
        _backends.GetOrAdd((route, backend, outcome), static _ => new Histogram()).Record(seconds);

    /// <summary>The current values in the text exposition format.</summary>
    public string Render()
    {
        var text = new StringBuilder(4096);
        text.Append("# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info");
        AppendLabels(text, [.. _target.Select(a => (Sanitize(a.Key), a.Value))], null);
        text.Append(" 1\n");

        string requests = Header(text, GatewayInstruments.RequestDuration);
        foreach (var (key, histogram) in _requests.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Method, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
        {
            histogram.Append(text, requests, [("http_request_method", key.Method), ("http_response_status_code", Integer(key.Status)), ("http_route", key.Route)]);
        }

        string backends = Header(text, GatewayInstruments.BackendDuration);
        foreach (var (key, histogram) in _backends.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Backend).ThenBy(p => p.Key.Outcome))
        {
            histogram.Append(text, backends, [("gateway_backend_index", Integer(key.Backend)), ("gateway_backend_outcome", BackendOutcome.Name(key.Outcome)), ("http_route", key.Route)]);
        }

        string incomplete = Header(text, GatewayInstruments.IncompleteResponses);
        foreach (var (key, counter) in _incomplete.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Method, StringComparer.Ordinal))
        {
            text.Append(incomplete);
            AppendLabels(text, [("http_request_method", key.Method), ("http_route", key.Route)], null);
            text.Append(' ').Append(Integer(counter.Value)).Append('\n');
        }

        text.Append(Header(text, GatewayInstruments.ActiveRequests)).Append(' ').Append(Integer(Interlocked.Read(ref _active))).Append('\n');
        ProcessMetrics.Render(text);
        return text.ToString();
    }

    /// <summary>Writes an instrument's HELP and TYPE lines and returns its Prometheus name.</summary>
    private static string Header(StringBuilder text, InstrumentInfo instrument)
    {
        bool counter = instrument.Kind == InstrumentKind.Counter;
        string name = Name(instrument.Name, instrument.Unit, counter);
        text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(instrument.Kind switch
        {
            InstrumentKind.Counter => "counter",
            InstrumentKind.Histogram => "histogram",
            _ => "gauge",
        }).Append('\n');
        return name;
    }

    private static void AppendLabels(StringBuilder text, (string Name, string Value)[] labels, string? le)
    {
        if (labels.Length == 0 && le is null)
        {
            return;
        }

        text.Append('{');
        bool first = true;
        foreach ((string name, string value) in labels)
        {
            text.Append(first ? "" : ",").Append(name).Append("=\"");
            AppendLabelValue(text, value);
            text.Append('"');
            first = false;
        }

        if (le is not null)
        {
            text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
        }

        text.Append('}');
    }

    /// <summary>A label value with backslash, double quote and line feed escaped, as the format requires.</summary>
    private static void AppendLabelValue(StringBuilder text, string value)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => text.Append("\\\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append("\\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>The Prometheus name of an OpenTelemetry instrument.</summary>
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

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One counter series.</summary>
    private sealed class Counter
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);
    }

    /// <summary>One histogram series: a count per bucket of <see cref="GatewayInstruments.SecondsBuckets"/> (and one above), the sum.</summary>
    private sealed class Histogram
    {
        private readonly long[] _buckets = new long[GatewayInstruments.SecondsBuckets.Length + 1];
        private double _sum;

        public void Record(double value)
        {
            double[] bounds = GatewayInstruments.SecondsBuckets;
            int i = 0;
            while (i < bounds.Length && value > bounds[i])
            {
                i++;
            }

            Interlocked.Increment(ref _buckets[i]);
            double sum = Volatile.Read(ref _sum);
            while (true)
            {
                double seen = Interlocked.CompareExchange(ref _sum, sum + value, sum);
                if (seen.Equals(sum))
                {
                    break;
                }

                sum = seen;
            }
        }

        /// <summary>Writes the cumulative buckets, the sum and the count. Read while requests record: each line is a
        /// value that was true at some instant, as with any concurrently updated exposition.</summary>
        public void Append(StringBuilder text, string name, (string Name, string Value)[] labels)
        {
            double[] bounds = GatewayInstruments.SecondsBuckets;
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _buckets[i]);
                text.Append(name).Append("_bucket");
                AppendLabels(text, labels, i < bounds.Length ? Number(bounds[i]) : "+Inf");
                text.Append(' ').Append(Integer(cumulative)).Append('\n');
            }

            text.Append(name).Append("_sum");
            AppendLabels(text, labels, null);
            text.Append(' ').Append(Number(Volatile.Read(ref _sum))).Append('\n');
            text.Append(name).Append("_count");
            AppendLabels(text, labels, null);
            text.Append(' ').Append(Integer(cumulative)).Append('\n');
        }
    }
}

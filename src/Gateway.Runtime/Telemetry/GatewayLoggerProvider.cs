using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Telemetry;

/// <summary>How log lines are written: <c>--log-format text|json</c>.</summary>
public enum LogFormat
{
    /// <summary><c>2026-12-01T05:44:02.1234567Z info Gateway.Access: GET /users/{id} 200 ...</c>, one line per entry.</summary>
    Text,

    /// <summary>One JSON object per line: time, level, logger, event, message, then each field of the entry by name.</summary>
    Json,
}

/// <summary>
/// The gateway's log output: every entry (the gateway's own, the access log, the framework's warnings) as one line of
/// text or one JSON object, handed to a <see cref="LogSink"/>. Structured fields come from the
/// <c>[LoggerMessage]</c> templates (<see cref="Hosting.GatewayLog"/>), named in snake_case in JSON
/// (<c>{DurationMs}</c> → <c>duration_ms</c>). No reflection: values are written by their type.
/// </summary>
public sealed class GatewayLoggerProvider : ILoggerProvider
{
    private static readonly JsonWriterOptions s_jsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static readonly ConcurrentDictionary<string, JsonEncodedText> s_fieldNames = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_line;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private readonly ConcurrentDictionary<string, Logger> _loggers = new(StringComparer.Ordinal);
    private readonly byte[] _prefix;
    private readonly string? _prefixText;

    private readonly SyslogSink? _syslog;
    private readonly bool _toSink;

    /// <param name="sink">The stream's sink (standard output or error).</param>
    /// <param name="format">Text lines or JSON objects.</param>
    /// <param name="prefix">Put before each line (a field in JSON).</param>
    /// <param name="syslog">Also (or only) sends each entry to syslog; null when not asked for.</param>
    /// <param name="toSink">False with syslog alone: the stream gets nothing.</param>
    public GatewayLoggerProvider(LogSink sink, LogFormat format, string? prefix = null, SyslogSink? syslog = null, bool toSink = true)
    {
        Sink = sink;
        _syslog = syslog;
        _toSink = toSink || syslog is null;
        Format = format;
        _prefixText = string.IsNullOrEmpty(prefix) ? null : prefix;
        _prefix = _prefixText is null ? [] : Encoding.UTF8.GetBytes(_prefixText + " ");
    }

    public LogSink Sink { get; }

    public LogFormat Format { get; }

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, static (name, owner) => new Logger(owner, name), this);

    /// <summary>Writes what is queued and closes the sink (and the syslog socket): the provider owns them.</summary>
    public void Dispose()
    {
        Sink.Dispose();
        _syslog?.Dispose();
    }

    /// <summary>Hands one finished entry (with its line break) to the outputs asked for.</summary>
    private void Emit(ReadOnlySpan<byte> line, LogLevel level)
    {
        _syslog?.Write(level, line[..^1]);
        if (_toSink)
        {
            Sink.Write(line, urgent: level >= LogLevel.Warning);
        }
    }

    /// <summary>A JSON field name: the template's PascalCase name in snake_case (<c>BackendsFailed</c> → <c>backends_failed</c>).</summary>
    internal static JsonEncodedText FieldName(string name) => s_fieldNames.GetOrAdd(name, static n =>
    {
        var snake = new StringBuilder(n.Length + 4);
        for (int i = 0; i < n.Length; i++)
        {
            char c = n[i];
            if (char.IsUpper(c))
            {
                if (i > 0 && (char.IsLower(n[i - 1]) || (i + 1 < n.Length && char.IsLower(n[i + 1]) && char.IsUpper(n[i - 1]))))
                {
                    snake.Append('_');
                }

                snake.Append(char.ToLowerInvariant(c));
            }
            else
            {
                snake.Append(c);
            }
        }

        return JsonEncodedText.Encode(snake.ToString(), JavaScriptEncoder.UnsafeRelaxedJsonEscaping);
    });

    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        _ => "critical",
    };

    private static readonly JsonEncodedText s_accessCategory = JsonEncodedText.Encode(Hosting.GatewayLog.AccessCategory);

    /// <summary>
    /// Writes one access log line (<see cref="GatewayTelemetry"/>, category <c>Gateway.Access</c>, event <c>access</c>),
    /// formatted straight to UTF-8. It runs once per request, where boxing nine values and building the message text
    /// through <c>ILogger</c> cost a measurable share of a small proxied request (perf/results/2026-12-01-telemetry.md).
    /// </summary>
    internal void WriteAccess(string method, string endpoint, int status, double milliseconds, long bytes, string completed, int called, int failed, string traceId)
    {
        ArrayBufferWriter<byte> line = t_line ??= new ArrayBufferWriter<byte>(512);
        line.ResetWrittenCount();
        if (Format == LogFormat.Json)
        {
            Utf8JsonWriter json = t_json ??= new Utf8JsonWriter(line, s_jsonOptions);
            json.Reset(line);
            json.WriteStartObject();
            json.WriteString("time"u8, Now(stackalloc byte[TimeLength]));
            json.WriteString("level"u8, "info"u8);
            json.WriteString("logger"u8, s_accessCategory);
            if (_prefixText is not null)
            {
                json.WriteString("prefix"u8, _prefixText);
            }

            json.WriteString("event"u8, "access"u8);
            json.WriteString("method"u8, method);
            json.WriteString("endpoint"u8, endpoint);
            json.WriteNumber("status"u8, status);
            json.WriteNumber("duration_ms"u8, milliseconds);
            json.WriteNumber("bytes_out"u8, bytes);
            json.WriteString("completed"u8, completed);
            json.WriteNumber("backends_called"u8, called);
            json.WriteNumber("backends_failed"u8, failed);
            json.WriteString("trace_id"u8, traceId);
            json.WriteEndObject();
            json.Flush();
        }
        else
        {
            line.Write(_prefix);
            line.Write(Now(stackalloc byte[TimeLength]));
            line.Write(" info Gateway.Access: "u8);
            Append(line, method);
            line.Write(" "u8);
            Append(line, endpoint);
            line.Write(" "u8);
            AppendNumber(line, status);
            line.Write(" "u8);
            AppendMilliseconds(line, milliseconds);
            line.Write(" ms "u8);
            AppendNumber(line, bytes);
            line.Write(" bytes completed="u8);
            Append(line, completed);
            line.Write(" backends="u8);
            AppendNumber(line, called);
            line.Write(" failed="u8);
            AppendNumber(line, failed);
            line.Write(" trace="u8);
            Append(line, traceId);
        }

        line.Write("\n"u8);
        Emit(line.WrittenSpan, LogLevel.Information);
    }

    /// <summary>The length of <c>2026-12-01T05:52:06.9670984Z</c>, the round-trip ("O") form of a UTC time.</summary>
    private const int TimeLength = 28;

    [ThreadStatic]
    private static long t_second;

    [ThreadStatic]
    private static byte[]? t_secondText;

    /// <summary>
    /// The current UTC time in the round-trip form, into <paramref name="destination"/>. The date and the second are
    /// formatted once per second and thread; only the fraction is written per line.
    /// </summary>
    internal static ReadOnlySpan<byte> Now(Span<byte> destination)
    {
        long ticks = DateTime.UtcNow.Ticks;
        long second = ticks / TimeSpan.TicksPerSecond;
        byte[] prefix = t_secondText ??= new byte[20];
        if (second != t_second || prefix[0] == 0)
        {
            new DateTime(second * TimeSpan.TicksPerSecond, DateTimeKind.Utc).TryFormat(prefix, out _, "yyyy-MM-ddTHH:mm:ss.", System.Globalization.CultureInfo.InvariantCulture);
            t_second = second;
        }

        prefix.CopyTo(destination);
        long fraction = ticks % TimeSpan.TicksPerSecond;
        for (int i = TimeLength - 2; i >= 20; i--)
        {
            destination[i] = (byte)('0' + (fraction % 10));
            fraction /= 10;
        }

        destination[TimeLength - 1] = (byte)'Z';
        return destination[..TimeLength];
    }

    /// <summary>Milliseconds with at most three decimals and no trailing zeros (<c>12.5</c>, <c>0.047</c>, <c>3</c>), without floating-point formatting.</summary>
    internal static void AppendMilliseconds(ArrayBufferWriter<byte> line, double milliseconds)
    {
        long micro = (long)Math.Round(Math.Max(milliseconds, 0) * 1000);
        AppendNumber(line, micro / 1000);
        int rest = (int)(micro % 1000);
        if (rest == 0)
        {
            return;
        }

        Span<byte> digits = line.GetSpan(4);
        digits[0] = (byte)'.';
        digits[1] = (byte)('0' + (rest / 100));
        digits[2] = (byte)('0' + (rest / 10 % 10));
        digits[3] = (byte)('0' + (rest % 10));
        line.Advance(rest % 100 == 0 ? 2 : rest % 10 == 0 ? 3 : 4);
    }

    private static void AppendNumber<T>(ArrayBufferWriter<byte> line, T value)
        where T : IUtf8SpanFormattable
    {
        value.TryFormat(line.GetSpan(32), out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        line.Advance(written);
    }

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArrayBufferWriter<byte> line = t_line ??= new ArrayBufferWriter<byte>(512);
        line.ResetWrittenCount();
        if (Format == LogFormat.Json)
        {
            WriteJson(line, category, level, eventId, state, exception, formatter);
        }
        else
        {
            WriteText(line, category, level, state, exception, formatter);
        }

        line.Write("\n"u8);
        Emit(line.WrittenSpan, level);
        if (line.Capacity > 64 * 1024)
        {
            t_line = null;
        }
    }

    private void WriteText<TState>(ArrayBufferWriter<byte> line, string category, LogLevel level, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        line.Write(_prefix);
        line.Write(Now(stackalloc byte[TimeLength]));
        Append(line, " ");
        Append(line, LevelName(level));
        Append(line, " ");
        Append(line, category);
        Append(line, ": ");
        Append(line, formatter(state, exception));
        if (exception is not null)
        {
            Append(line, Environment.NewLine);
            Append(line, exception.ToString());
        }
    }

    private void WriteJson<TState>(ArrayBufferWriter<byte> line, string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Utf8JsonWriter json = t_json ??= new Utf8JsonWriter(line, s_jsonOptions);
        json.Reset(line);
        json.WriteStartObject();
        json.WriteString("time"u8, Now(stackalloc byte[TimeLength]));
        json.WriteString("level"u8, LevelName(level));
        json.WriteString("logger"u8, category);
        if (_prefixText is not null)
        {
            json.WriteString("prefix"u8, _prefixText);
        }

        if (eventId.Name is { } name)
        {
            json.WriteString("event"u8, name);
        }

        json.WriteString("message"u8, formatter(state, exception));
        if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            for (int i = 0; i < fields.Count; i++)
            {
                KeyValuePair<string, object?> field = fields[i];
                if (field.Key.Length == 0 || field.Key[0] == '{')
                {
                    continue;
                }

                WriteValue(json, FieldName(field.Key), field.Value);
            }
        }

        if (exception is not null)
        {
            json.WriteString("exception"u8, exception.ToString());
        }

        json.WriteEndObject();
        json.Flush();
    }

    private static void WriteValue(Utf8JsonWriter json, JsonEncodedText name, object? value)
    {
        switch (value)
        {
            case null:
                json.WriteNull(name);
                break;
            case string text:
                json.WriteString(name, text);
                break;
            case bool flag:
                json.WriteBoolean(name, flag);
                break;
            case int number:
                json.WriteNumber(name, number);
                break;
            case long number:
                json.WriteNumber(name, number);
                break;
            case double number:
                json.WriteNumber(name, Math.Round(number, 3));
                break;
            case Enum kind:
                json.WriteString(name, kind.ToString());
                break;
            default:
                json.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void Append(ArrayBufferWriter<byte> line, string text)
    {
        Span<byte> span = line.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        line.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private sealed class Logger(GatewayLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.None)
            {
                owner.Write(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

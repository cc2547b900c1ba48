using System.Text;
using System.Text.Json;
using Gateway.Runtime.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Tests.Telemetry;

public partial class GatewayLoggerProviderTests
{
    [LoggerMessage(EventId = 7, EventName = "sample", Level = LogLevel.Warning, Message = "{Method} {Endpoint}: {BackendsFailed} of {Count} failed after {DurationMs} ms, complete {Complete}")]
    private static partial void Sample(ILogger logger, string method, string endpoint, int backendsFailed, long count, double durationMs, bool complete);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "failed")]
    private static partial void Failed(ILogger logger, Exception exception);

    [Fact]
    public void Json_OneObjectPerLine_FieldsInSnakeCaseWithTheirTypes()
    {
        string written = Write(LogFormat.Json, null, logger => Sample(logger, "GET", "/users/{id}", 1, 2, 12.3456, false));

        string line = Assert.Single(written.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        JsonElement entry = JsonDocument.Parse(line).RootElement;
        Assert.Equal("warn", entry.GetProperty("level").GetString());
        Assert.Equal("Test.Category", entry.GetProperty("logger").GetString());
        Assert.Equal("sample", entry.GetProperty("event").GetString());
        Assert.Equal("GET /users/{id}: 1 of 2 failed after 12.3456 ms, complete False", entry.GetProperty("message").GetString());
        Assert.Equal("/users/{id}", entry.GetProperty("endpoint").GetString());
        Assert.Equal(JsonValueKind.Number, entry.GetProperty("backends_failed").ValueKind);
        Assert.Equal(2, entry.GetProperty("count").GetInt64());
        Assert.Equal(12.346, entry.GetProperty("duration_ms").GetDouble());
        Assert.False(entry.GetProperty("complete").GetBoolean());
        Assert.False(entry.TryGetProperty("{OriginalFormat}", out _));
        Assert.EndsWith("Z", entry.GetProperty("time").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_Exception_IsOneEscapedField()
    {
        string written = Write(LogFormat.Json, "[gw]", logger => Failed(logger, new InvalidOperationException("boom\nsecond line")));

        JsonElement entry = JsonDocument.Parse(Assert.Single(written.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal("error", entry.GetProperty("level").GetString());
        Assert.Equal("[gw]", entry.GetProperty("prefix").GetString());
        Assert.Contains("boom\nsecond line", entry.GetProperty("exception").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(LogFormat.Json)]
    [InlineData(LogFormat.Text)]
    public void WriteAccess_SameFieldsInBothFormats(LogFormat format)
    {
        using var stream = new MemoryStream();
        using (var provider = new GatewayLoggerProvider(new LogSink(stream), format, null))
        {
            provider.WriteAccess("GET", "/users/{id}", 200, 1.25, 321, "true", 2, 0, "-");
        }

        string line = Encoding.UTF8.GetString(stream.ToArray()).TrimEnd('\n');
        if (format == LogFormat.Text)
        {
            Assert.Matches(@"^\S+Z info Gateway\.Access: GET /users/\{id\} 200 1\.25 ms 321 bytes completed=true backends=2 failed=0 trace=-$", line);
            return;
        }

        JsonElement entry = JsonDocument.Parse(line).RootElement;
        Assert.Equal("Gateway.Access", entry.GetProperty("logger").GetString());
        Assert.Equal("access", entry.GetProperty("event").GetString());
        Assert.Equal("/users/{id}", entry.GetProperty("endpoint").GetString());
        Assert.Equal(200, entry.GetProperty("status").GetInt32());
        Assert.Equal(1.25, entry.GetProperty("duration_ms").GetDouble());
        Assert.Equal(321, entry.GetProperty("bytes_out").GetInt64());
        Assert.Equal("true", entry.GetProperty("completed").GetString());
        Assert.Equal(2, entry.GetProperty("backends_called").GetInt32());
    }

    [Fact]
    public void Text_PrefixTimeLevelCategoryAndMessage()
    {
        string written = Write(LogFormat.Text, "[gw]", logger => Sample(logger, "POST", "/a", 0, 1, 1, true));

        string line = written.TrimEnd('\n');
        Assert.Matches(@"^\[gw\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z warn Test\.Category: POST /a: 0 of 1 failed after 1 ms, complete True$", line);
    }

    [Theory]
    [InlineData("Method", "method")]
    [InlineData("BackendsFailed", "backends_failed")]
    [InlineData("DurationMs", "duration_ms")]
    [InlineData("TraceId", "trace_id")]
    [InlineData("HTTPStatus", "http_status")]
    [InlineData("already_snake", "already_snake")]
    public void FieldName_PascalCase_BecomesSnakeCase(string name, string expected) =>
        Assert.Equal(expected, GatewayLoggerProvider.FieldName(name).Value);

    [Theory]
    [InlineData(12.5, "12.5")]
    [InlineData(0.047, "0.047")]
    [InlineData(3, "3")]
    [InlineData(1.2346, "1.235")]
    [InlineData(1000.1, "1000.1")]
    [InlineData(0.0004, "0")]
    public void AppendMilliseconds_AtMostThreeDecimalsNoTrailingZeros(double milliseconds, string expected)
    {
        var line = new System.Buffers.ArrayBufferWriter<byte>();
        GatewayLoggerProvider.AppendMilliseconds(line, milliseconds);
        Assert.Equal(expected, Encoding.ASCII.GetString(line.WrittenSpan));
    }

    [Fact]
    public void Now_RoundTripFormOfUtcNow()
    {
        DateTime before = DateTime.UtcNow;
        string text = Encoding.ASCII.GetString(GatewayLoggerProvider.Now(stackalloc byte[40]));
        DateTime after = DateTime.UtcNow;

        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", text);
        DateTime parsed = DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind);
        Assert.InRange(parsed, before, after);
    }

    private static string Write(LogFormat format, string? prefix, Action<ILogger> log)
    {
        using var stream = new MemoryStream();
        using (var provider = new GatewayLoggerProvider(new LogSink(stream), format, prefix))
        {
            log(provider.CreateLogger("Test.Category"));
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

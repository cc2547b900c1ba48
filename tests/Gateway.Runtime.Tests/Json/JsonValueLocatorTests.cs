using System.Text;
using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

public class JsonValueLocatorTests
{
    private static string? Locate(string json, string path)
    {
        byte[] document = Encoding.UTF8.GetBytes(json);
        return JsonValueLocator.TryLocate(document, JsonPath.Parse(path), out JsonValueRange range)
            ? Encoding.UTF8.GetString(document, range.Start, range.Length)
            : null;
    }

    [Theory]
    [InlineData("""{"a": 1}""", "a", "1")]
    [InlineData("""{"a": {"b": {"c": "deep"}}}""", "a.b.c", "\"deep\"")]
    [InlineData("""{"a": [10, 20, 30]}""", "a.2", "30")]
    [InlineData("""{"a": [{"id": 1}, {"id": 2}]}""", "a.1.id", "2")]
    [InlineData("""{"a": {"0": "key zero"}}""", "a.0", "\"key zero\"")]
    [InlineData("""{"a": {"b": [1, {"c": 2}]}}""", "a.b", """[1, {"c": 2}]""")]
    [InlineData("""{"\u0069d": 7}""", "id", "7")]
    [InlineData("""{"id": 1, "id": 2}""", "id", "2")]
    [InlineData("""{"n": 1.50e+3}""", "n", "1.50e+3")]
    [InlineData("""{"x": null}""", "x", "null")]
    [InlineData("""[1, 2]""", "", "[1, 2]")]
    public void TryLocate_ExistingPath_ReturnsTheRawValue(string json, string path, string expected) =>
        Assert.Equal(expected, Locate(json, path));

    [Theory]
    [InlineData("""{"a": 1}""", "b")]
    [InlineData("""{"a": 1}""", "a.b")]
    [InlineData("""{"a": "text"}""", "a.0")]
    [InlineData("""{"a": [1, 2]}""", "a.2")]
    [InlineData("""{"a": [1, 2]}""", "a.x")]
    [InlineData("""{"a": [1, 2]}""", "a.01")]
    [InlineData("""{"user": "bob", "id": 5}""", "user.id")]
    [InlineData("""{"a": {"b": 1""", "a.b")]
    [InlineData("""not json""", "a")]
    [InlineData("", "a")]
    public void TryLocate_MissingOrMalformed_ReturnsFalse(string json, string path) =>
        Assert.Null(Locate(json, path));

    [Fact]
    public void TryLocate_ReportsKinds()
    {
        byte[] document = """{"s": "x", "n": 1, "t": true, "o": {}, "a": []}"""u8.ToArray();
        var kinds = new[] { "s", "n", "t", "o", "a" }.Select(p =>
        {
            Assert.True(JsonValueLocator.TryLocate(document, JsonPath.Parse(p), out JsonValueRange range));
            return range.Kind;
        });
        Assert.Equal(new[] { JsonTokenType.String, JsonTokenType.Number, JsonTokenType.True, JsonTokenType.StartObject, JsonTokenType.StartArray }, kinds);
    }

    [Fact]
    public void TryLocate_WarmCall_AllocatesNothing()
    {
        byte[] document = """{"skip": {"big": [1, 2, 3]}, "user": {"items": [{"id": 1}, {"id": 2}]}}"""u8.ToArray();
        JsonPath path = JsonPath.Parse("user.items.1.id");
        JsonValueLocator.TryLocate(document, path, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool found = JsonValueLocator.TryLocate(document, path, out JsonValueRange range);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(found);
        Assert.Equal((byte)'2', document[range.Start]);
        Assert.Equal(0, allocated);
    }
}

using System.Text;
using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

public class JsonArraysTests
{
    private static string[]? List(string json, int max)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        var elements = new List<JsonValueRange>();
        return JsonArrays.TryListElements(bytes, 0, max, elements)
            ? elements.Select(e => Encoding.UTF8.GetString(bytes, e.Start, e.Length)).ToArray()
            : null;
    }

    [Fact]
    public void TryListElements_EveryKindOfElement_RawText()
    {
        Assert.Equal(["1", "\"two\"", """{"a": [3]}""", "[4, 5]", "null", "true"], List("""[1, "two", {"a": [3]}, [4, 5], null, true]""", 10)!);
        Assert.Equal([], List("[]", 10)!);
    }

    [Fact]
    public void TryListElements_RangesAreOffset()
    {
        var elements = new List<JsonValueRange>();
        Assert.True(JsonArrays.TryListElements("[7, 8]"u8, 100, 10, elements));
        Assert.Equal([101, 104], elements.Select(e => e.Start));
        Assert.Equal(JsonTokenType.Number, elements[0].Kind);
    }

    [Theory]
    [InlineData("""{"a": 1}""")]
    [InlineData("\"text\"")]
    [InlineData("[1, 2")]
    [InlineData("")]
    public void TryListElements_NotAnArray_False(string json) => Assert.Null(List(json, 10));

    [Fact]
    public void TryListElements_MoreThanMax_False_AtMaxTrue()
    {
        Assert.Null(List("[1, 2, 3]", 2));
        Assert.Equal(["1", "2", "3"], List("[1, 2, 3]", 3)!);
    }

    private static string Join(string json, string path, string name, params string?[] values)
    {
        using var output = new PooledBuffer();
        byte[] nameJson = Encoding.UTF8.GetBytes("\"" + name.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
        JsonArrays.WriteJoined(
            Encoding.UTF8.GetBytes(json),
            JsonPath.Parse(path),
            nameJson,
            Encoding.UTF8.GetBytes(name),
            values.Select(v => v is null ? ReadOnlyMemory<byte>.Empty : (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(v)).ToList(),
            output);
        string result = Encoding.UTF8.GetString(output.WrittenSpan);
        using JsonDocument _ = JsonDocument.Parse(result); // always valid JSON
        return result;
    }

    [Fact]
    public void WriteJoined_EachObjectGetsItsValue_OutsideTheArrayCopiedByteForByte()
    {
        Assert.Equal(
            """{"x": 1, "o": {"items": [{"id":1,"s":{"n":1}},{"id":2,"s":{"n":2}}]}, "y": [2]}""",
            Join("""{"x": 1, "o": {"items": [{"id":1}, {"id":2}]}, "y": [2]}""", "o.items", "s", """{"n":1}""", """{"n":2}"""));
    }

    [Fact]
    public void WriteJoined_ReplacesAnExistingMember_Anywhere_KeepsOthersInOrder()
    {
        Assert.Equal("""[{"a":1,"s":"new"},{"a":2,"s":"new2"},{"s":"new3"}]""",
            Join("""[{"a":1,"s":"old"}, {"s":0,"a":2}, {"s":[1]}]""", "", "s", "\"new\"", "\"new2\"", "\"new3\""));
    }

    [Fact]
    public void WriteJoined_NoValue_OrNotAnObject_ElementUnchanged()
    {
        Assert.Equal("""[{"id":1},5,{"id":3,"s":true},{},{"s":2}]""",
            Join("""[{"id":1}, 5, {"id":3}, {}, {}]""", "", "s", null, "7", "true", null, "2"));
    }

    [Fact]
    public void WriteJoined_EscapedMemberNameMatched_NewNameEscaped()
    {
        Assert.Equal("""[{"s\"q":1}]""", Join("""[{"\u0073\"q":0}]""", "", "s\"q", "1"));
    }

    [Theory]
    [InlineData("""{"items": 3}""")]
    [InlineData("""{"other": []}""")]
    public void WriteJoined_NoArrayAtThePath_DocumentCopied(string json) =>
        Assert.Equal(json, Join(json, "items", "s", "1"));
}

using System.Text;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

public class JsonObjectBodyTests
{
    [Theory]
    [InlineData("""{"a": 1}""", """{"a": 1}""")]
    [InlineData(" \r\n\t{} ", "{}")]
    [InlineData("""{"a": [1, {"b": null}]} trailing bytes""", """{"a": [1, {"b": null}]}""")]
    public void TryGetObject_OneObject_ReturnsItsRange(string body, string expected)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(body);
        Assert.True(JsonObjectBody.TryGetObject(bytes, out int start, out int length));
        Assert.Equal(expected, Encoding.UTF8.GetString(bytes, start, length));
    }

    public static TheoryData<string> NotAnObject => new()
    {
        "",
        "   ",
        "[1, 2]",
        "\"text\"",
        "42",
        "null",
        """{"a": [1, 2""",
        """{"a": 1,}""",
        """{'a': 1}""",
        new string('{', 1) + string.Concat(Enumerable.Repeat("\"a\":{", 64)) + new string('}', 65),
    };

    [Theory]
    [MemberData(nameof(NotAnObject))]
    public void TryGetObject_NotOneValidObject_ReturnsFalse(string body) =>
        Assert.False(JsonObjectBody.TryGetObject(Encoding.UTF8.GetBytes(body), out _, out _));

    [Fact]
    public void TryGetObject_NestingWithinTheLimit_IsAccepted()
    {
        string body = "{" + string.Concat(Enumerable.Repeat("\"a\":{", 62)) + new string('}', 63);
        Assert.True(JsonObjectBody.TryGetObject(Encoding.UTF8.GetBytes(body), out _, out _));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(63)]
    public void TryGetObject_MaxDepth_AcceptsThatManyLevelsAndNotOneMore(int maxDepth)
    {
        // Objects and arrays alternate: both count as a level, as for Utf8JsonReader's MaxDepth.
        Assert.True(JsonObjectBody.TryGetObject(Nested(maxDepth), out _, out _, maxDepth));
        Assert.False(JsonObjectBody.TryGetObject(Nested(maxDepth + 1), out _, out _, maxDepth));
        Assert.True(JsonObjectBody.TryGetObject(Nested(maxDepth + 1), out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void TryGetObject_MaxDepthOutOfRange_Throws(int maxDepth) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => JsonObjectBody.TryGetObject("{}"u8, out _, out _, maxDepth));

    /// <summary><c>{"a":[{"a":[...]}]}</c>, <paramref name="levels"/> containers deep.</summary>
    private static byte[] Nested(int levels)
    {
        var text = new StringBuilder();
        for (int level = 0; level < levels; level++)
        {
            text.Append(level % 2 == 0 ? "{\"a\":" : "[");
        }

        text.Append('1');
        for (int level = levels - 1; level >= 0; level--)
        {
            text.Append(level % 2 == 0 ? '}' : ']');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xC0, 0xAE, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)'}' })]
    public void TryGetObject_StringBytesNotUtf8_ReturnsFalse(byte[] body) =>
        Assert.False(JsonObjectBody.TryGetObject(body, out _, out _));

    [Fact]
    public void TryGetObject_InvalidBytesAfterTheObject_ObjectStillAccepted() =>
        Assert.True(JsonObjectBody.TryGetObject([.. """{"a": "é"}"""u8, 0xFF], out _, out int length) && length == """{"a": "é"}"""u8.Length);
}

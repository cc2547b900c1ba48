using System.Text;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Tests.Http;

public class PercentEncodingTests
{
    private static string Encode(string value, UrlComponent component)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        var destination = new byte[PercentEncoding.MaxEncodedLength(utf8.Length)];
        int written = PercentEncoding.Encode(utf8, component, destination);
        return Encoding.ASCII.GetString(destination, 0, written);
    }

    [Theory]
    [InlineData("plain-Value_1.2~", "plain-Value_1.2~")]
    [InlineData("../../admin", "..%2F..%2Fadmin")]
    [InlineData("a?b#c", "a%3Fb%23c")]
    [InlineData("100%", "100%25")]
    [InlineData("with space", "with%20space")]
    [InlineData("cr\r\nlf", "cr%0D%0Alf")]
    [InlineData("tab\tnul\0del\u007f", "tab%09nul%00del%7F")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    [InlineData("m;x=1", "m%3Bx=1")]
    [InlineData("a,b:c@d!$'()*+=&", "a,b:c@d!$'()*+=&")]
    [InlineData("[]{}<>\"\\^`|", "%5B%5D%7B%7D%3C%3E%22%5C%5E%60%7C")]
    public void Encode_PathSegment_KeepsOnlyWhatCannotChangeThePath(string value, string expected) =>
        Assert.Equal(expected, Encode(value, UrlComponent.PathSegment));

    [Theory]
    [InlineData("a&admin=true", "a%26admin%3Dtrue")]
    [InlineData("a+b", "a%2Bb")]
    [InlineData("x#frag", "x%23frag")]
    [InlineData("k;v", "k%3Bv")]
    [InlineData("what?", "what%3F")]
    [InlineData("a b", "a%20b")]
    [InlineData("../x,y:z@w", "../x,y:z@w")]
    [InlineData("\u00fc", "%C3%BC")]
    public void Encode_QueryValue_CannotAddParameters(string value, string expected) =>
        Assert.Equal(expected, Encode(value, UrlComponent.QueryValue));

    [Theory]
    [InlineData("a%2Fb", "a/b")]
    [InlineData("caf%C3%A9", "caf\u00e9")]
    [InlineData("a+b", "a+b")]
    [InlineData("%25", "%")]
    [InlineData("plain", "plain")]
    public void TryDecode_ValidEscapes_Decodes(string escaped, string expected)
    {
        Assert.True(PercentEncoding.TryDecode(escaped, out string decoded));
        Assert.Equal(expected, decoded);
    }

    [Theory]
    [InlineData("%zz")]
    [InlineData("%4")]
    [InlineData("abc%")]
    [InlineData("%C3%28")]
    [InlineData("%FF")]
    [InlineData("a%00b")]
    public void TryDecode_MalformedOrNotUtf8_Fails(string escaped) =>
        Assert.False(PercentEncoding.TryDecode(escaped, out _));

    [Fact]
    public void TryDecode_LongSegment_UsesPooledBuffer()
    {
        string value = new('x', 1000);
        Assert.True(PercentEncoding.TryDecode(value + "%2F", out string decoded));
        Assert.Equal(value + "/", decoded);
    }
}

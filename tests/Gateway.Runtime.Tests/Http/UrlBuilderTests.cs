using System.Text;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Http;

public class UrlBuilderTests
{
    private static string? Build(string json, string path, UrlComponent component, string prefix = "http://h:1/x/")
    {
        byte[] document = Encoding.UTF8.GetBytes(json);
        var url = new UrlBuilder(stackalloc byte[16]);
        try
        {
            url.AppendLiteral(prefix);
            return url.TryAppendJsonValue(document, JsonPath.Parse(path), component) ? url.ToUrl() : null;
        }
        finally
        {
            url.Dispose();
        }
    }

    // Found by the 1,000,000-case fuzz run: a backend value that spells its dots as JSON escapes is ".." once decoded,
    // and the finished URL is refused as a raw ".." is, whatever the spelling (the step fails; nothing is sent).
    [Theory]
    [InlineData("""{"id": "\u002e\u002e"}""")]
    [InlineData("""{"id": "\u002e."}""")]
    [InlineData("""{"id": "\u002E"}""")]
    [InlineData("""{"id": ".."}""")]
    [InlineData("""{"id": "."}""")]
    public void TryAppendJsonValue_DotsAsAWholeSegmentHoweverSpelled_NoUrl(string json) =>
        Assert.Null(Build(json, "id", UrlComponent.PathSegment));

    [Theory]
    [InlineData("""{"id": "\u002e\u002e"}""", "http://h:1/x/a..")]
    [InlineData("""{"id": ".."}""", "http://h:1/x/a..")]
    public void TryAppendJsonValue_DotsInsideALongerSegment_Kept(string json, string expected) =>
        Assert.Equal(expected, Build(json, "id", UrlComponent.PathSegment, "http://h:1/x/a"));

    [Theory]
    [InlineData("""{"id": 42}""", "id", "http://h:1/x/42")]
    [InlineData("""{"n": 1.50}""", "n", "http://h:1/x/1.50")]
    [InlineData("""{"n": 1e3}""", "n", "http://h:1/x/1e3")]
    [InlineData("""{"n": -7}""", "n", "http://h:1/x/-7")]
    [InlineData("""{"b": false}""", "b", "http://h:1/x/false")]
    [InlineData("""{"s": "a\/b\u00e9\n"}""", "s", "http://h:1/x/a%2Fb%C3%A9%0A")]
    [InlineData("""{"s": "\ud83d\ude00"}""", "s", "http://h:1/x/%F0%9F%98%80")]
    [InlineData("""{"a": [1, "x,y", true]}""", "a", "http://h:1/x/1,x%2Cy,true")]
    [InlineData("""{"u": {"items": [{"id": 5}, {"id": 6}]}}""", "u.items.1.id", "http://h:1/x/6")]
    public void TryAppendJsonValue_Injectable_RendersAndEncodes(string json, string path, string expected) =>
        Assert.Equal(expected, Build(json, path, UrlComponent.PathSegment));

    [Theory]
    [InlineData("""{"v": null}""", "v")]
    [InlineData("""{"v": {"a": 1}}""", "v")]
    [InlineData("""{"v": [1, null]}""", "v")]
    [InlineData("""{"v": [[1]]}""", "v")]
    [InlineData("""{"v": [{"a": 1}]}""", "v")]
    [InlineData("""{"v": ""}""", "v")]
    [InlineData("""{"v": []}""", "v")]
    [InlineData("""{"w": 1}""", "v")]
    [InlineData("""{"v": "\ud800"}""", "v")]
    [InlineData("""{"v": ".."}""", "v")]
    [InlineData("""{"v": "."}""", "v")]
    public void TryAppendJsonValue_NotInjectableInAPathSegment_Fails(string json, string path) =>
        Assert.Null(Build(json, path, UrlComponent.PathSegment));

    [Fact]
    public void TryAppendJsonValue_EmptyStringInQuery_IsAllowed() =>
        Assert.Equal("http://h:1/x?q=", Build("""{"v": ""}""", "v", UrlComponent.QueryValue, "http://h:1/x?q="));

    [Fact]
    public void TryAppendJsonValue_Failure_LeavesTheBuilderAsItWas()
    {
        byte[] document = """{"v": [1, 2, null]}"""u8.ToArray();
        var url = new UrlBuilder(stackalloc byte[64]);
        url.AppendLiteral("http://h/"u8);
        Assert.False(url.TryAppendJsonValue(document, JsonPath.Parse("v"), UrlComponent.QueryValue));
        Assert.Equal("http://h/", url.ToString());
        url.Dispose();
    }

    [Theory]
    [InlineData("http://h/a/./b")]
    [InlineData("http://h/a/../b")]
    [InlineData("http://h/a/%2E%2e")]
    [InlineData("http://h/a/.%2E/b?x=1")]
    public void ToUrl_DotSegmentInPath_IsNull(string literal)
    {
        var url = new UrlBuilder(stackalloc byte[64]);
        url.AppendLiteral(literal);
        Assert.Null(url.ToUrl());
        url.Dispose();
    }

    [Theory]
    [InlineData("http://h/a/.../b")]
    [InlineData("http://h/a/x.y")]
    [InlineData("http://h/a?x=..")]
    [InlineData("http://h/a/%2E%2Ex")]
    public void ToUrl_NoDotSegment_IsTheUrl(string literal)
    {
        var url = new UrlBuilder(stackalloc byte[64]);
        url.AppendLiteral(literal);
        Assert.Equal(literal, url.ToUrl());
        url.Dispose();
    }

    [Fact]
    public void AppendEncoded_LongValue_GrowsBeyondTheInitialBuffer()
    {
        string value = new('é', 2000);
        var url = new UrlBuilder(stackalloc byte[8]);
        url.AppendLiteral("http://h/");
        url.AppendEncoded(value, UrlComponent.PathSegment);
        Assert.Equal("http://h/" + string.Concat(Enumerable.Repeat("%C3%A9", 2000)), url.ToString());
        url.Dispose();
    }

    [Fact]
    public void TryAppendJsonValue_WarmCall_AllocatesNothing()
    {
        byte[] document = """{"user": {"id": "u 1", "tags": ["a", "b"]}, "n": 12}"""u8.ToArray();
        JsonPath id = JsonPath.Parse("user.id");
        JsonPath tags = JsonPath.Parse("user.tags");
        Render(document, id, tags);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int length = Render(document, id, tags);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("http://backend:8080/users/u%201?tags=a,b".Length, length);
        Assert.Equal(0, allocated);
    }

    private static int Render(byte[] document, JsonPath id, JsonPath tags)
    {
        var url = new UrlBuilder(stackalloc byte[256]);
        url.AppendLiteral("http://backend:8080/users/"u8);
        url.TryAppendJsonValue(document, id, UrlComponent.PathSegment);
        url.AppendLiteral("?tags="u8);
        url.TryAppendJsonValue(document, tags, UrlComponent.QueryValue);
        int length = url.Length;
        url.Dispose();
        return length;
    }
}

using System.Text;
using Gateway.Components.RequestTemplates;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Templates;

namespace Gateway.Runtime.Tests.Templates;

/// <summary>The rendering table of docs/configuration.md, position by position.</summary>
public class TemplateRenderingTests
{
    private static readonly byte[] s_doc = Encoding.UTF8.GetBytes("""
        {"s": "a \"q\" é", "n": 1.50, "big": 1e3, "t": true, "f": false, "z": null, "o": {"k": 1},
         "list": ["x", 2, false], "mixed": [1, null], "nested": [[1]], "items": [{"id": 7}, {"id": "b"}], "holes": [{"id": 1}, {}],
         "empty": [], "cr": "a\r\nX-Evil: 1", "tab": "a\tb"}
        """);

    public static TheoryData<string, string?> JsonValues => new()
    {
        // path, the JSON a whole-string slot receives (null: the step fails)
        { "s", "\"a \\\"q\\\" é\"" },
        { "n", "1.50" },
        { "big", "1e3" },
        { "t", "true" },
        { "z", "null" },
        { "o", "{\"k\": 1}" },
        { "list", "[\"x\", 2, false]" },
        { "items.*.id", "[7,\"b\"]" },
        { "items.1.id", "\"b\"" },
        { "empty.*.id", "[]" },
        { "holes.*.id", null },
        { "missing", null },
        { "s.*", null },
    };

    [Theory]
    [MemberData(nameof(JsonValues))]
    public void JsonValue_KeepsTheValuesType(string path, string? expected)
    {
        using var body = new JsonBodyBuilder();
        bool ok = body.TryAppendValue(s_doc, JsonPath.Parse(path));

        Assert.Equal(expected is not null, ok);
        if (ok)
        {
            using PooledBuffer written = body.Detach();
            Assert.Equal(expected, Encoding.UTF8.GetString(written.WrittenSpan));
        }
    }

    public static TheoryData<string, string?, string?> TextValues => new()
    {
        // path, inside a JSON string, in a header (null: the step fails)
        { "s", "a \\\"q\\\" é", null },
        { "n", "1.50", "1.50" },
        { "t", "true", "true" },
        { "list", "x,2,false", "x,2,false" },
        { "items.*.id", "7,b", "7,b" },
        { "z", null, null },
        { "o", null, null },
        { "mixed", null, null },
        { "nested", null, null },
        { "cr", "a\\r\\nX-Evil: 1", null },
        { "tab", "a\\tb", "a\tb" },
    };

    [Theory]
    [MemberData(nameof(TextValues))]
    public void TextValue_InAJsonStringAndInAHeader(string path, string? inJson, string? inHeader)
    {
        using var body = new JsonBodyBuilder();
        bool ok = body.TryAppendText(s_doc, JsonPath.Parse(path));
        Assert.Equal(inJson is not null, ok);
        if (ok)
        {
            using PooledBuffer written = body.Detach();
            Assert.Equal(inJson, Encoding.UTF8.GetString(written.WrittenSpan));
        }

        using var header = new HeaderValueBuilder();
        header.AppendLiteral("v="u8);
        string? value = header.TryAppendJsonValue(s_doc, JsonPath.Parse(path)) ? header.ToValue() : null;
        Assert.Equal(inHeader is null ? null : "v=" + inHeader, value);
    }

    [Theory]
    [InlineData("plain", "\"plain\"", "plain")]
    [InlineData("quote \" back \\ nl \n", "\"quote \\\" back \\\\ nl \\n\"", "quote \\\" back \\\\ nl \\n")]
    [InlineData("é 🏨", "\"é 🏨\"", "é 🏨")]
    public void TextSource_IsJsonEscaped(string text, string asValue, string asText)
    {
        using var value = new JsonBodyBuilder();
        Assert.True(value.TryAppendValue(text));
        using PooledBuffer written = value.Detach();
        Assert.Equal(asValue, Encoding.UTF8.GetString(written.WrittenSpan));

        using var inside = new JsonBodyBuilder();
        Assert.True(inside.TryAppendText(text));
        using PooledBuffer writtenInside = inside.Detach();
        Assert.Equal(asText, Encoding.UTF8.GetString(writtenInside.WrittenSpan));
    }

    [Fact]
    public void TextSource_Missing_Fails()
    {
        using var body = new JsonBodyBuilder();
        Assert.False(body.TryAppendValue((string?)null));
        Assert.False(body.TryAppendText((string?)null));
        using var header = new HeaderValueBuilder();
        Assert.False(header.TryAppendText(null));
    }

    [Theory]
    [InlineData("ok value\twith tab", "ok value\twith tab")]
    [InlineData("line\r\nX-Injected: 1", null)]
    [InlineData("nul\0", null)]
    [InlineData("délai", null)]
    public void Header_OnlyVisibleAsciiSpacesAndTabs(string text, string? expected)
    {
        using var header = new HeaderValueBuilder();
        Assert.True(header.TryAppendText(text));
        Assert.Equal(expected, header.ToValue());
    }

    [Theory]
    [InlineData("items.*.id", UrlComponent.PathSegment, "/x/7,b")]
    [InlineData("list", UrlComponent.QueryValue, "/x/x,2,false")]
    [InlineData("empty.*.id", UrlComponent.PathSegment, null)]
    [InlineData("empty.*.id", UrlComponent.QueryValue, "/x/")]
    [InlineData("o", UrlComponent.QueryValue, null)]
    public void Url_WildcardListsAndEmptySegments(string path, UrlComponent component, string? expected)
    {
        var url = new UrlBuilder(stackalloc byte[64]);
        try
        {
            url.AppendLiteral("/x/"u8);
            bool ok = url.TryAppendJsonValue(s_doc, JsonPath.Parse(path), component);
            Assert.Equal(expected, ok ? url.ToString() : null);
        }
        finally
        {
            url.Dispose();
        }
    }

    [Theory]
    [InlineData(null, UrlComponent.QueryValue, null)]
    [InlineData("", UrlComponent.PathSegment, null)]
    [InlineData("", UrlComponent.QueryValue, "/x/")]
    [InlineData("a/b c", UrlComponent.PathSegment, "/x/a%2Fb%20c")]
    public void Url_TextValues(string? text, UrlComponent component, string? expected)
    {
        var url = new UrlBuilder(stackalloc byte[64]);
        try
        {
            url.AppendLiteral("/x/"u8);
            Assert.Equal(expected, url.TryAppendText(text, component) ? url.ToString() : null);
        }
        finally
        {
            url.Dispose();
        }
    }
}

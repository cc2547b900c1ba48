using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

public class JsonMergerTests
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static string Merge(params (string Json, string? Group)[] sources)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            JsonMerger.WriteMerged(writer, sources.Select(s => new MergeSource(Encoding.UTF8.GetBytes(s.Json), s.Group is null ? null : Encoding.UTF8.GetBytes(s.Group))).ToArray());
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Fact]
    public void WriteMerged_NoSources_EmptyObject() => Assert.Equal("{}", Merge());

    [Fact]
    public void WriteMerged_EqualKeys_FirstPositionLastValue() =>
        Assert.Equal("""{"a":3,"b":2,"c":4}""", Merge(("""{"a": 1, "b": 2}""", null), ("""{"a": 3, "c": 4}""", null)));

    [Fact]
    public void WriteMerged_NestedObjects_AreReplacedNotDeepMerged() =>
        Assert.Equal("""{"o":{"y": 2}}""", Merge(("""{"o": {"x": 1}}""", null), ("""{"o": {"y": 2}}""", null)));

    [Fact]
    public void WriteMerged_Groups_WrapTheWholeObject() =>
        Assert.Equal("""{"id":1,"g":{"id": 2, "n": [1.50]}}""", Merge(("""{"id": 1}""", null), ("""{"id": 2, "n": [1.50]}""", "g")));

    [Fact]
    public void WriteMerged_GroupNameEqualToAKey_LaterWins() =>
        Assert.Equal("""{"g":{"inner": true},"x":1}""", Merge(("""{"g": "plain", "x": 1}""", null), ("""{"inner": true}""", "g")));

    [Fact]
    public void WriteMerged_NumberLiterals_AreCopiedByteForByte() =>
        Assert.Equal("""{"a":1.50,"b":1e3,"c":123456789012345678901234567890,"d":-0.0}""", Merge(("""{"a": 1.50, "b": 1e3, "c": 123456789012345678901234567890, "d": -0.0}""", null)));

    [Fact]
    public void WriteMerged_NonAsciiNamesAndValues_ArePreserved() =>
        Assert.Equal("""{"café":"Grand Hôtel","日本":"東京"}""", Merge(("""{"café": "Grand Hôtel", "日本": "東京"}""", null)));

    [Fact]
    public void WriteMerged_EscapedAndPlainSpellingsOfOneName_AreTheSameKey() =>
        Assert.Equal("""{"id":2}""", Merge(("""{"\u0069d": 1}""", null), ("""{"id": 2}""", null)));

    [Fact]
    public void WriteMerged_NamesNeedingEscapes_AreWrittenAsValidJson()
    {
        string merged = Merge(("""{"a\"b": 1, "line\nbreak": 2}""", null));
        using JsonDocument document = JsonDocument.Parse(merged);
        Assert.Equal(1, document.RootElement.GetProperty("a\"b").GetInt32());
        Assert.Equal(2, document.RootElement.GetProperty("line\nbreak").GetInt32());
    }

    [Fact]
    public void WriteMerged_DuplicateKeysInOneSource_LastWins() =>
        Assert.Equal("""{"k":"second"}""", Merge(("""{"k": "first", "k": "second"}""", null)));

    [Fact]
    public void WriteMerged_ManyKeys_KeepsOrderAndOverwrites()
    {
        string first = "{" + string.Join(",", Enumerable.Range(0, 200).Select(i => $"\"k{i}\": {i}")) + "}";
        string second = "{" + string.Join(",", Enumerable.Range(100, 200).Select(i => $"\"k{i}\": \"v{i}\"")) + "}";
        using JsonDocument merged = JsonDocument.Parse(Merge((first, null), (second, null)));
        string[] names = merged.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"k{i}"), names);
        Assert.Equal(99, merged.RootElement.GetProperty("k99").GetInt32());
        Assert.Equal("v150", merged.RootElement.GetProperty("k150").GetString());
    }

    [Fact]
    public void WriteMerged_WarmCall_AllocatesNothing()
    {
        var sources = new[]
        {
            new MergeSource("""{"id": 25, "name": "Hotel", "price": 129.50, "tags": ["a", "b"]}"""u8.ToArray(), null),
            new MergeSource("""{"id": "barcelona", "country": "ES"}"""u8.ToArray(), "destination"u8.ToArray()),
            new MergeSource("""{"name": "renamed", "\u0065xtra": true}"""u8.ToArray(), null),
        };
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer, s_options);
        JsonMerger.WriteMerged(writer, sources);
        writer.Flush();

        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        long before = GC.GetAllocatedBytesForCurrentThread();
        JsonMerger.WriteMerged(writer, sources);
        writer.Flush();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("""{"id":25,"name":"renamed","price":129.50,"tags":["a", "b"],"destination":{"id": "barcelona", "country": "ES"},"extra":true}""", Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(0, allocated);
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

// Backend bodies are untrusted: mutated documents must never make the readers throw, and whatever
// JsonObjectBody accepts must merge without throwing.
public class MalformedJsonTests
{
    private static readonly byte[] s_document = Encoding.UTF8.GetBytes("""
        {"user":{"id":5,"name":"b\u00f6b \"x\"","tags":["a","b\/c",1e3]},"items":[{"id":"i0"},{"id":null},[1,2]],
         "\u0069d":"x\uD83D\uDE00","n":-1.50,"t":true,"f":false,"z":null,"e":{},"a":[]}
        """);

    private static readonly JsonPath[] s_paths =
    [
        JsonPath.Parse(""), JsonPath.Parse("user"), JsonPath.Parse("user.id"), JsonPath.Parse("user.name"),
        JsonPath.Parse("user.tags"), JsonPath.Parse("items.0.id"), JsonPath.Parse("items.2.1"), JsonPath.Parse("id"),
        JsonPath.Parse("n"), JsonPath.Parse("t"), JsonPath.Parse("z"), JsonPath.Parse("a"), JsonPath.Parse("e.x"),
    ];

    private static IEnumerable<byte[]> Mutations(int seed, int count)
    {
        var random = new Random(seed);
        byte[] interesting = "{}[]\",:\\u0123456789eE+-.tfn \u0001"u8.ToArray();
        for (int i = 0; i < count; i++)
        {
            byte[] mutated = (byte[])s_document.Clone();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(mutated.Length);
                mutated[at] = random.Next(3) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
            }

            yield return random.Next(4) == 0 ? mutated[..random.Next(mutated.Length)] : mutated;
        }
    }

    [Fact]
    public void Readers_MutatedDocuments_NeverThrow()
    {
        Span<byte> urlBuffer = stackalloc byte[64];
        foreach (byte[] json in Mutations(seed: 1, count: 3000))
        {
            foreach (JsonPath path in s_paths)
            {
                JsonValueLocator.TryLocate(json, path, out _);
                foreach (UrlComponent component in new[] { UrlComponent.PathSegment, UrlComponent.QueryValue })
                {
                    var builder = new UrlBuilder(urlBuffer);
                    builder.TryAppendJsonValue(json, path, component);
                    Assert.True(Ascii.IsValid(builder.WrittenSpan));
                    builder.Dispose();
                }
            }

            JsonObjectBody.TryGetObject(json, out _, out _);
        }
    }

    [Fact]
    public void WriteMerged_AnyAcceptedBody_MergesToValidJson()
    {
        int accepted = 0;
        foreach (byte[] json in Mutations(seed: 2, count: 3000))
        {
            if (!JsonObjectBody.TryGetObject(json, out int start, out int length))
            {
                continue;
            }

            accepted++;
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                JsonMerger.WriteMerged(writer, [new(s_document, null), new(json.AsMemory(start, length), null), new(json.AsMemory(start, length), "g"u8.ToArray())]);
            }

            var reader = new Utf8JsonReader(buffer.WrittenSpan);
            while (reader.Read())
            {
            }
        }

        Assert.True(accepted > 100, $"only {accepted} mutated bodies were valid objects");
    }

    [Theory]
    [InlineData("""{"x\uD800": 1, "id": 2}""")]
    [InlineData("""{"\uDC00": 1}""")]
    public void LoneSurrogateInAName_BodyRejectedAndLocatorDoesNotThrow(string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        Assert.False(JsonObjectBody.TryGetObject(bytes, out _, out _));
        Exception? thrown = Record.Exception(() => JsonValueLocator.TryLocate(bytes, JsonPath.Parse("id"), out _));
        Assert.Null(thrown);
    }
}

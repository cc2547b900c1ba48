using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Gateway.Components.RequestTemplates;
using Gateway.Components.Shaping;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Shaping;

namespace Gateway.Benchmarks;

/// <summary>The per-request building blocks generated handlers call. Allocations per operation are the figure to watch.</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private static readonly byte[] s_hotel = """{"id": 25, "name": "Hotel Miramar", "stars": 4, "destination_id": "barcelona", "address": {"street": "Passeig de Colom 12", "city": "Barcelona"}, "price_from": 129.50, "tags": ["sea", "city"]}"""u8.ToArray();
    private static readonly byte[] s_destination = """{"id": "barcelona", "name": "Barcelona", "country": "ES", "timezone": "Europe/Madrid"}"""u8.ToArray();
    private static readonly JsonPath s_destinationId = JsonPath.Parse("destination_id");
    private static readonly JsonPath s_city = JsonPath.Parse("address.city");
    private static readonly ShapingPlan s_shaping = new("address", ["city", "street"], null, [new("city", "town")], null);
    private static readonly MergeSource[] s_sources = [new(s_hotel, null), new(s_destination, "destination"u8.ToArray())];
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    private static readonly byte[] s_products20k = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "products-20k.json"));

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private Utf8JsonWriter _writer = null!;

    [GlobalSetup]
    public void Setup() => _writer = new Utf8JsonWriter(_output, s_options);

    private static readonly JsonPath s_name = JsonPath.Parse("name");
    private static readonly JsonPath s_tags = JsonPath.Parse("tags");
    private static readonly JsonPath s_price = JsonPath.Parse("price_from");

    /// <summary>A JSON body template with typed values, a list and text inside a string (gateway/request.body).</summary>
    [Benchmark]
    public int RenderBodyTemplate()
    {
        using var body = new JsonBodyBuilder();
        body.AppendLiteral("{\"hotel\":"u8);
        body.TryAppendValue(s_hotel, s_destinationId);
        body.AppendLiteral(",\"price\":"u8);
        body.TryAppendValue(s_hotel, s_price);
        body.AppendLiteral(",\"tags\":"u8);
        body.TryAppendValue(s_hotel, s_tags);
        body.AppendLiteral(",\"note\":\"booking at "u8);
        body.TryAppendText(s_hotel, s_name);
        body.AppendLiteral("\"}"u8);
        using PooledBuffer written = body.Detach();
        return written.Length;
    }

    /// <summary>A header template with a value from a response (gateway/request.headers).</summary>
    [Benchmark]
    public int RenderHeaderTemplate()
    {
        using var header = new HeaderValueBuilder();
        header.AppendLiteral("Bearer "u8);
        header.TryAppendJsonValue(s_hotel, s_destinationId);
        return header.ToValue()!.Length;
    }

    [Benchmark]
    public int RenderUrlTemplate()
    {
        var url = new UrlBuilder(stackalloc byte[256]);
        url.AppendLiteral("http://backend:8080"u8);
        url.AppendLiteral("/destinations/"u8);
        url.TryAppendJsonValue(s_hotel, s_destinationId, UrlComponent.PathSegment);
        url.AppendLiteral("?hotel="u8);
        url.AppendEncoded("25 & more"u8, UrlComponent.QueryValue);
        int length = url.Length;
        url.Dispose();
        return length;
    }

    [Benchmark]
    public int ValidateObject20K() => JsonObjectBody.TryGetObject(s_products20k, out _, out int length) ? length : 0;

    [Benchmark]
    public long SkipObject20K()
    {
        var reader = new Utf8JsonReader(s_products20k);
        reader.Read();
        reader.Skip();
        return reader.BytesConsumed;
    }

    [Benchmark]
    public long ReadAllTokens20K()
    {
        var reader = new Utf8JsonReader(s_products20k);
        while (reader.Read())
        {
        }

        return reader.BytesConsumed;
    }

    [Benchmark]
    public int ExtractNestedField() => JsonValueLocator.TryLocate(s_hotel, s_city, out JsonValueRange range) ? range.Length : 0;

    [Benchmark]
    public int ShapeTargetAllowMapping()
    {
        _output.ResetWrittenCount();
        s_shaping.Apply(s_hotel, _output);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int MergeTwoBackends()
    {
        _output.ResetWrittenCount();
        _writer.Reset(_output);
        JsonMerger.WriteMerged(_writer, s_sources);
        _writer.Flush();
        return _output.WrittenCount;
    }
}

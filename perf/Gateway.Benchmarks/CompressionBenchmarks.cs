using BenchmarkDotNet.Attributes;
using Gateway.Runtime.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// The cost of compressing one answer the gateway composed, by size and coding, at the level the gateway uses
/// (<see cref="ResponseCompression.Compress"/>): where compression starts to pay (ResponseCompression.MinimumBytes).
/// The bodies are the first <see cref="Size"/> bytes of the 20 KB product list of the load harness. The compressed
/// size of each case is printed once in the set-up.
/// </summary>
[MemoryDiagnoser]
public class CompressionBenchmarks
{
    private static readonly byte[] s_products = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "products-20k.json"));

    private byte[] _body = [];
    private PooledBuffer _output = null!;

    [Params(256, 512, 1024, 1460, 2048, 8192, 20560)]
    public int Size { get; set; }

    [Params(ContentCoding.Gzip, ContentCoding.Brotli)]
    public ContentCoding Coding { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _body = s_products.AsSpan(0, Math.Min(Size, s_products.Length)).ToArray();
        _output = new PooledBuffer(ResponseCompression.OutputCapacity(_body.Length));
        ResponseCompression.Compress(Coding, _body, _output);
        Console.WriteLine($"// {Coding} {_body.Length} bytes -> {_output.Length} bytes");
    }

    [Benchmark]
    public int Compress()
    {
        _output.Clear();
        ResponseCompression.Compress(Coding, _body, _output);
        return _output.Length;
    }
}

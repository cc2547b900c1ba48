using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// Whole generated handlers (perf/load/krakend.json, compiled into this assembly) in process, against an in-memory
/// backend: everything the gateway does per request except the sockets. The allocation column is the per-request
/// figure to drive down.
/// </summary>
[MemoryDiagnoser]
public class HandlerBenchmarks
{
    private static readonly Dictionary<string, byte[]> s_documents =
        BenchmarkHandlers.Documents.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value), StringComparer.Ordinal);

    private BackendRegistry _registry = null!;
    private BenchmarkHandlers _handlers = null!;

    [GlobalSetup]
    public void Setup()
    {
        var definition = Gateway.Benchmarks.Compiled.CompiledGateway.Definition;
        var options = new BackendClientOptions { HandlerFactory = () => new InMemoryBackend() };
        _registry = new BackendRegistry(definition.HostGroups, new Dictionary<string, string>(), options);
        _handlers = new BenchmarkHandlers(_registry);
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Task Passthrough() => _handlers.Passthrough.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), []);

    [Benchmark]
    public Task ParallelAggregation() => _handlers.Aggregate.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), ["25"]);

    [Benchmark]
    public Task SequentialChain() => _handlers.Chain.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), ["25"]);

    /// <summary>A backend that answers from memory with the example documents.</summary>
    private sealed class InMemoryBackend : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = s_documents.TryGetValue(request.RequestUri!.AbsolutePath, out byte[]? body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
            return Task.FromResult(response);
        }
    }
}

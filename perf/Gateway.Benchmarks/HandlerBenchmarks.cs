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
    private static readonly Dictionary<string, byte[]> s_documents = new(StringComparer.Ordinal)
    {
        ["/hotels/25"] = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "hotels", "25.json"))),
        ["/destinations/barcelona"] = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "destinations", "barcelona.json"))),
        ["/rates/25"] = Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "rates", "25.json"))),
    };

    private BackendRegistry _registry = null!;
    private RouteTable _routes = null!;
    private RouteEntry _passthrough = null!;
    private RouteEntry _aggregate = null!;
    private RouteEntry _chain = null!;

    [GlobalSetup]
    public void Setup()
    {
        var definition = Gateway.Benchmarks.Compiled.CompiledGateway.Definition;
        var options = new BackendClientOptions { HandlerFactory = () => new InMemoryBackend() };
        _registry = new BackendRegistry(definition.HostGroups, new Dictionary<string, string>(), options);
        _routes = new RouteTable(definition.CreateRoutes(_registry));
        _passthrough = Find("/passthrough/small");
        _aggregate = Find("/aggregate/{id}");
        _chain = Find("/chain/{id}");

        // Measure the success path only: every benchmark must produce a complete 200.
        foreach ((RouteEntry entry, string[] values) in new[] { (_passthrough, Array.Empty<string>()), (_aggregate, ["25"]), (_chain, ["25"]) })
        {
            DefaultHttpContext context = NewContext();
            entry.Handler.InvokeAsync(context, values).GetAwaiter().GetResult();
            if (context.Response.StatusCode != 200 || context.Response.Headers["X-KrakenD-Completed"] != "true")
            {
                throw new InvalidOperationException($"{entry.Template} answered {context.Response.StatusCode}");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _registry.Dispose();

    [Benchmark]
    public Task Passthrough() => _passthrough.Handler.InvokeAsync(NewContext(), []);

    [Benchmark]
    public Task ParallelAggregation() => _aggregate.Handler.InvokeAsync(NewContext(), ["25"]);

    [Benchmark]
    public Task SequentialChain() => _chain.Handler.InvokeAsync(NewContext(), ["25"]);

    private RouteEntry Find(string template) => _routes.Entries.Single(e => e.Template == template);

    private static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Host = new HostString("gateway.bench");
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        context.Response.Body = Stream.Null;
        return context;
    }

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

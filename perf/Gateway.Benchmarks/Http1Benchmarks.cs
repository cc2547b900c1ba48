using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Forwarding.Http1;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Routing;

namespace Gateway.Benchmarks;

/// <summary>
/// The two pieces of the gateway's own HTTP/1.1 client that run on every backend call, without a socket: writing the
/// request head of the small passthrough's call (request line, <c>Host</c>, the forwarded headers, the end of the head)
/// into the connection's buffer, and parsing a typical nginx response head. Both are meant to allocate nothing. A
/// <c>no-op</c> answer's head keeps every header to relay it (one name and one value string per header: 8 here).
/// </summary>
[MemoryDiagnoser]
public class Http1Benchmarks
{
    private static readonly byte[] s_head = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 02 Dec 2026 13:42:23 GMT\r\nContent-Type: application/json\r\nContent-Length: 186\r\nLast-Modified: Mon, 30 Nov 2026 09:12:01 GMT\r\nConnection: keep-alive\r\nETag: \"6937a1c1-ba\"\r\nAccept-Ranges: bytes\r\n\r\n"u8.ToArray();

    private BackendRegistry _registry = null!;
    private Socket _socket = null!;
    private Http1Pool _pool = null!;
    private Http1Connection _connection = null!;
    private ForwardedRequest _client = null!;
    private BackendDefinition _backend = null!;

    [GlobalSetup]
    public void Setup()
    {
        var definition = Gateway.Benchmarks.Compiled.CompiledGateway.Definition;
        _registry = new BackendRegistry(definition.HostGroups, new Dictionary<string, string>(), new BackendClientOptions());
        // The handler is not run: only its backend's forwarding rules and its endpoint's are read.
        EndpointHandler handler = new RouteTable(definition.CreateRoutes(_registry)).Entries.Single(e => e.Template == "/passthrough/small").Handler;
        _backend = handler.BackendDefinitions[0];
        _client = ForwardedRequest.ReadAsync(BenchmarkHandlers.NewContext(), handler.Endpoint, 1024).AsTask().GetAwaiter().GetResult()!;
        _pool = new Http1Pool("http://backend.perf:8000", "backend.perf", 8000, new BackendClientOptions());
        // Never connected: the benchmarks only write into and parse from its buffers.
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _connection = new Http1Connection(_pool, _socket);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        _pool.Dispose();
        _client.Dispose();
        _registry.Dispose();
    }

    [Benchmark]
    public int WriteRequestHead()
    {
        var head = new Http1HeadWriter(_connection);
        head.RequestLine("GET", "http://backend.perf:8000/hotels/25", "http://backend.perf:8000".Length, _pool);
        BackendCaller.ForwardHeaders(_client, _backend, null, ref head);
        head.End(BackendCaller.ChooseBody(_client, _backend, null, "GET", withBody: true));
        return head.IsValid ? head.Length : -1;
    }

    [Benchmark]
    public int ParseResponseHead()
    {
        _connection.Response.ParseHead(s_head, headRequest: false, wanted: null, contentType: false);
        return _connection.Response.Status;
    }

    [Benchmark]
    public int ParseResponseHeadKeepingAll()
    {
        _connection.Response.ParseHead(s_head, headRequest: false, wanted: null, contentType: false, all: true);
        return _connection.Response.Kept.Count;
    }
}

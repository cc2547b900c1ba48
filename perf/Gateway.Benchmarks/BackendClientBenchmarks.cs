using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// Whole generated handlers (perf/load/krakend.json) calling a real HTTP/1.1 backend over loopback sockets: over the
/// gateway's own HTTP/1.1 client on its event loops (as it ships on Linux) and on .NET's sockets, and over .NET's
/// SocketsHttpHandler (<see cref="BackendHttpClient"/>). The
/// backend is a minimal keep-alive server that answers from prepared bytes and allocates nothing per request, so the
/// allocation column is the gateway's: the request's own objects plus each backend call's.
/// </summary>
[MemoryDiagnoser]
public class BackendClientBenchmarks
{
    private LoopbackBackend _backend = null!;
    private BackendRegistry _registry = null!;
    private BenchmarkHandlers _handlers = null!;

    /// <summary>The backend calls' path: the gateway's own client on its event loops (the default), on .NET's sockets, or .NET's client.</summary>
    public enum BackendPath
    {
        Gateway,
        GatewayOnDotnetSockets,
        Sockets,
    }

    [Params(BackendPath.Gateway, BackendPath.GatewayOnDotnetSockets, BackendPath.Sockets)]
    public BackendPath Client { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = LoopbackBackend.Start(BenchmarkHandlers.Documents);
        var definition = Gateway.Benchmarks.Compiled.CompiledGateway.Definition;
        var options = new BackendClientOptions
        {
            HttpClient = Client == BackendPath.Sockets ? BackendHttpClient.Sockets : BackendHttpClient.Gateway,
            EventLoops = Client == BackendPath.Gateway,
        };
        _registry = new BackendRegistry(definition.HostGroups, new Dictionary<string, string> { ["http://backend.perf:8000"] = _backend.BaseUrl }, options);
        _handlers = new BenchmarkHandlers(_registry, $"over {Client}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        _backend.Dispose();
    }

    [Benchmark]
    public Task Passthrough() => _handlers.Passthrough.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), []);

    [Benchmark]
    public Task ParallelAggregation() => _handlers.Aggregate.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), ["25"]);

    [Benchmark]
    public Task SequentialChain() => _handlers.Chain.Handler.InvokeAsync(BenchmarkHandlers.NewContext(), ["25"]);

    /// <summary>
    /// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers GET by path from prepared response bytes (404 otherwise),
    /// one thread per connection, with one receive buffer per connection: nothing allocated per request.
    /// </summary>
    private sealed class LoopbackBackend : IDisposable
    {
        private static readonly byte[] s_notFound = Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        private readonly Socket _listener;
        private readonly (byte[] Path, byte[] Response)[] _answers;
        private readonly List<Socket> _connections = [];

        private LoopbackBackend(IReadOnlyDictionary<string, string> documents)
        {
            _answers = documents.Select(d =>
            {
                byte[] body = Encoding.UTF8.GetBytes(d.Value);
                byte[] head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
                return (Encoding.ASCII.GetBytes(d.Key), (byte[])[.. head, .. body]);
            }).ToArray();
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(512);
            BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
            new Thread(Accept) { IsBackground = true }.Start();
        }

        public string BaseUrl { get; }

        public static LoopbackBackend Start(IReadOnlyDictionary<string, string> documents) => new(documents);

        private void Accept()
        {
            while (true)
            {
                Socket connection;
                try
                {
                    connection = _listener.Accept();
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }

                lock (_connections)
                {
                    _connections.Add(connection);
                }

                new Thread(() => Serve(connection)) { IsBackground = true }.Start();
            }
        }

        private void Serve(Socket connection)
        {
            byte[] buffer = new byte[16 * 1024];
            int length = 0;
            try
            {
                while (true)
                {
                    int end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        int read = connection.Receive(buffer, length, buffer.Length - length, SocketFlags.None);
                        if (read == 0)
                        {
                            return;
                        }

                        length += read;
                        continue;
                    }

                    // "GET /path HTTP/1.1": the path is between the first two spaces (the query is not part of it).
                    ReadOnlySpan<byte> line = buffer.AsSpan(0, buffer.AsSpan(0, end).IndexOf("\r\n"u8));
                    ReadOnlySpan<byte> target = line[(line.IndexOf((byte)' ') + 1)..];
                    target = target[..target.IndexOf((byte)' ')];
                    int query = target.IndexOf((byte)'?');
                    ReadOnlySpan<byte> path = query < 0 ? target : target[..query];
                    byte[] answer = s_notFound;
                    foreach ((byte[] known, byte[] response) in _answers)
                    {
                        if (path.SequenceEqual(known))
                        {
                            answer = response;
                            break;
                        }
                    }

                    connection.Send(answer);
                    int consumed = end + 4;
                    buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                    length -= consumed;
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                connection.Dispose();
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            lock (_connections)
            {
                _connections.ForEach(c => c.Dispose());
            }
        }
    }
}

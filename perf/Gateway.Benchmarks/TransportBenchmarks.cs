using System.Buffers;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Gateway.Runtime.Transport;

namespace Gateway.Benchmarks;

/// <summary>
/// One round trip of 64 bytes over loopback through the event-loop transport's socket (<see cref="LoopSocket"/>) and,
/// for comparison, .NET's: a send, then a receive that waits for the echo (the loop completes it). A thread echoes on
/// the other end with blocking calls. Both are meant to allocate nothing per operation, waiting ones included.
/// </summary>
[MemoryDiagnoser]
public class TransportBenchmarks
{
    private readonly byte[] _message = new byte[64];
    private readonly byte[] _answer = new byte[256];
    private Socket _listener = null!;
    private Socket _peer = null!;
    private Thread _echo = null!;
    private LoopSocket? _loop;
    private Socket? _dotnet;

    [Params("loop", "sockets")]
    public string Kind { get; set; } = "loop";

    [GlobalSetup]
    public void Setup()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(1);
        Task<Socket> accepting = _listener.AcceptAsync();
        if (Kind == "loop")
        {
            _loop = LoopSocket.ConnectAsync(_listener.LocalEndPoint!, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        else
        {
            _dotnet = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _dotnet.Connect(_listener.LocalEndPoint!);
        }

        _peer = accepting.GetAwaiter().GetResult();
        _peer.NoDelay = true;
        _echo = new Thread(Echo) { IsBackground = true };
        _echo.Start();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _loop?.Dispose();
        _dotnet?.Dispose();
        _peer.Dispose();
        _listener.Dispose();
    }

    // A pooled builder: the benchmark's own async method allocates nothing, so the column is the sockets'.
    [Benchmark]
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> RoundTrip()
    {
        if (_loop is not null)
        {
            await _loop.SendAsync(new ReadOnlySequence<byte>(_message));
            return await _loop.ReceiveAsync(_answer);
        }

        await _dotnet!.SendAsync(_message, SocketFlags.None);
        return await _dotnet.ReceiveAsync(_answer, SocketFlags.None);
    }

    private void Echo()
    {
        byte[] buffer = new byte[256];
        try
        {
            while (true)
            {
                int count = _peer.Receive(buffer);
                if (count == 0)
                {
                    return;
                }

                _peer.Send(buffer, count, SocketFlags.None);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gateway.Runtime.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gateway.Runtime.Tests.Transport;

/// <summary>
/// The event-loop transport's socket (<see cref="LoopSocket"/>) and Kestrel connection (<see cref="LoopConnection"/>)
/// against real loopback sockets, .NET's on the other end: a receive that drained the socket must still complete when
/// more arrives (the readiness it skips a system call on), sends larger than the kernel buffers arrive whole and in
/// order, cancellation and disposal release a waiting operation, and a connection's pipes end as Kestrel expects.
/// </summary>
public sealed class LoopSocketTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Receive_AfterAShortReadDrainedTheSocket_CompletesWhenMoreArrives()
    {
        (LoopSocket socket, Socket peer) = await PairAsync();
        using (peer)
        using (socket)
        {
            Assert.True(socket.NoDelay);
            byte[] buffer = new byte[64];
            // Ping-pong: every receive is short, so each next one waits for the loop's event rather than a system call.
            for (int i = 0; i < 300; i++)
            {
                byte[] message = [(byte)i, (byte)(i + 1), (byte)(i + 2)];
                ValueTask<int> receive;
                switch (i % 3)
                {
                    case 0:
                        // The receive waits first, the bytes come after.
                        receive = socket.ReceiveAsync(buffer);
                        await Task.Delay(1);
                        peer.Send(message);
                        break;
                    case 1:
                        // The bytes arrive (and the loop sees them) before the receive starts.
                        peer.Send(message);
                        await Task.Delay(1);
                        receive = socket.ReceiveAsync(buffer);
                        break;
                    default:
                        // Both at once.
                        receive = socket.ReceiveAsync(buffer);
                        peer.Send(message);
                        break;
                }

                int received = await receive.AsTask().WaitAsync(Patience);
                Assert.Equal(3, received);
                Assert.Equal(message, buffer[..3]);
            }
        }
    }

    [Fact]
    public async Task Receive_PeerClosesWhileItWaits_ReturnsZero()
    {
        (LoopSocket socket, Socket peer) = await PairAsync();
        using (socket)
        {
            byte[] buffer = new byte[16];
            peer.Send("x"u8);
            Assert.Equal(1, await socket.ReceiveAsync(buffer).AsTask().WaitAsync(Patience));
            ValueTask<int> receive = socket.ReceiveAsync(buffer);
            Assert.False(receive.IsCompleted);
            peer.Shutdown(SocketShutdown.Send);
            peer.Dispose();
            Assert.Equal(0, await receive.AsTask().WaitAsync(Patience));
            // After the peer's close every receive calls again, and gets the end again.
            Assert.Equal(0, await socket.ReceiveAsync(buffer).AsTask().WaitAsync(Patience));
        }
    }

    [Fact]
    public async Task Receive_Canceled_ThrowsAndTheSocketStillReceives()
    {
        (LoopSocket socket, Socket peer) = await PairAsync();
        using (peer)
        using (socket)
        {
            byte[] buffer = new byte[16];
            using var cancel = new CancellationTokenSource();
            ValueTask<int> receive = socket.ReceiveAsync(buffer, cancel.Token);
            Assert.False(receive.IsCompleted);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receive.AsTask().WaitAsync(Patience));

            peer.Send("after"u8);
            int received = await socket.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);
            Assert.Equal("after"u8.ToArray(), buffer[..received]);
        }
    }

    [Fact]
    public async Task Dispose_WhileAReceiveWaits_FailsIt()
    {
        (LoopSocket socket, Socket peer) = await PairAsync();
        using (peer)
        {
            ValueTask<int> receive = socket.ReceiveAsync(new byte[16]);
            socket.Dispose();
            SocketException error = await Assert.ThrowsAsync<SocketException>(() => receive.AsTask().WaitAsync(Patience));
            Assert.Equal(SocketError.OperationAborted, error.SocketErrorCode);
            await Assert.ThrowsAsync<SocketException>(() => socket.ReceiveAsync(new byte[16]).AsTask());
        }
    }

    [Fact]
    public async Task Send_ManySegmentsMoreThanTheKernelBuffers_ArriveWholeAndInOrder()
    {
        (LoopSocket socket, Socket peer) = await PairAsync();
        using (peer)
        using (socket)
        {
            // 16 MiB in 40 segments of uneven sizes: sends are partial, wait for the socket to drain, and gather segments.
            byte[] data = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
            ReadOnlySequence<byte> sequence = Segments(data, 40);
            Task<byte[]> reading = Task.Run(async () =>
            {
                var received = new MemoryStream();
                byte[] chunk = new byte[7000];
                while (received.Length < data.Length)
                {
                    int count = await peer.ReceiveAsync(chunk);
                    Assert.NotEqual(0, count);
                    received.Write(chunk, 0, count);
                    if (received.Length < 1024 * 1024)
                    {
                        // A slow reader at first: the sender's buffer fills.
                        await Task.Delay(1);
                    }
                }

                return received.ToArray();
            });

            while (!sequence.IsEmpty)
            {
                int sent = await socket.SendAsync(sequence).AsTask().WaitAsync(Patience);
                Assert.True(sent > 0);
                sequence = sequence.Slice(sent);
            }

            byte[] arrived = await reading.WaitAsync(Patience);
            Assert.True(data.AsSpan().SequenceEqual(arrived));
        }
    }

    [Fact]
    public async Task Connect_NothingListens_Refused()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        SocketException error = await Assert.ThrowsAsync<SocketException>(() => LoopSocket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None).AsTask().WaitAsync(Patience));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task Connection_ClientRequestAnswerAndClose_PipesEndAndClosedFires()
    {
        await using Accepted accepted = await AcceptedAsync();
        (IConnectionListener listener, Socket client, ConnectionContext connection) = (accepted.Listener, accepted.Client, accepted.Connection);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
        // Nagle's algorithm off: an answer written in pieces must not wait for the client's delayed ACK.
        Assert.True(((LoopConnection)connection).Socket.NoDelay);
        Assert.Equal(listener.EndPoint, connection.LocalEndPoint);

        await client.SendAsync("ping"u8.ToArray());
        ReadResult read = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal("ping"u8.ToArray(), read.Buffer.ToArray());
        connection.Transport.Input.AdvanceTo(read.Buffer.End);

        await connection.Transport.Output.WriteAsync("pong"u8.ToArray());
        byte[] answer = new byte[16];
        int count = await client.ReceiveAsync(answer).WaitAsync(Patience);
        Assert.Equal("pong"u8.ToArray(), answer[..count]);

        var closed = new TaskCompletionSource();
        connection.ConnectionClosed.Register(() => closed.TrySetResult());
        client.Shutdown(SocketShutdown.Both);
        read = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.True(read.IsCompleted);
        await closed.Task.WaitAsync(Patience);
        await connection.DisposeAsync().AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task Connection_Aborted_ClientSeesTheEnd()
    {
        await using Accepted accepted = await AcceptedAsync();
        (IConnectionListener listener, Socket client, ConnectionContext connection) = (accepted.Listener, accepted.Client, accepted.Connection);

        connection.Abort(new ConnectionAbortedException("test"));
        byte[] buffer = new byte[16];
        Assert.Equal(0, await client.ReceiveAsync(buffer).WaitAsync(Patience));
        // The input ends with the abort's reason, as with Kestrel's socket transport.
        ConnectionAbortedException reason = await Assert.ThrowsAsync<ConnectionAbortedException>(() => connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Patience));
        Assert.Equal("test", reason.Message);
        await connection.DisposeAsync().AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task Listener_Unbound_AcceptReturnsNull()
    {
        var factory = new LoopTransportFactory(new SharedPools());
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        ValueTask<ConnectionContext?> accept = listener.AcceptAsync();
        await listener.UnbindAsync();
        Assert.Null(await accept.AsTask().WaitAsync(Patience));
        await listener.DisposeAsync();
    }

    /// <summary>A loop listener on loopback, a .NET client connected to it, and the connection it accepted.</summary>
    private static async Task<Accepted> AcceptedAsync()
    {
        var factory = new LoopTransportFactory(new SharedPools());
        IConnectionListener listener = await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint);
        ConnectionContext connection = (await listener.AcceptAsync().AsTask().WaitAsync(Patience))!;
        return new Accepted(listener, client, connection);
    }

    private static async Task<(LoopSocket Socket, Socket Peer)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Task<Socket> accepting = listener.AcceptAsync();
        LoopSocket socket = await LoopSocket.ConnectAsync(listener.LocalEndPoint!, CancellationToken.None).AsTask().WaitAsync(Patience);
        return (socket, await accepting.WaitAsync(Patience));
    }

    private static ReadOnlySequence<byte> Segments(byte[] data, int count)
    {
        var first = new Segment(data.AsMemory(0, 0), 0);
        Segment last = first;
        int at = 0;
        for (int i = 0; i < count && at < data.Length; i++)
        {
            // Uneven pieces; the last one takes the rest.
            int size = i == count - 1 ? data.Length - at : Math.Min(data.Length - at, (data.Length / count) + ((i % 3) - 1) * 1000);
            last = last.Append(data.AsMemory(at, size));
            at += size;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>What <see cref="AcceptedAsync"/> opened; the client and the listener are closed with it.</summary>
    private sealed record Accepted(IConnectionListener Listener, Socket Client, ConnectionContext Connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Listener.DisposeAsync();
        }
    }

    private sealed class SharedPools : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => MemoryPool<byte>.Shared;
    }
}

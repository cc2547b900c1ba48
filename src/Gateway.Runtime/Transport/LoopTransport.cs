using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Runtime.Transport;

/// <summary>
/// Kestrel's connections from the gateway's own event loops (docs/operations.md, "Transport"): the same HTTP parser,
/// limits, timeouts and TLS, with the sockets under them read and written by <see cref="LoopSocket"/> instead of .NET's
/// socket engine. Binds IP endpoints; anything else (a Unix socket) goes to the next transport.
/// </summary>
internal sealed class LoopTransportFactory(IMemoryPoolFactory<byte> pools) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint && OperatingSystem.IsLinux();

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ip = (IPEndPoint)endpoint;
        LoopSocket socket;
        IPEndPoint bound;
        try
        {
            socket = LoopSocket.Listen(ip, 512, out bound);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new AddressInUseException(e.Message, e);
        }

        return ValueTask.FromResult<IConnectionListener>(new LoopListener(socket, bound, pools.Create()));
    }
}

/// <summary>Accepts on a listening <see cref="LoopSocket"/>; each connection goes to the next loop in turn.</summary>
internal sealed class LoopListener(LoopSocket socket, IPEndPoint bound, MemoryPool<byte> pool) : IConnectionListener
{
    /// <summary>How long accepting pauses after an error other than the client's reset.</summary>
    internal static readonly TimeSpan AcceptPause = TimeSpan.FromMilliseconds(100);

    private readonly byte[] _address = GC.AllocateArray<byte>(128, pinned: true);

    // Bound to one address, every connection's local end is known; bound to all, each asks for its own when first needed.
    private readonly IPEndPoint? _local = bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any) ? null : bound;
    private int _unbound;

    public EndPoint EndPoint => bound;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int fd;
            try
            {
                fd = await socket.AcceptAsync(_address, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException) when (Volatile.Read(ref _unbound) != 0)
            {
                return null;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // The client gave up before its connection was taken: the next one.
                continue;
            }
            catch (SocketException)
            {
                // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS): the connection waits in the backlog while
                // others close. Accepting pauses for a moment, neither spinning on the error nor ending (an exception out
                // of here would end Kestrel's accept loop); nginx pauses its accepts the same way. scripts/native-matrix.py
                // checks that a waiting request is served once descriptors free up (with .NET's sockets it is not).
                await Task.Delay(AcceptPause, cancellationToken).ConfigureAwait(false);
                continue;
            }

            IPEndPoint? remote = LoopSocket.ToEndPoint(_address.AsSpan(0, Math.Min(socket.AcceptedAddressLength, _address.Length)));
            LoopSocket accepted;
            try
            {
                accepted = LoopSocket.Adopt(fd, EventLoop.Next(), noDelay: true);
            }
            catch (SocketException)
            {
                _ = Libc.close(fd);
                continue;
            }

            var connection = new LoopConnection(accepted, pool, _local, remote);
            connection.Start();
            return connection;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        Volatile.Write(ref _unbound, 1);
        socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Volatile.Write(ref _unbound, 1);
        socket.Dispose();
        pool.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// One client connection: a receive loop filling Kestrel's input pipe and a send loop draining its output pipe, both on
/// <see cref="LoopSocket"/> with inline pipe schedulers, so a request is parsed, handled and its answer sent on the
/// loop thread that read it. Closing follows Kestrel's socket transport: the receive side ending (FIN, reset, abort)
/// completes the input and fires <see cref="ConnectionClosed"/>; the send side ending shuts the socket down.
/// </summary>
internal sealed class LoopConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature,
    IMemoryPoolFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    /// <summary>The input pipe pauses reading past 1 MiB unparsed, the output pipe its writer past 64 KiB unsent: Kestrel's socket transport's defaults.</summary>
    private const long MaxReadBuffer = 1024 * 1024;

    private const long MaxWriteBuffer = 64 * 1024;

    /// <summary>The least buffer space asked of the pool for a receive (half of Kestrel's 4 KiB block, as its transport asks).</summary>
    private const int MinReceiveBuffer = 2048;

    private static long _lastId;

    private readonly LoopSocket _socket;
    private readonly IDuplexPipe _application;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _shutdownLock = new();
    private readonly TaskCompletionSource _closedFired = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FeatureCollection _features = new(7);
    private IPEndPoint? _local;
    private IDictionary<object, object?>? _items;
    private string? _id;
    private Task? _processing;
    private bool _shutDown;
    private Exception? _shutdownReason;
    private int _closedOnce;

    public LoopConnection(LoopSocket socket, MemoryPool<byte> pool, IPEndPoint? local, IPEndPoint? remote)
    {
        _socket = socket;
        MemoryPool = pool;
        _local = local;
        RemoteEndPoint = remote;
        ConnectionClosed = _closed.Token;
        var input = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, MaxReadBuffer, MaxReadBuffer / 2, useSynchronizationContext: false));
        var output = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, MaxWriteBuffer, MaxWriteBuffer / 2, useSynchronizationContext: false));
        Transport = new DuplexPipe(input.Reader, output.Writer);
        _application = new DuplexPipe(output.Reader, input.Writer);
        _features.Set<IConnectionIdFeature>(this);
        _features.Set<IConnectionTransportFeature>(this);
        _features.Set<IConnectionItemsFeature>(this);
        _features.Set<IMemoryPoolFeature>(this);
        _features.Set<IConnectionLifetimeFeature>(this);
        _features.Set<IConnectionEndPointFeature>(this);
    }

    public override string ConnectionId
    {
        get => _id ??= "L" + Interlocked.Increment(ref _lastId).ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        set => _id = value;
    }

    public override IFeatureCollection Features => _features;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public MemoryPool<byte> MemoryPool { get; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override EndPoint? LocalEndPoint
    {
        get => _local ??= _socket.LocalEndPoint();
        set => _local = value as IPEndPoint;
    }

    public override EndPoint? RemoteEndPoint { get; set; }

    /// <summary>The connection's socket (for tests).</summary>
    internal LoopSocket Socket => _socket;

    public void Start() => _processing = RunAsync();

    private async Task RunAsync()
    {
        Task receiving = ReceiveAsync();
        Task sending = SendAsync();
        await receiving.ConfigureAwait(false);
        await sending.ConfigureAwait(false);
        _socket.Dispose();
    }

    private async Task ReceiveAsync()
    {
        PipeWriter input = _application.Output;
        Exception? error = null;
        try
        {
            while (true)
            {
                // No buffer is taken from the pool while the connection idles between requests.
                _ = await _socket.WaitReadableAsync().ConfigureAwait(false);
                Memory<byte> buffer = input.GetMemory(MinReceiveBuffer);
                int received = await _socket.ReceiveAsync(buffer).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                input.Advance(received);
                FlushResult flushed = await input.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            error = new ConnectionResetException(e.Message, e);
        }
        catch (Exception e)
        {
            error = e;
        }
        finally
        {
            // A shutdown already under way is why the receive ended.
            await input.CompleteAsync(_shutdownReason ?? error).ConfigureAwait(false);
            FireConnectionClosed();
            await _closedFired.Task.ConfigureAwait(false);
        }
    }

    private async Task SendAsync()
    {
        PipeReader output = _application.Input;
        Exception? reason = null;
        Exception? unexpected = null;
        try
        {
            while (true)
            {
                ReadResult read = await output.ReadAsync().ConfigureAwait(false);
                if (read.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = read.Buffer;
                while (!buffer.IsEmpty)
                {
                    int sent = await _socket.SendAsync(buffer).ConfigureAwait(false);
                    buffer = buffer.Slice(sent);
                }

                output.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
        {
            reason = new ConnectionResetException(e.Message, e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
        {
            reason = e;
        }
        catch (Exception e)
        {
            reason = e;
            unexpected = e;
        }
        finally
        {
            Shutdown(reason);
            await output.CompleteAsync(unexpected).ConfigureAwait(false);
            // A receive waiting for Kestrel to read the input (it paused) is let go.
            _application.Output.CancelPendingFlush();
        }
    }

    private void FireConnectionClosed()
    {
        if (Interlocked.Exchange(ref _closedOnce, 1) != 0)
        {
            return;
        }

        // Kestrel's handlers of the token may block or take its locks: never on the loop thread.
        ThreadPool.UnsafeQueueUserWorkItem(static connection =>
        {
            try
            {
                connection._closed.Cancel();
            }
            catch (AggregateException)
            {
            }

            connection._closedFired.TrySetResult();
        }, this, preferLocal: false);
    }

    /// <summary>Ends the connection once: FIN to the client, both directions shut, the pending receive released.</summary>
    private void Shutdown(Exception? reason)
    {
        lock (_shutdownLock)
        {
            if (_shutDown)
            {
                return;
            }

            _shutDown = true;
            _shutdownReason = reason ?? new ConnectionAbortedException("The connection's send side completed.");
            _socket.Shutdown(both: true);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Shutdown(abortReason);
        _application.Input.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        await Transport.Input.CompleteAsync().ConfigureAwait(false);
        await Transport.Output.CompleteAsync().ConfigureAwait(false);
        if (_processing is not null)
        {
            await _processing.ConfigureAwait(false);
        }

        _closed.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

using System.Net.Sockets;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Forwarding.Http1;

/// <summary>
/// One keep-alive connection to a backend: its socket, the bytes received and not yet consumed, the buffer the next
/// request head is written into, and the answer object it reuses. One exchange at a time: the pool hands a connection
/// to a single call, which gives it back (or discards it) when its answer is disposed.
/// </summary>
internal sealed class Http1Connection : IDisposable
{
    /// <summary>The largest response head (status line and headers) accepted, as .NET's client: 64 KiB.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    /// <summary>
    /// The receive buffer: a head and, for answers up to about this size, the whole body in one read (a 20 KB answer in
    /// an 8 KB buffer took a second read: 3 % more CPU per request, docs/operations.md).
    /// </summary>
    private const int FirstReadBuffer = 32 * 1024;

    // One of the two: the event-loop transport's socket, or .NET's (--transport sockets).
    private readonly Socket? _socket;
    private readonly Transport.LoopSocket? _loopSocket;
    private byte[] _read = BufferPool.Rent(FirstReadBuffer);
    private int _start;
    private int _end;
    private byte[] _write = BufferPool.Rent(1024);
    private int _disposed;
    private ValueTask<int> _armed;
    private bool _isArmed;

    public Http1Connection(Http1Pool pool, Socket socket)
        : this(pool)
    {
        _socket = socket;
    }

    public Http1Connection(Http1Pool pool, Transport.LoopSocket socket)
        : this(pool)
    {
        _loopSocket = socket;
    }

    private Http1Connection(Http1Pool pool)
    {
        Pool = pool;
        Created = Environment.TickCount64;
        Response = new Http1Response(this);
    }

    public Http1Pool Pool { get; }

    /// <summary>The answer object of this connection's current exchange.</summary>
    public Http1Response Response { get; }

    /// <summary>When the connection was opened (<see cref="Environment.TickCount64"/>).</summary>
    public long Created { get; }

    /// <summary>When the connection last went back to the pool.</summary>
    public long IdleSince { get; set; }

    /// <summary>Exchanges completed on this connection: a connection that served one may have been closed by the server since.</summary>
    public int Exchanges { get; set; }

    /// <summary>The received bytes not yet consumed.</summary>
    public ReadOnlySpan<byte> Buffered => _read.AsSpan(_start, _end - _start);

    public int BufferedLength => _end - _start;

    public void Consume(int count) => _start += count;

    /// <summary>
    /// Starts receiving the next answer before the request is sent, and so checks that an idle connection can carry it:
    /// false when bytes arrived on it meanwhile (the server closed it, or sent bytes nobody asked for, which must never be
    /// read as this request's answer) or the receive failed; the connection is then not used again. True when the
    /// receive is waiting: the first <see cref="ReceiveAsync"/> takes it. One system call where a check and the answer's
    /// first futile receive took two (.NET's client keeps a read pending on idle connections for the same reason).
    /// </summary>
    public bool TryArm(CancellationToken cancellation)
    {
        if (_start != _end)
        {
            return false;
        }

        _start = _end = 0;
        ValueTask<int> receive;
        try
        {
            receive = Receive(_read.AsMemory(), cancellation);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }

        if (receive.IsCompleted)
        {
            try
            {
                _ = receive.GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }

            return false;
        }

        _armed = receive;
        _isArmed = true;
        return true;
    }

    /// <summary>The head buffer, at least <paramref name="size"/> bytes, keeping the first <paramref name="keep"/>.</summary>
    public byte[] WriteBuffer(int size, int keep)
    {
        if (_write.Length < size)
        {
            byte[] larger = BufferPool.Rent(Math.Max(size, _write.Length * 2));
            _write.AsSpan(0, keep).CopyTo(larger);
            BufferPool.Return(_write);
            _write = larger;
        }

        return _write;
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await Send(bytes, cancellation).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    /// <summary>
    /// Starts receiving more bytes after those buffered (moving them to the front first, growing the buffer up to a
    /// head's limit); the count it gives, 0 when the server closed the connection, goes to <see cref="Received"/>. The
    /// socket's own operation, awaited by the parser directly: no async layer of its own.
    /// </summary>
    public ValueTask<int> ReceiveAsync(CancellationToken cancellation)
    {
        if (_isArmed)
        {
            // The receive TryArm started, into the empty buffer.
            _isArmed = false;
            return _armed;
        }

        if (_start > 0)
        {
            _read.AsSpan(_start, _end - _start).CopyTo(_read);
            _end -= _start;
            _start = 0;
        }

        if (_end == _read.Length)
        {
            // Only a head (or a chunk-size line, or a trailer) fills the buffer without being consumed; a head past
            // the limit fails before this grows further.
            byte[] larger = BufferPool.Rent(Math.Min(_read.Length * 2, MaxHeadBytes + FirstReadBuffer));
            _read.AsSpan(0, _end).CopyTo(larger);
            BufferPool.Return(_read);
            _read = larger;
        }

        return Receive(_read.AsMemory(_end), cancellation);
    }

    private ValueTask<int> Send(ReadOnlyMemory<byte> bytes, CancellationToken cancellation) =>
        _loopSocket is not null ? _loopSocket.SendAsync(new System.Buffers.ReadOnlySequence<byte>(bytes), cancellation) : _socket!.SendAsync(bytes, SocketFlags.None, cancellation);

    private ValueTask<int> Receive(Memory<byte> buffer, CancellationToken cancellation) =>
        _loopSocket is not null ? _loopSocket.ReceiveAsync(buffer, cancellation) : _socket!.ReceiveAsync(buffer, SocketFlags.None, cancellation);

    /// <summary>Takes the <paramref name="count"/> bytes a <see cref="ReceiveAsync"/> put after those buffered.</summary>
    public void Received(int count) => _end += count;

    /// <summary>
    /// Reads body bytes into <paramref name="destination"/>, at most <paramref name="most"/> (never past the message):
    /// the bytes already received first, else straight from the socket into the body's buffer. 0 when the server closed
    /// the connection.
    /// </summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, long most, CancellationToken cancellation)
    {
        if (destination.Length > most)
        {
            destination = destination[..(int)most];
        }

        if (_start == _end)
        {
            return Receive(destination, cancellation);
        }

        int count = Math.Min(destination.Length, _end - _start);
        _read.AsSpan(_start, count).CopyTo(destination.Span);
        _start += count;
        return ValueTask.FromResult(count);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _socket?.Dispose();
        _loopSocket?.Dispose();
        if (!_isArmed)
        {
            BufferPool.Return(_read);
        }

        // else a receive TryArm started was never awaited (the request failed before its answer was read): it may be
        // writing into the buffer on the socket's event thread as the socket closes, so the buffer is left to the
        // collector rather than handed to another call.
        BufferPool.Return(_write);
        _read = [];
        _write = [];
    }
}

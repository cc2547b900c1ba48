using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Gateway.Runtime.Transport;

/// <summary>
/// A non-blocking TCP socket served by an <see cref="EventLoop"/>: receive, send, accept and connect as value tasks,
/// one operation at a time per direction. An operation first makes its system call on the caller's thread; only when
/// the socket is not ready does it wait, and the loop finishes it on the next event. A receive that returned fewer
/// bytes than asked for drained the socket, so the next one waits for the loop's event without a futile system call
/// (the edge-triggered registration reports every new arrival); nginx reads the same way. After the peer's close or an
/// error, every operation makes its call again.
/// </summary>
internal sealed class LoopSocket : IDisposable
{
    private readonly SafeDescriptor _fd;
    private readonly Lock _gate = new();
    private readonly Operation _reader;
    private readonly Operation _writer;
    private int _readSequence;
    private int _writeSequence;
    private bool _readReady = true;
    private bool _writeReady = true;
    private bool _ended;
    private bool _disposed;

    private LoopSocket(int fd, EventLoop loop)
    {
        _fd = new SafeDescriptor(fd);
        Loop = loop;
        _reader = new Operation(this);
        _writer = new Operation(this);
    }

    public EventLoop Loop { get; }

    /// <summary>The loop's slot for this socket, -1 once removed.</summary>
    internal int Slot = -1;

    /// <summary>The slot's generation when this socket took it: events carry it, so a stale one is recognised.</summary>
    internal uint Generation;

    /// <summary>
    /// Takes an accepted, non-blocking descriptor and registers it with <paramref name="loop"/>. With
    /// <paramref name="noDelay"/>, Nagle's algorithm is off, as on every connection the gateway opens (Kestrel's socket
    /// transport does the same): else the last part of an answer written in pieces waits for the client's delayed ACK,
    /// about 40 ms.
    /// </summary>
    public static LoopSocket Adopt(int fd, EventLoop loop, bool noDelay)
    {
        if (noDelay)
        {
            SetNoDelay(fd);
        }

        var socket = new LoopSocket(fd, loop);
        try
        {
            loop.Register(socket, fd);
        }
        catch
        {
            socket._fd.Dispose();
            throw;
        }

        return socket;
    }

    /// <summary>A listening socket bound to <paramref name="endpoint"/> (<c>SO_REUSEADDR</c>, dual-mode on an IPv6 address as Kestrel binds).</summary>
    public static LoopSocket Listen(IPEndPoint endpoint, int backlog, out IPEndPoint bound)
    {
        // .NET's socket does the binding (its options and errors are the ones Kestrel users know); the descriptor is then
        // handed over and the .NET object never performs an operation.
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endpoint);
            socket.Listen(backlog);
            bound = (IPEndPoint)socket.LocalEndPoint!;
            SafeSocketHandle handle = socket.SafeHandle;
            int fd = Dup(handle);
            socket.Dispose();
            SetNonBlocking(fd);
            return Adopt(fd, EventLoop.Next(), noDelay: false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A connected socket to <paramref name="endpoint"/>: its own non-blocking connect, registered with the caller's loop.</summary>
    public static async ValueTask<LoopSocket> ConnectAsync(EndPoint endpoint, CancellationToken cancellation)
    {
        if (endpoint is IPEndPoint ip)
        {
            return await ConnectAsync(ip, cancellation).ConfigureAwait(false);
        }

        var named = (DnsEndPoint)endpoint;
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(named.Host, cancellation).ConfigureAwait(false);
        SocketException? last = null;
        foreach (IPAddress address in addresses)
        {
            try
            {
                return await ConnectAsync(new IPEndPoint(address, named.Port), cancellation).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                last = e;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private static unsafe ValueTask<LoopSocket> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellation)
    {
        int family = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? Libc.AF_INET6 : Libc.AF_INET;
        int fd = Libc.socket(family, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Libc.Error(Marshal.GetLastPInvokeError());
        }

        var socket = new LoopSocket(fd, EventLoop.ForCaller());
        try
        {
            SetNoDelay(fd);
            SocketAddress address = endpoint.Serialize();
            int result;
            fixed (byte* bytes = address.Buffer.Span)
            {
                result = Libc.connect(fd, bytes, address.Size);
            }

            int errno = result == 0 ? 0 : Marshal.GetLastPInvokeError();
            if (result == 0)
            {
                socket.Loop.Register(socket, fd);
                return ValueTask.FromResult(socket);
            }

            if (errno != Libc.EINPROGRESS)
            {
                throw Libc.Error(errno);
            }

            // Registered only now: an unconnected socket reports a hang-up. The wait starts before the registration,
            // so the event of the connection's completion finds it.
            socket._writeReady = false;
            ValueTask<int> connected = socket.Start(socket._writer, OperationKind.Connect, default, default, readSide: false, cancellation);
            socket.Loop.Register(socket, fd);
            return Connected(socket, connected);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async ValueTask<LoopSocket> Connected(LoopSocket socket, ValueTask<int> connected)
    {
        try
        {
            await connected.ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Whether Nagle's algorithm is off (<c>TCP_NODELAY</c>).</summary>
    public unsafe bool NoDelay
    {
        get
        {
            int value = 0;
            int length = sizeof(int);
            if (!_fd.TryHold())
            {
                return false;
            }

            try
            {
                return Libc.getsockopt(_fd.Fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, &value, &length) == 0 && value != 0;
            }
            finally
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>The address the socket is bound to (<c>getsockname</c>).</summary>
    public unsafe IPEndPoint? LocalEndPoint()
    {
        byte* buffer = stackalloc byte[128];
        int length = 128;
        if (!_fd.TryHold())
        {
            return null;
        }

        try
        {
            if (Libc.getsockname(_fd.Fd, buffer, &length) != 0)
            {
                return null;
            }
        }
        finally
        {
            _fd.DangerousRelease();
        }

        return ToEndPoint(new ReadOnlySpan<byte>(buffer, length));
    }

    /// <summary>An IPv4 or IPv6 <c>sockaddr</c> as an endpoint; null for another family.</summary>
    public static IPEndPoint? ToEndPoint(ReadOnlySpan<byte> address)
    {
        if (address.Length < 2)
        {
            return null;
        }

        int family = address[0] | (address[1] << 8);
        if (family is not (Libc.AF_INET or Libc.AF_INET6))
        {
            return null;
        }

        var socketAddress = new SocketAddress(family == Libc.AF_INET6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, address.Length);
        address.CopyTo(socketAddress.Buffer.Span);
        return (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(socketAddress);
    }

    /// <summary>Receives into <paramref name="buffer"/>: the count, 0 when the peer closed its side.</summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation = default) =>
        Start(_reader, OperationKind.Receive, buffer, default, readSide: true, cancellation);

    /// <summary>
    /// Completes when bytes (or the peer's close) may be there to receive, without a buffer: an idle connection holds no
    /// receive buffer while it waits (Kestrel's socket transport waits the same way). At once when the socket is not
    /// known to be drained.
    /// </summary>
    public ValueTask<int> WaitReadableAsync(CancellationToken cancellation = default) =>
        Start(_reader, OperationKind.Poll, default, default, readSide: true, cancellation);

    /// <summary>Sends what it can of <paramref name="data"/> in one call (all segments gathered): the count sent.</summary>
    public ValueTask<int> SendAsync(ReadOnlySequence<byte> data, CancellationToken cancellation = default) =>
        Start(_writer, OperationKind.Send, default, data, readSide: false, cancellation);

    /// <summary>Accepts a connection: its non-blocking descriptor, the peer's address written into <paramref name="address"/> (128 bytes; its length in <see cref="AcceptedAddressLength"/>).</summary>
    public ValueTask<int> AcceptAsync(Memory<byte> address, CancellationToken cancellation = default) =>
        Start(_reader, OperationKind.Accept, address, default, readSide: true, cancellation);

    /// <summary>The peer address length the last accept wrote.</summary>
    public int AcceptedAddressLength => _reader.AddressLength;

    /// <summary>Ends sending (FIN) and, with <paramref name="both"/>, receiving; errors are ignored (the socket is being torn down).</summary>
    public void Shutdown(bool both)
    {
        if (!_fd.TryHold())
        {
            return;
        }

        try
        {
            _ = Libc.shutdown(_fd.Fd, both ? Libc.SHUT_RDWR : Libc.SHUT_WR);
        }
        finally
        {
            _fd.DangerousRelease();
        }
    }

    private ValueTask<int> Start(Operation operation, OperationKind kind, Memory<byte> buffer, ReadOnlySequence<byte> data, bool readSide, CancellationToken cancellation)
    {
        if (cancellation.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellation);
        }

        while (true)
        {
            int sequence;
            bool ready;
            lock (_gate)
            {
                if (_disposed)
                {
                    return ValueTask.FromException<int>(new SocketException((int)SocketError.OperationAborted));
                }

                if (operation.Pending)
                {
                    return ValueTask.FromException<int>(new InvalidOperationException("An operation of this direction is already waiting on the socket."));
                }

                sequence = Sequence(readSide);
                ready = readSide ? _readReady : _writeReady;
            }

            operation.Set(kind, buffer, data);
            if (ready)
            {
                int result = operation.TryPerform(_fd, out int errno);
                if (result >= 0)
                {
                    AfterSuccess(operation, readSide, sequence, result);
                    operation.Clear();
                    return new ValueTask<int>(result);
                }

                if (errno == Libc.EINTR)
                {
                    continue;
                }

                if (errno != Libc.EAGAIN)
                {
                    operation.Clear();
                    return ValueTask.FromException<int>(Libc.Error(errno));
                }
            }

            // Not ready: wait for the loop, unless an event came since the attempt (then try again). The cancellation is
            // registered first: one that comes before the wait starts is seen under the lock, one after finds it waiting.
            operation.Prepare(cancellation);
            bool retry;
            bool canceled = false;
            lock (_gate)
            {
                retry = sequence != Sequence(readSide) || _disposed;
                if (!retry)
                {
                    canceled = cancellation.IsCancellationRequested;
                    if (!canceled)
                    {
                        Wait(operation, readSide);
                    }
                }
            }

            if (!retry && !canceled)
            {
                return operation.Task;
            }

            operation.Unprepare();
            if (canceled)
            {
                return ValueTask.FromCanceled<int>(cancellation);
            }
        }
    }

    /// <summary>The events seen so far for a direction (under the lock): a change since an attempt means try again.</summary>
    private int Sequence(bool readSide) => readSide ? _readSequence : _writeSequence;

    /// <summary>Under the lock, with no event since the futile attempt: the direction is not ready, and the operation waits for the loop.</summary>
    private void Wait(Operation operation, bool readSide)
    {
        if (readSide)
        {
            _readReady = false;
        }
        else
        {
            _writeReady = false;
        }

        operation.Pending = true;
    }

    /// <summary>A short receive drained the socket: the next one waits for an event rather than calling for nothing.</summary>
    private void AfterSuccess(Operation operation, bool readSide, int sequence, int result)
    {
        if (readSide && operation.Kind == OperationKind.Receive && result > 0 && result < operation.Length)
        {
            lock (_gate)
            {
                if (_readSequence == sequence && !_ended)
                {
                    _readReady = false;
                }
            }
        }
    }

    /// <summary>The loop's event: marks the directions ready and finishes the operations waiting on them.</summary>
    internal void OnEvents(uint events)
    {
        Operation? read = null;
        Operation? write = null;
        int readSequence;
        int writeSequence;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            if ((events & (Libc.EPOLLERR | Libc.EPOLLHUP | Libc.EPOLLRDHUP)) != 0)
            {
                _ended = true;
            }

            if ((events & (Libc.EPOLLIN | Libc.EPOLLERR | Libc.EPOLLHUP | Libc.EPOLLRDHUP)) != 0)
            {
                _readSequence++;
                _readReady = true;
                if (_reader.Pending)
                {
                    _reader.Pending = false;
                    read = _reader;
                }
            }

            if ((events & (Libc.EPOLLOUT | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
            {
                _writeSequence++;
                _writeReady = true;
                if (_writer.Pending)
                {
                    _writer.Pending = false;
                    write = _writer;
                }
            }

            readSequence = _readSequence;
            writeSequence = _writeSequence;
        }

        if (read is not null)
        {
            Continue(read, readSide: true, readSequence);
        }

        if (write is not null)
        {
            Continue(write, readSide: false, writeSequence);
        }
    }

    /// <summary>Performs a waiting operation the loop woke (or a cancellation took) and completes it, or waits again.</summary>
    private void Continue(Operation operation, bool readSide, int sequence)
    {
        while (true)
        {
            int result = operation.TryPerform(_fd, out int errno);
            if (result >= 0)
            {
                AfterSuccess(operation, readSide, sequence, result);
                operation.Complete(result);
                return;
            }

            if (errno == Libc.EINTR)
            {
                continue;
            }

            if (errno != Libc.EAGAIN)
            {
                operation.Fail(Libc.Error(errno));
                return;
            }

            lock (_gate)
            {
                if (_disposed)
                {
                    break;
                }

                int now = Sequence(readSide);
                if (now == sequence)
                {
                    Wait(operation, readSide);
                    return;
                }

                sequence = now;
            }
        }

        operation.Fail(new SocketException((int)SocketError.OperationAborted));
    }

    private void Cancel(Operation operation, CancellationToken token)
    {
        lock (_gate)
        {
            if (!operation.Pending || operation.Token != token)
            {
                return;
            }

            operation.Pending = false;
        }

        operation.Fail(new OperationCanceledException(token));
    }

    public void Dispose()
    {
        Operation? read = null;
        Operation? write = null;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (_reader.Pending)
            {
                _reader.Pending = false;
                read = _reader;
            }

            if (_writer.Pending)
            {
                _writer.Pending = false;
                write = _writer;
            }
        }

        if (Slot >= 0 && _fd.TryHold())
        {
            try
            {
                Loop.Unregister(this, _fd.Fd);
            }
            finally
            {
                _fd.DangerousRelease();
            }
        }

        _fd.Dispose();
        read?.Fail(new SocketException((int)SocketError.OperationAborted));
        write?.Fail(new SocketException((int)SocketError.OperationAborted));
    }

    private static int Dup(SafeSocketHandle handle)
    {
        int fd = Libc.fcntl(checked((int)handle.DangerousGetHandle()), Libc.F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Libc.Error(Marshal.GetLastPInvokeError());
        }

        return fd;
    }

    /// <summary>Turns Nagle's algorithm off (<c>TCP_NODELAY</c>); a failure only leaves it on.</summary>
    private static unsafe void SetNoDelay(int fd)
    {
        int one = 1;
        _ = Libc.setsockopt(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, &one, sizeof(int));
    }

    private static void SetNonBlocking(int fd)
    {
        int flags = Libc.fcntl(fd, Libc.F_GETFL, 0);
        if (flags < 0 || Libc.fcntl(fd, Libc.F_SETFL, flags | Libc.O_NONBLOCK) < 0)
        {
            throw Libc.Error(Marshal.GetLastPInvokeError());
        }
    }

    private enum OperationKind
    {
        Receive,
        Send,
        Accept,
        Connect,
        Poll,
    }

    /// <summary>A descriptor closed once nothing is using it (a system call in progress holds a reference).</summary>
    private sealed class SafeDescriptor : SafeHandle
    {
        public SafeDescriptor(int fd)
            : base(-1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle < 0;

        public int Fd => (int)handle;

        /// <summary>Keeps the descriptor open for a system call (<see cref="SafeHandle.DangerousRelease"/> after it); false once it is closed.</summary>
        public bool TryHold()
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
            }

            return added;
        }

        protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
    }

    /// <summary>One direction's operation: what it does, and the value task its caller awaits when it waits.</summary>
    private sealed unsafe class Operation : IValueTaskSource<int>
    {
        private const int MostSegments = 32;

        private readonly LoopSocket _socket;
        private ManualResetValueTaskSourceCore<int> _core;
        private Memory<byte> _buffer;
        private ReadOnlySequence<byte> _data;
        private CancellationTokenRegistration _registration;
        private MemoryHandle[]? _pins;
        private int _connectError;

        public Operation(LoopSocket socket) => _socket = socket;

        public OperationKind Kind { get; private set; }

        /// <summary>Waiting for the loop; read and written under the socket's lock.</summary>
        public bool Pending { get; set; }

        public CancellationToken Token { get; private set; }

        public int AddressLength { get; private set; }

        public int Length => _buffer.Length;

        public ValueTask<int> Task => new(this, _core.Version);

        public void Set(OperationKind kind, Memory<byte> buffer, ReadOnlySequence<byte> data)
        {
            Kind = kind;
            _buffer = buffer;
            _data = data;
        }

        public void Clear()
        {
            _buffer = default;
            _data = default;
        }

        /// <summary>Readies the value task for a wait and registers <paramref name="cancellation"/> (not yet waiting: <see cref="Pending"/> is set after).</summary>
        public void Prepare(CancellationToken cancellation)
        {
            _core.Reset();
            Token = cancellation;
            if (cancellation.CanBeCanceled)
            {
                _registration = cancellation.UnsafeRegister(static (state, token) =>
                {
                    var operation = (Operation)state!;
                    operation._socket.Cancel(operation, token);
                }, this);
            }
        }

        /// <summary>The wait did not start after all.</summary>
        public void Unprepare()
        {
            _registration.Unregister();
            _registration = default;
            Token = default;
            Clear();
        }

        public int TryPerform(SafeDescriptor descriptor, out int errno)
        {
            if (!descriptor.TryHold())
            {
                errno = 9; // EBADF: closed under the call
                return -1;
            }

            try
            {
                int fd = descriptor.Fd;
                long result = Kind switch
                {
                    OperationKind.Receive => Receive(fd),
                    OperationKind.Send => Send(fd),
                    OperationKind.Accept => Accept(fd),
                    OperationKind.Poll => 0,
                    _ => ConnectResult(fd),
                };
                errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (result == -2)
                {
                    // The connect's own result, not errno.
                    errno = _connectError;
                    result = -1;
                }

                return (int)result;
            }
            finally
            {
                descriptor.DangerousRelease();
            }
        }

        private long Receive(int fd)
        {
            fixed (byte* bytes = _buffer.Span)
            {
                return Libc.recv(fd, bytes, _buffer.Length, 0);
            }
        }

        private long Accept(int fd)
        {
            int length = _buffer.Length;
            fixed (byte* bytes = _buffer.Span)
            {
                int result = Libc.accept4(fd, bytes, &length, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
                AddressLength = length;
                return result;
            }
        }

        private long ConnectResult(int fd)
        {
            int error = 0;
            int length = sizeof(int);
            if (Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, &error, &length) != 0)
            {
                return -1;
            }

            if (error == 0)
            {
                return 0;
            }

            _connectError = error;
            return -2;
        }

        private long Send(int fd)
        {
            if (_data.IsSingleSegment)
            {
                ReadOnlySpan<byte> span = _data.FirstSpan;
                fixed (byte* bytes = span)
                {
                    return Libc.send(fd, bytes, span.Length, Libc.MSG_NOSIGNAL);
                }
            }

            _pins ??= new MemoryHandle[MostSegments];
            Libc.IoVector* vectors = stackalloc Libc.IoVector[MostSegments];
            int count = 0;
            try
            {
                foreach (ReadOnlyMemory<byte> segment in _data)
                {
                    if (segment.IsEmpty)
                    {
                        continue;
                    }

                    if (count == MostSegments)
                    {
                        break;
                    }

                    _pins[count] = segment.Pin();
                    vectors[count].Base = _pins[count].Pointer;
                    vectors[count].Length = segment.Length;
                    count++;
                }

                var message = default(Libc.MessageHeader);
                message.Vectors = vectors;
                message.VectorCount = count;
                return Libc.sendmsg(fd, &message, Libc.MSG_NOSIGNAL);
            }
            finally
            {
                for (int i = 0; i < count; i++)
                {
                    _pins[i].Dispose();
                }
            }
        }

        public void Complete(int result)
        {
            _registration.Unregister();
            _registration = default;
            Clear();
            _core.SetResult(result);
        }

        public void Fail(Exception error)
        {
            _registration.Unregister();
            _registration = default;
            Clear();
            _core.SetException(error);
        }

        public int GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Runtime.Transport;

/// <summary>
/// One thread waiting in <c>epoll_wait</c> for the sockets registered with it, edge-triggered, each registered once for
/// reading and writing. An event marks the socket ready and runs the operation waiting on it right there, so the code
/// awaiting it (Kestrel's parser, the handler, the backend client) continues on this thread, as .NET's sockets do with
/// inline completions. One loop per processor the process may run on; the loops live as long as the process.
/// </summary>
internal sealed unsafe class EventLoop
{
    private const int BatchSize = 256;

    private static readonly Lazy<EventLoop[]> Loops = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    [ThreadStatic]
    private static EventLoop? _current;

    private static int _next;

    private readonly int _epoll;
    private readonly Lock _slotsLock = new();
    private LoopSocket?[] _slots = new LoopSocket?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _used;

    private EventLoop(int index)
    {
        _epoll = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0)
        {
            throw Libc.Error(Marshal.GetLastPInvokeError());
        }

        var thread = new Thread(Run) { IsBackground = true, Name = "gateway-loop-" + index };
        thread.UnsafeStart();
    }

    /// <summary>Where an unexpected exception in an event's continuation goes (it never stops the loop).</summary>
    public static Action<Exception>? Unexpected { get; set; }

    /// <summary>The loop of the calling thread when it is one, so that a backend call stays on its request's thread; else the next in turn.</summary>
    public static EventLoop ForCaller() => _current ?? Next();

    /// <summary>The loops in turn: accepted connections are spread over them.</summary>
    public static EventLoop Next()
    {
        EventLoop[] loops = Loops.Value;
        return loops.Length == 1 ? loops[0] : loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)loops.Length)];
    }

    private static EventLoop[] Start()
    {
        var loops = new EventLoop[Math.Max(1, Environment.ProcessorCount)];
        for (int i = 0; i < loops.Length; i++)
        {
            loops[i] = new EventLoop(i);
        }

        return loops;
    }

    /// <summary>Adds <paramref name="socket"/>'s descriptor, edge-triggered for reading, writing and the peer's close.</summary>
    public void Register(LoopSocket socket, int fd)
    {
        ulong data;
        lock (_slotsLock)
        {
            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else
            {
                if (_used == _slots.Length)
                {
                    Array.Resize(ref _generations, _used * 2);
                    var larger = new LoopSocket?[_used * 2];
                    _slots.CopyTo(larger, 0);
                    Volatile.Write(ref _slots, larger);
                }

                slot = _used++;
            }

            socket.Slot = slot;
            socket.Generation = _generations[slot];
            Volatile.Write(ref _slots[slot], socket);
            data = (uint)slot | ((ulong)socket.Generation << 32);
        }

        int* ev = stackalloc int[4];
        ev[0] = unchecked((int)(Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLRDHUP | Libc.EPOLLET));
        *(ulong*)(ev + Libc.EventDataInt) = data;
        if (Libc.epoll_ctl(_epoll, Libc.EPOLL_CTL_ADD, fd, ev) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Release(socket);
            throw Libc.Error(errno);
        }
    }

    /// <summary>Removes the descriptor before it is closed; an event already taken for it finds its slot changed and is dropped.</summary>
    public void Unregister(LoopSocket socket, int fd)
    {
        int* ev = stackalloc int[4];
        _ = Libc.epoll_ctl(_epoll, Libc.EPOLL_CTL_DEL, fd, ev);
        Release(socket);
    }

    private void Release(LoopSocket socket)
    {
        lock (_slotsLock)
        {
            int slot = socket.Slot;
            if (slot < 0 || !ReferenceEquals(_slots[slot], socket))
            {
                return;
            }

            _slots[slot] = null;
            _generations[slot]++;
            _free.Push(slot);
            socket.Slot = -1;
        }
    }

    private void Run()
    {
        _current = this;
        int stride = Libc.EventInts;
        int[] events = GC.AllocateArray<int>(BatchSize * stride, pinned: true);
        fixed (int* batch = events)
        {
            while (true)
            {
                int count = Libc.epoll_wait(_epoll, batch, BatchSize, -1);
                if (count < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    Debug.Assert(errno == Libc.EINTR, "epoll_wait failed: " + errno);
                    continue;
                }

                LoopSocket?[] slots = Volatile.Read(ref _slots);
                for (int i = 0; i < count; i++)
                {
                    int* ev = batch + (i * stride);
                    ulong data = *(ulong*)(ev + Libc.EventDataInt);
                    int slot = (int)(uint)data;
                    if ((uint)slot >= (uint)slots.Length)
                    {
                        slots = Volatile.Read(ref _slots);
                    }

                    LoopSocket? socket = (uint)slot < (uint)slots.Length ? Volatile.Read(ref slots[slot]) : null;
                    if (socket is null || socket.Generation != (uint)(data >> 32))
                    {
                        continue;
                    }

                    try
                    {
                        socket.OnEvents((uint)ev[0]);
                    }
                    catch (Exception e)
                    {
                        Unexpected?.Invoke(e);
                    }
                }
            }
        }
    }
}

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Gateway.Runtime.Transport;

/// <summary>
/// The Linux system calls the event-loop transport makes (docs/operations.md, "Transport"): epoll, non-blocking
/// sockets, and an eventfd to wake a loop. Blittable signatures only, so no marshalling code runs around a call; errno
/// is kept by the runtime (<see cref="Marshal.GetLastPInvokeError"/>).
/// </summary>
internal static unsafe class Libc
{
    private const string Library = "libc";

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINPROGRESS = 115;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CLOEXEC = 0x80000;

    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_ERROR = 4;
    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;
    public const int SHUT_WR = 1;
    public const int SHUT_RDWR = 2;

    /// <summary>Never raise SIGPIPE on a send to a closed connection: the error comes back as EPIPE.</summary>
    public const int MSG_NOSIGNAL = 0x4000;

    /// <summary>
    /// <c>struct epoll_event</c> is packed on x86-64 (12 bytes: events, then the 64-bit data at offset 4) and naturally
    /// aligned elsewhere (16 bytes, data at offset 8). Events are read and written as ints at these strides.
    /// </summary>
    public static readonly int EventInts = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 3 : 4;

    public static readonly int EventDataInt = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 1 : 2;

    [DllImport(Library, SetLastError = true)]
    public static extern int epoll_create1(int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern int epoll_ctl(int epfd, int op, int fd, int* ev);

    [DllImport(Library, SetLastError = true)]
    public static extern int epoll_wait(int epfd, int* events, int maxevents, int timeout);

    [DllImport(Library, SetLastError = true)]
    public static extern int eventfd(uint initval, int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern nint read(int fd, void* buf, nint count);

    [DllImport(Library, SetLastError = true)]
    public static extern nint write(int fd, void* buf, nint count);

    [DllImport(Library, SetLastError = true)]
    public static extern int close(int fd);

    [DllImport(Library, SetLastError = true)]
    public static extern int socket(int domain, int type, int protocol);

    [DllImport(Library, SetLastError = true)]
    public static extern int connect(int fd, byte* addr, int addrlen);

    [DllImport(Library, SetLastError = true)]
    public static extern int accept4(int fd, byte* addr, int* addrlen, int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern nint recv(int fd, byte* buf, nint len, int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern nint send(int fd, byte* buf, nint len, int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern nint sendmsg(int fd, MessageHeader* message, int flags);

    [DllImport(Library, SetLastError = true)]
    public static extern int fcntl(int fd, int cmd, int arg);

    [DllImport(Library, SetLastError = true)]
    public static extern int shutdown(int fd, int how);

    [DllImport(Library, SetLastError = true)]
    public static extern int getsockopt(int fd, int level, int name, int* value, int* len);

    [DllImport(Library, SetLastError = true)]
    public static extern int setsockopt(int fd, int level, int name, int* value, int len);

    [DllImport(Library, SetLastError = true)]
    public static extern int getsockname(int fd, byte* addr, int* addrlen);

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public void* Base;
        public nint Length;
    }

    public const int F_GETFL = 3;
    public const int F_SETFL = 4;
    public const int F_DUPFD_CLOEXEC = 1030;
    public const int O_NONBLOCK = 0x800;

    /// <summary><c>struct msghdr</c> (64-bit): no address, no control data, only the gathered buffers.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public int NameLength;
        public IoVector* Vectors;
        public nint VectorCount;
        public void* Control;
        public nint ControlLength;
        public int Flags;
    }

    /// <summary>The exception .NET's sockets raise for an errno (ECONNRESET: <see cref="SocketError.ConnectionReset"/>, ...).</summary>
    public static SocketException Error(int errno) => new((int)ToSocketError(errno));

    public static SocketError ToSocketError(int errno) => errno switch
    {
        104 => SocketError.ConnectionReset,      // ECONNRESET
        32 => SocketError.Shutdown,              // EPIPE
        111 => SocketError.ConnectionRefused,    // ECONNREFUSED
        110 => SocketError.TimedOut,             // ETIMEDOUT
        113 => SocketError.HostUnreachable,      // EHOSTUNREACH
        101 => SocketError.NetworkUnreachable,   // ENETUNREACH
        103 => SocketError.ConnectionAborted,    // ECONNABORTED
        107 => SocketError.NotConnected,         // ENOTCONN
        98 => SocketError.AddressAlreadyInUse,   // EADDRINUSE
        99 => SocketError.AddressNotAvailable,   // EADDRNOTAVAIL
        9 => SocketError.OperationAborted,       // EBADF: closed under the call
        24 or 23 => SocketError.TooManyOpenSockets, // EMFILE, ENFILE
        105 => SocketError.NoBufferSpaceAvailable,  // ENOBUFS
        _ => SocketError.SocketError,
    };
}

// An experiment, not part of the gateway (perf/README.md, "A raw epoll loop"): the harness's 2-step chain (/chain/{id}:
// GET /hotels/{id}, then /destinations/{destination_id}, the second answer merged in as "destination") served by one
// thread running one level-triggered epoll loop over non-blocking sockets, with the system calls made directly. It
// measures how low CPU per request goes on this host without Kestrel, .NET's socket engine and async code: the lever an
// own transport would be. Only what the experiment needs: Content-Length answers from a trusted local backend, no
// validation, no timeouts, no error handling beyond closing a connection.
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;

unsafe
{
    // Usage: epoll-chain PORT BACKEND_PORT (both on 127.0.0.1)
    int port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
    int backendPort = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
    int listen = Sys.Listener(port);
    int ep = Sys.epoll_create1(0);
    Sys.Add(ep, listen, listen);
    var conns = new Dictionary<int, Conn>();
    var idle = new Stack<int>();
    var events = new Sys.EpollEvent[256];
    while (true)
    {
        int n;
        fixed (Sys.EpollEvent* e = events) n = Sys.epoll_wait(ep, e, events.Length, -1);
        for (int i = 0; i < n; i++)
        {
            int fd = (int)events[i].Data;
            if (fd == listen)
            {
                while (true)
                {
                    int c = Sys.accept4(listen, null, null, Sys.SOCK_NONBLOCK);
                    if (c < 0) break;
                    Sys.NoDelay(c);
                    conns[c] = new Conn { Fd = c, IsClient = true };
                    Sys.Add(ep, c, c);
                }
                continue;
            }
            if (!conns.TryGetValue(fd, out Conn? conn)) continue;
            int read;
            fixed (byte* b = conn.Buf) read = (int)Sys.recv(fd, b + conn.Len, conn.Buf.Length - conn.Len, 0);
            if (read <= 0)
            {
                if (read < 0 && Marshal.GetLastSystemError() == 11) continue;
                Close(fd);
                continue;
            }
            conn.Len += read;
            if (conn.IsClient)
            {
                int end = conn.Buf.AsSpan(0, conn.Len).IndexOf("\r\n\r\n"u8);
                if (end < 0) continue;
                // GET /chain/{id} HTTP/1.1
                var line = conn.Buf.AsSpan(0, conn.Buf.AsSpan().IndexOf((byte)'\r'));
                int sp = line.IndexOf((byte)' ');
                var path = line[(sp + 1)..];
                path = path[..path.IndexOf((byte)' ')];
                var id = path["/chain/".Length..];
                conn.Len = 0;
                int b = Backend();
                conns[b].Client = conn;
                conns[b].Step = 0;
                conns[b].First = null;
                Send(b, Concat("GET /hotels/"u8, id, " HTTP/1.1\r\nHost: backend.perf:8000\r\n\r\n"u8));
            }
            else
            {
                // The answer: head, then Content-Length bytes.
                int head = conn.Buf.AsSpan(0, conn.Len).IndexOf("\r\n\r\n"u8);
                if (head < 0) continue;
                var headers = conn.Buf.AsSpan(0, head);
                int cl = headers.IndexOf("Content-Length: "u8);
                Utf8Parser.TryParse(headers[(cl + 16)..], out int length, out _);
                if (conn.Len < head + 4 + length) continue;
                byte[] body = conn.Buf.AsSpan(head + 4, length).ToArray();
                conn.Len = 0;
                Conn client = conn.Client!;
                if (conn.Step == 0)
                {
                    // resp0_destination_id
                    int at = body.AsSpan().IndexOf("\"destination_id\": \""u8) + 19;
                    var dest = body.AsSpan(at);
                    dest = dest[..dest.IndexOf((byte)'"')];
                    conn.Step = 1;
                    conn.First = body;
                    Send(conn.Fd, Concat("GET /destinations/"u8, dest, " HTTP/1.1\r\nHost: backend.perf:8000\r\n\r\n"u8));
                }
                else
                {
                    // {...first fields..., "destination": {...}}
                    byte[] first = conn.First!;
                    int close = Array.LastIndexOf(first, (byte)'}');
                    int total = close + ", \"destination\": "u8.Length + body.Length + 1;
                    byte[] answer = Concat(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-KrakenD-Completed: true\r\nContent-Length: {total}\r\n\r\n"),
                        first.AsSpan(0, close), ", \"destination\": "u8, body, "}"u8);
                    idle.Push(conn.Fd);
                    conn.Client = null;
                    Send(client.Fd, answer);
                }
            }
        }
    }

    int Backend()
    {
        if (idle.Count > 0) return idle.Pop();
        int b = Sys.Connect(backendPort);
        conns[b] = new Conn { Fd = b };
        Sys.Add(ep, b, b);
        return b;
    }

    void Close(int fd)
    {
        Sys.epoll_ctl(ep, 2, fd, null);
        Sys.close(fd);
        conns.Remove(fd);
    }

    void Send(int fd, byte[] bytes)
    {
        fixed (byte* p = bytes) Sys.send(fd, p, bytes.Length, Sys.MSG_NOSIGNAL);
    }
}

static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, ReadOnlySpan<byte> d = default, ReadOnlySpan<byte> e = default)
{
    var r = new byte[a.Length + b.Length + c.Length + d.Length + e.Length];
    a.CopyTo(r); b.CopyTo(r.AsSpan(a.Length)); c.CopyTo(r.AsSpan(a.Length + b.Length));
    d.CopyTo(r.AsSpan(a.Length + b.Length + c.Length)); e.CopyTo(r.AsSpan(a.Length + b.Length + c.Length + d.Length));
    return r;
}

sealed class Conn
{
    public int Fd;
    public bool IsClient;
    public byte[] Buf = new byte[64 * 1024];
    public int Len;
    public Conn? Client;
    public int Step;
    public byte[]? First;
}

static unsafe class Sys
{
    public const int SOCK_NONBLOCK = 0x800, MSG_NOSIGNAL = 0x4000;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent { public uint Events; public ulong Data; }

    [DllImport("libc", SetLastError = true)] public static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] public static extern int bind(int fd, byte* addr, int len);
    [DllImport("libc", SetLastError = true)] public static extern int listen(int fd, int backlog);
    [DllImport("libc", SetLastError = true)] public static extern int connect(int fd, byte* addr, int len);
    [DllImport("libc", SetLastError = true)] public static extern int accept4(int fd, byte* addr, int* len, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int setsockopt(int fd, int level, int name, int* value, int len);
    [DllImport("libc", SetLastError = true)] public static extern int epoll_create1(int flags);
    [DllImport("libc", SetLastError = true)] public static extern int epoll_ctl(int ep, int op, int fd, EpollEvent* ev);
    [DllImport("libc", SetLastError = true)] public static extern int epoll_wait(int ep, EpollEvent* evs, int max, int timeout);
    [DllImport("libc", SetLastError = true)] public static extern nint recv(int fd, byte* buf, nint len, int flags);
    [DllImport("libc", SetLastError = true)] public static extern nint send(int fd, byte* buf, nint len, int flags);
    [DllImport("libc", SetLastError = true)] public static extern int close(int fd);

    static byte[] Address(int port)
    {
        var a = new byte[16];
        a[0] = 2; // AF_INET
        a[2] = (byte)(port >> 8); a[3] = (byte)port;
        a[4] = 127; a[7] = 1;
        return a;
    }

    public static int Listener(int port)
    {
        int fd = socket(2, 1 | SOCK_NONBLOCK, 0);
        int one = 1;
        setsockopt(fd, 1, 2, &one, 4); // SO_REUSEADDR
        fixed (byte* a = Address(port)) if (bind(fd, a, 16) != 0) throw new IOException($"bind 127.0.0.1:{port}: errno {Marshal.GetLastSystemError()}");
        listen(fd, 1024);
        return fd;
    }

    public static int Connect(int port)
    {
        int fd = socket(2, 1, 0);
        fixed (byte* a = Address(port)) if (connect(fd, a, 16) != 0) throw new IOException($"connect 127.0.0.1:{port}: errno {Marshal.GetLastSystemError()}");
        NoDelay(fd);
        // non-blocking after the (blocking) connect
        fcntl(fd, 4, fcntl(fd, 3, 0) | 0x800);
        return fd;
    }

    [DllImport("libc", SetLastError = true)] public static extern int fcntl(int fd, int cmd, int arg);

    public static void NoDelay(int fd) { int one = 1; setsockopt(fd, 6, 1, &one, 4); }

    public static void Add(int ep, int fd, long data)
    {
        var ev = new EpollEvent { Events = 1 /* EPOLLIN */, Data = (ulong)data };
        epoll_ctl(ep, 1, fd, &ev);
    }
}

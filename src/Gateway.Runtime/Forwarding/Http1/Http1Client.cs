using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Runtime.Forwarding.Http1;

/// <summary>
/// The gateway's own HTTP/1.1 client for plain-HTTP backends (docs/operations.md, backend HTTP client): one pool of
/// keep-alive connections per origin, request heads written as bytes straight from the forwarding rules, answers parsed
/// from the connection's buffer and bodies read into the pooled buffers that decoding uses. It serves only what it
/// can send exactly: an <c>http://</c> URL whose host is a name or an address and whose target is plain ASCII; any
/// other URL (and HTTPS, scripts, martian modifiers) goes to .NET's client.
/// </summary>
internal sealed class Http1Client : IDisposable
{
    /// <summary>The most origins one host group keeps pools for (a discovered group's hosts change); more go to .NET's client.</summary>
    private const int MostPools = 64;

    private readonly BackendClientOptions _options;
    private readonly Lock _lock = new();
    private readonly Timer _pruning;
    private Http1Pool[] _pools = [];

    public Http1Client(BackendClientOptions options)
    {
        _options = options;
        // Idle connections past their idle time close even when no call comes to find them.
        TimeSpan every = options.PooledConnectionIdleTimeout < TimeSpan.FromSeconds(30) ? options.PooledConnectionIdleTimeout : TimeSpan.FromSeconds(30);
        _pruning = new Timer(static state => ((Http1Client)state!).Prune(), this, every, every);
    }

    /// <summary>
    /// The pool for <paramref name="url"/>'s origin and where its request target starts; false when this client does
    /// not send such a URL (the caller uses .NET's client).
    /// </summary>
    public bool TryRoute(string url, out Http1Pool? pool, out int targetStart)
    {
        foreach (Http1Pool known in Volatile.Read(ref _pools))
        {
            string origin = known.Origin;
            if (url.StartsWith(origin, StringComparison.Ordinal) && (url.Length == origin.Length || url[origin.Length] is '/' or '?'))
            {
                pool = known;
                targetStart = origin.Length;
                return IsPlainTarget(url, targetStart);
            }
        }

        pool = null;
        targetStart = 0;
        if (!TryParseOrigin(url, out int end, out string? host, out int port) || !IsPlainTarget(url, end))
        {
            return false;
        }

        lock (_lock)
        {
            string origin = url[..end];
            foreach (Http1Pool known in _pools)
            {
                if (known.Origin == origin)
                {
                    pool = known;
                    targetStart = end;
                    return true;
                }
            }

            if (_pools.Length == MostPools)
            {
                return false;
            }

            pool = new Http1Pool(origin, host, port, _options);
            Volatile.Write(ref _pools, [.. _pools, pool]);
            targetStart = end;
            return true;
        }
    }

    /// <summary>
    /// <c>http://host[:port]</c> (lower-case scheme and host, a name or an IPv4/IPv6 address, no user info): where the
    /// origin ends, its host and port.
    /// </summary>
    internal static bool TryParseOrigin(string url, out int end, out string host, out int port)
    {
        end = 0;
        host = string.Empty;
        port = 80;
        const string Scheme = "http://";
        if (!url.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        int start = Scheme.Length;
        end = url.IndexOfAny(['/', '?', '#'], start);
        if (end < 0)
        {
            end = url.Length;
        }

        ReadOnlySpan<char> authority = url.AsSpan(start, end - start);
        ReadOnlySpan<char> hostPart;
        ReadOnlySpan<char> portPart = default;
        bool portGiven = false;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(authority[1..close], out IPAddress? v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            hostPart = authority[1..close];
            ReadOnlySpan<char> rest = authority[(close + 1)..];
            if (!rest.IsEmpty)
            {
                if (rest[0] != ':')
                {
                    return false;
                }

                portPart = rest[1..];
                portGiven = true;
            }
        }
        else
        {
            int colon = authority.IndexOf(':');
            hostPart = colon < 0 ? authority : authority[..colon];
            portPart = colon < 0 ? default : authority[(colon + 1)..];
            portGiven = colon >= 0;
            if (hostPart.IsEmpty)
            {
                return false;
            }

            foreach (char c in hostPart)
            {
                if (!(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
                {
                    return false;
                }
            }
        }

        if (portGiven && (portPart.IsEmpty || portPart.Length > 5 || !int.TryParse(portPart, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            return false;
        }

        host = hostPart.ToString();
        return true;
    }

    /// <summary>A request target this client writes as it is: printable ASCII without a fragment or a backslash.</summary>
    private static bool IsPlainTarget(string url, int start)
    {
        foreach (char c in url.AsSpan(start))
        {
            if (c is <= ' ' or >= '\u007f' or '#' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    private void Prune()
    {
        foreach (Http1Pool pool in Volatile.Read(ref _pools))
        {
            pool.Prune();
        }
    }

    public void Dispose()
    {
        _pruning.Dispose();
        foreach (Http1Pool pool in Volatile.Read(ref _pools))
        {
            pool.Dispose();
        }
    }
}

/// <summary>
/// The keep-alive connections to one origin: idle ones kept newest first, at most <c>--max-backend-connections</c> in
/// use at once (a call that finds them all busy waits within its endpoint's time), each closed after its idle time or
/// lifetime.
/// </summary>
internal sealed class Http1Pool : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Stack<Http1Connection> _idle = new();
    private readonly SemaphoreSlim _leases;
    private readonly EndPoint _endpoint;
    private readonly long _idleMilliseconds;
    private readonly long _lifetimeMilliseconds;
    private readonly TimeSpan _connectTimeout;
    private readonly bool _eventLoops;
    private bool _disposed;

    public Http1Pool(string origin, string host, int port, BackendClientOptions options)
    {
        Origin = origin;
        // As .NET's client writes it: the host as in the URL, the port only when it is not 80.
        string authority = (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + (port == 80 ? string.Empty : ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        HostLine = Encoding.ASCII.GetBytes("Host: " + authority + "\r\n");
        _endpoint = IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        _leases = new SemaphoreSlim(options.MaxConnectionsPerServer, options.MaxConnectionsPerServer);
        _idleMilliseconds = (long)options.PooledConnectionIdleTimeout.TotalMilliseconds;
        _lifetimeMilliseconds = (long)options.PooledConnectionLifetime.TotalMilliseconds;
        _connectTimeout = options.ConnectTimeout;
        _eventLoops = options.EventLoops;
    }

    /// <summary><c>http://host[:port]</c> exactly as the URLs of this origin start.</summary>
    public string Origin { get; }

    /// <summary>The request's <c>Host</c> line, CRLF included.</summary>
    public byte[] HostLine { get; }

    /// <summary>
    /// A connection for one exchange: an idle one that is still quiet, its answer's receive already started
    /// (<see cref="Http1Connection.TryArm"/>: the server may have closed it, or sent bytes nobody asked for, which must
    /// never be read as this request's answer), or a new one when <paramref name="fresh"/> or none is idle.
    /// </summary>
    public async ValueTask<Http1Connection> RentAsync(bool fresh, CancellationToken cancellation)
    {
        if (!_leases.Wait(0, CancellationToken.None))
        {
            await _leases.WaitAsync(cancellation).ConfigureAwait(false);
        }

        try
        {
            if (!fresh)
            {
                cancellation.ThrowIfCancellationRequested();
                long now = Environment.TickCount64;
                while (TryPop(out Http1Connection? idle))
                {
                    if (now - idle.IdleSince < _idleMilliseconds && now - idle.Created < _lifetimeMilliseconds && idle.TryArm(cancellation))
                    {
                        return idle;
                    }

                    idle.Dispose();
                }
            }

            return await ConnectAsync(cancellation).ConfigureAwait(false);
        }
        catch
        {
            _leases.Release();
            throw;
        }
    }

    /// <summary>A connection whose exchange ended cleanly, for the next call.</summary>
    public void Return(Http1Connection connection)
    {
        connection.Exchanges++;
        connection.IdleSince = Environment.TickCount64;
        bool kept = false;
        if (connection.IdleSince - connection.Created < _lifetimeMilliseconds)
        {
            lock (_lock)
            {
                if (!_disposed)
                {
                    _idle.Push(connection);
                    kept = true;
                }
            }
        }

        if (!kept)
        {
            connection.Dispose();
        }

        _leases.Release();
    }

    /// <summary>A connection whose exchange did not end cleanly: closed, never reused.</summary>
    public void Discard(Http1Connection connection)
    {
        connection.Dispose();
        _leases.Release();
    }

    private bool TryPop([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Http1Connection? connection)
    {
        lock (_lock)
        {
            return _idle.TryPop(out connection);
        }
    }

    private async ValueTask<Http1Connection> ConnectAsync(CancellationToken cancellation)
    {
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        connect.CancelAfter(_connectTimeout);
        try
        {
            return _eventLoops
                ? new Http1Connection(this, await Transport.LoopSocket.ConnectAsync(_endpoint, connect.Token).ConfigureAwait(false))
                : await ConnectSocketAsync(connect.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new SocketException((int)SocketError.TimedOut);
        }
    }

    /// <summary>A connection over .NET's socket (<c>--transport sockets</c>).</summary>
    private async ValueTask<Http1Connection> ConnectSocketAsync(CancellationToken cancellation)
    {
        // A name may resolve to IPv6 and IPv4 addresses: a dual-mode socket where the system has IPv6, as .NET's client opens.
        Socket socket = _endpoint is IPEndPoint ip ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(_endpoint, cancellation).ConfigureAwait(false);
            return new Http1Connection(this, socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Closes the idle connections past their idle time or lifetime.</summary>
    public void Prune()
    {
        long now = Environment.TickCount64;
        List<Http1Connection>? expired = null;
        lock (_lock)
        {
            if (_idle.Count == 0)
            {
                return;
            }

            Http1Connection[] all = _idle.ToArray();
            _idle.Clear();
            // ToArray lists the top first: push back oldest first, so the newest stays on top.
            for (int i = all.Length - 1; i >= 0; i--)
            {
                Http1Connection connection = all[i];
                if (now - connection.IdleSince >= _idleMilliseconds || now - connection.Created >= _lifetimeMilliseconds)
                {
                    (expired ??= []).Add(connection);
                }
                else
                {
                    _idle.Push(connection);
                }
            }
        }

        expired?.ForEach(connection => connection.Dispose());
    }

    public void Dispose()
    {
        Http1Connection[] idle;
        lock (_lock)
        {
            _disposed = true;
            idle = _idle.ToArray();
            _idle.Clear();
        }

        foreach (Http1Connection connection in idle)
        {
            connection.Dispose();
        }
    }
}

using System.Net;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The hosts of a backend and the one connection pool used to reach them. Built once at start-up and shared by
/// every backend declaring the same host list; requests spread over the hosts round robin.
/// </summary>
public sealed class BackendHostGroup : IDisposable
{
    private readonly string[] _hosts;
    private uint _next;

    internal BackendHostGroup(string[] hosts, BackendClientOptions options)
    {
        _hosts = hosts;
        MaxResponseBodyBytes = options.MaxResponseBodyBytes;
        HttpMessageHandler handler = options.HandlerFactory?.Invoke() ?? new SocketsHttpHandler
        {
            // A gateway forwards; it never follows a proxy setting, keeps cookies or decompresses on its own.
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Redirects are followed by BackendCaller, and only within the backend's own origin.
            AllowAutoRedirect = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = options.PooledConnectionLifetime,
            PooledConnectionIdleTimeout = options.PooledConnectionIdleTimeout,
            MaxConnectionsPerServer = options.MaxConnectionsPerServer,
            EnableMultipleHttp2Connections = true,
            // The gateway sends exactly the headers it documents: no traceparent/Request-Id of its own making.
            ActivityHeadersPropagator = null,
        };
        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public HttpMessageInvoker Invoker { get; }

    public IReadOnlyList<string> Hosts => _hosts;

    internal int MaxResponseBodyBytes { get; }

    /// <summary>The base URL (<c>scheme://host[:port]</c>) for the next call.</summary>
    public string NextHost()
    {
        if (_hosts.Length == 1)
        {
            return _hosts[0];
        }

        uint index = Interlocked.Increment(ref _next);
        return _hosts[index % (uint)_hosts.Length];
    }

    public void Dispose() => Invoker.Dispose();
}

/// <summary>Limits of the backend HTTP client and of the bodies it carries. Defaults suit a gateway on a fast network.</summary>
public sealed class BackendClientOptions
{
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Replaces the SocketsHttpHandler of every host group, for in-process benchmarks against an in-memory backend.
    /// Production leaves it null.
    /// </summary>
    public Func<HttpMessageHandler>? HandlerFactory { get; set; }

    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(90);

    public int MaxConnectionsPerServer { get; set; } = int.MaxValue;

    /// <summary>A backend body larger than this fails that backend instead of growing memory without bound.</summary>
    public int MaxResponseBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>A client body larger than this is refused with 413 before any backend is called.</summary>
    public int MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;
}

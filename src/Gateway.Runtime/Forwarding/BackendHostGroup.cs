using System.Net;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The hosts of a backend and the one connection pool used to reach them. Built once at start-up and shared by
/// every backend declaring the same host list; requests spread over the hosts round robin.
/// </summary>
public sealed class BackendHostGroup : IDisposable
{
    private readonly string[] _hosts;
    private uint _next;

    internal BackendHostGroup(string[] hosts, BackendClientOptions options, BufferBudget budget)
    {
        _hosts = hosts;
        MaxResponseBodyBytes = options.MaxResponseBodyBytes;
        Budget = budget;
        StageProbe = options.StageProbe;
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

    /// <summary>The gateway-wide bound on buffered response bytes that bodies read from these hosts count against.</summary>
    internal BufferBudget Budget { get; }

    internal Action<StepStage, string>? StageProbe { get; }

    /// <summary>Tells the test probe, when there is one, that a stage of a call to <paramref name="host"/> begins.</summary>
    internal void Probe(StepStage stage, Uri host) => StageProbe?.Invoke(stage, host.GetLeftPart(UriPartial.Authority));

    /// <summary>The base URL (<c>scheme://host[:port]</c>) for the next call.</summary>
    /// <remarks>Rendering a step's request starts here, so this is where the <see cref="StepStage.Render"/> probe runs.</remarks>
    public string NextHost() => _hosts[NextIndex()];

    /// <summary>The position in <see cref="Hosts"/> of the host for the next call (round robin).</summary>
    public int NextIndex()
    {
        int index = _hosts.Length == 1 ? 0 : (int)(Interlocked.Increment(ref _next) % (uint)_hosts.Length);
        StageProbe?.Invoke(StepStage.Render, _hosts[index]);
        return index;
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

    /// <summary>
    /// The most bytes of backend response bodies held in memory at once, across all requests. A body that would go
    /// over it fails its step (<see cref="BackendFailure.BufferLimit"/>). Default 128 MiB.
    /// </summary>
    public long MaxBufferedResponseBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>
    /// Called as each stage of a backend call begins, with the stage and the host (<c>scheme://host:port</c>); an
    /// exception it throws is handled as one thrown by that stage. For fault-injection tests; production leaves it null.
    /// </summary>
    public Action<StepStage, string>? StageProbe { get; set; }
}

using System.Net;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The hosts of a backend and the one connection pool used to reach them. Built once at start-up and shared by
/// every backend declaring the same host list; requests spread over the hosts round robin. The hosts of a discovered
/// group (<c>"sd": "dns"</c>) are replaced as a whole when its records change.
/// </summary>
public sealed class BackendHostGroup : IDisposable
{
    /// <summary>
    /// The host of a discovered group that has found none yet: a name that never resolves (RFC 2606), which the call
    /// recognises and fails as an unreachable backend without a network attempt.
    /// </summary>
    internal const string Unresolved = "http://sd-unresolved.invalid";

    private string[] _hosts;
    private uint _next;

    internal BackendHostGroup(string[] hosts, BackendClientOptions options, BufferBudget budget, bool discovered = false)
    {
        _hosts = hosts;
        IsDiscovered = discovered;
        MaxResponseBodyBytes = options.MaxResponseBodyBytes;
        MaxJsonDepth = options.MaxJsonDepth;
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
        // The gateway's own HTTP/1.1 client for the plain-HTTP hosts, unless .NET's is chosen (or a test replaces it).
        if (options.HttpClient == BackendHttpClient.Gateway && options.HandlerFactory is null
            && (discovered || Array.Exists(hosts, host => host.StartsWith("http://", StringComparison.Ordinal))))
        {
            Http1 = new Http1.Http1Client(options);
        }
    }

    /// <summary>The gateway's own HTTP/1.1 client for these hosts, or null when .NET's serves every call.</summary>
    internal Http1.Http1Client? Http1 { get; }

    public HttpMessageInvoker Invoker { get; }

    /// <summary>The hosts now; for a discovered group, the latest answer's (empty before the first).</summary>
    public IReadOnlyList<string> Hosts => Volatile.Read(ref _hosts);

    /// <summary>True when service discovery fills the hosts (<c>"sd": "dns"</c>): they can change while the gateway runs.</summary>
    public bool IsDiscovered { get; }

    internal int MaxResponseBodyBytes { get; }

    /// <summary>The deepest nesting a JSON body from these hosts may have (<c>--max-json-depth</c>); deeper fails the step as an invalid body.</summary>
    internal int MaxJsonDepth { get; }

    /// <summary>The gateway-wide bound on buffered response bytes that bodies read from these hosts count against.</summary>
    internal BufferBudget Budget { get; }

    internal Action<StepStage, string>? StageProbe { get; }

    /// <summary>Tells the test probe, when there is one, that a stage of a call to <paramref name="host"/> begins.</summary>
    internal void Probe(StepStage stage, Uri host) => StageProbe?.Invoke(stage, host.GetLeftPart(UriPartial.Authority));

    /// <summary>Tells the test probe, when there is one, that a stage of a call to <paramref name="origin"/> (<c>scheme://host:port</c>) begins.</summary>
    internal void Probe(StepStage stage, string origin) => StageProbe?.Invoke(stage, origin);

    /// <summary>Tells the test probe, when there is one, that a stage of the call that received <paramref name="response"/> begins.</summary>
    internal void Probe(StepStage stage, BackendResponse response)
    {
        if (StageProbe is { } probe)
        {
            probe(stage, response.Origin);
        }
    }

    /// <summary>The base URL (<c>scheme://host[:port]</c>) for the next call.</summary>
    /// <remarks>Rendering a step's request starts here, so this is where the <see cref="StepStage.Render"/> probe runs.</remarks>
    public string NextHost()
    {
        if (!IsDiscovered)
        {
            return _hosts[NextIndex()];
        }

        // One read of the array: an answer replacing it meanwhile cannot put the index out of range.
        string[] hosts = Volatile.Read(ref _hosts);
        string host = hosts.Length == 0 ? Unresolved : hosts[hosts.Length == 1 ? 0 : (int)(Interlocked.Increment(ref _next) % (uint)hosts.Length)];
        StageProbe?.Invoke(StepStage.Render, host);
        return host;
    }

    /// <summary>The position in <see cref="Hosts"/> of the host for the next call (round robin), for a group whose hosts never change.</summary>
    public int NextIndex()
    {
        int index = _hosts.Length == 1 ? 0 : (int)(Interlocked.Increment(ref _next) % (uint)_hosts.Length);
        StageProbe?.Invoke(StepStage.Render, _hosts[index]);
        return index;
    }

    /// <summary>A discovered group's new hosts (service discovery's answer).</summary>
    internal void ReplaceHosts(string[] hosts) => Volatile.Write(ref _hosts, hosts);

    public void Dispose()
    {
        Invoker.Dispose();
        Http1?.Dispose();
    }
}

/// <summary>Limits of the backend HTTP client and of the bodies it carries. Defaults suit a gateway on a fast network.</summary>
public sealed class BackendClientOptions
{
    /// <summary>
    /// The HTTP client of plain-HTTP backends (<c>--backend-http</c>): the gateway's own HTTP/1.1 client (the default) or
    /// .NET's SocketsHttpHandler. HTTPS backends and backends with scripts or martian modifiers always use
    /// SocketsHttpHandler (docs/operations.md, backend HTTP client).
    /// </summary>
    public BackendHttpClient HttpClient { get; set; } = BackendHttpClient.Gateway;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The gateway's own client connects its sockets on the event loops of the server's transport (<c>--transport</c>,
    /// docs/operations.md, transport) rather than .NET's sockets; set by the server from its transport.
    /// </summary>
    internal bool EventLoops { get; set; }

    /// <summary>
    /// Replaces the SocketsHttpHandler of every host group, for in-process benchmarks against an in-memory backend.
    /// Production leaves it null.
    /// </summary>
    public Func<HttpMessageHandler>? HandlerFactory { get; set; }

    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan PooledConnectionIdleTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The most connections open to one backend host (<c>--max-backend-connections</c>), so that one slow backend cannot
    /// take every socket. A call that finds them all busy waits for one within its endpoint's timeout. Default 1024.
    /// </summary>
    public int MaxConnectionsPerServer { get; set; } = 1024;

    /// <summary>
    /// The name server asked for SRV records (<c>"sd": "dns"</c>; <c>--dns-server</c>); null asks the system's
    /// (<c>/etc/resolv.conf</c>).
    /// </summary>
    public IPEndPoint? DnsServer { get; set; }

    /// <summary>
    /// A backend body larger than this fails that backend instead of growing memory without bound
    /// (<c>--max-backend-response-bytes</c>). Default 16 MiB.
    /// </summary>
    public int MaxResponseBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// The deepest nesting of a backend's JSON body, 1 to 64 (<c>--max-json-depth</c>); a deeper body fails its step as
    /// an invalid body. Default 64, the most every JSON reader of the gateway accepts.
    /// </summary>
    public int MaxJsonDepth { get; set; } = Json.JsonObjectBody.MaxDepth;

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

/// <summary>Which HTTP client calls plain-HTTP backends (<see cref="BackendClientOptions.HttpClient"/>).</summary>
public enum BackendHttpClient
{
    /// <summary>The gateway's HTTP/1.1 client: precomputed request heads, pooled keep-alive connections, bodies read into pooled buffers.</summary>
    Gateway,

    /// <summary>.NET's SocketsHttpHandler, for every backend.</summary>
    Sockets,
}

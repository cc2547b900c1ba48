using System.Net;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Hosting;

/// <summary>Run-time settings that are not part of the compiled configuration.</summary>
public sealed class GatewayOptions
{
    /// <summary>Overrides the configuration's port; 0 picks a free port.</summary>
    public int? Port { get; set; }

    /// <summary>The address to listen on (all interfaces by default).</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Any;

    /// <summary>
    /// Points a host of the configuration at another base URL without editing the configuration, e.g.
    /// <c>http://hotels.internal:8080</c> → <c>http://127.0.0.1:5001</c>. Keys are written as the sanitised host.
    /// </summary>
    public IDictionary<string, string> HostOverrides { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public BackendClientOptions Backend { get; } = new();

    /// <summary>The limits Kestrel enforces on clients (connections, header size and time, keep-alive, body rate).</summary>
    public ServerLimits Limits { get; } = new();

    /// <summary>The health endpoint, automatic <c>OPTIONS</c>, redirects and error bodies (the configuration's <c>router</c>).</summary>
    public RouterOptions Router { get; } = new();

    /// <summary>The graceful stop on SIGTERM/SIGINT: the drain delay and the time requests in flight get.</summary>
    public ShutdownOptions Shutdown { get; } = new();

    /// <summary>
    /// The sockets under Kestrel and the gateway's own backend client (<c>--transport</c>): the gateway's event loops
    /// (the default, on Linux) or .NET's sockets (docs/operations.md, transport).
    /// </summary>
    public ServerTransport Transport { get; set; } = ServerTransport.EventLoop;

    /// <summary>The root's <c>tls</c>: serve HTTPS with these certificates; null serves plain HTTP.</summary>
    public Gateway.Components.Server.TlsSettings? Tls { get; set; }

    /// <summary>
    /// Options with the configuration's own defaults (its server keys) applied: what the command line and the
    /// environment then override.
    /// </summary>
    public static GatewayOptions For(GatewayDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var options = new GatewayOptions();
        foreach (IGatewayComponent component in definition.Components)
        {
            (component as IGatewayDefaults)?.ApplyDefaults(options);
        }

        return options;
    }

    /// <summary>
    /// The Redis of shared rate limits, replacing the configuration's <c>gateway/ratelimit.redis.address</c>: a
    /// StackExchange.Redis configuration string, <c>host:port</c> with options such as <c>password=…</c> or
    /// <c>ssl=true</c>. Without shared limits in the configuration it has no effect.
    /// </summary>
    public string? RateLimitRedis { get; set; }
    /// <summary>Logs, metrics and traces (docs/operations.md, "Logs, metrics and traces").</summary>
    public Telemetry.TelemetryOptions Telemetry { get; } = new();

    /// <summary>Adds log providers or filters after the gateway's own defaults (hosting integrations, tests).</summary>
    public Action<Microsoft.Extensions.Logging.ILoggingBuilder>? ConfigureLogging { get; set; }
}

/// <summary>What reads and writes the gateway's sockets (docs/operations.md, transport).</summary>
public enum ServerTransport
{
    /// <summary>The gateway's own epoll loops, one per CPU (Linux; elsewhere .NET's sockets).</summary>
    EventLoop,

    /// <summary>.NET's sockets: Kestrel's socket transport and System.Net.Sockets under the backend client.</summary>
    Sockets,
}

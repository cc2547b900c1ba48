using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The limits Kestrel enforces on clients, set with <c>--max-connections</c>, <c>--max-request-header-bytes</c>,
/// <c>--max-request-headers</c>, <c>--max-request-line-bytes</c>, <c>--request-headers-timeout</c>,
/// <c>--keep-alive-timeout</c> and <c>--min-request-body-data-rate</c> (or their <c>GATEWAY_*</c> variables). The defaults are Kestrel's own, written out here so that docs/operations.md states
/// them and a framework update cannot change them unnoticed.
/// </summary>
public sealed class ServerLimits
{
    /// <summary>The most client connections open at once; further ones are closed on accept. Null: no limit.</summary>
    public long? MaxConnections { get; set; }

    /// <summary>The most bytes of request headers (names and values) a request may send; more is answered 431.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;

    /// <summary>The most header lines a request may send; more is answered 431. Kestrel's default, 100.</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>The longest request line (method, target, version) in bytes; longer is answered 414. Kestrel's default, 8 KiB.</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>The most header lines <c>--max-request-headers</c> accepts.</summary>
    public const int MostRequestHeaders = 10_000;

    /// <summary>How long a client has to send a request's headers once it started; a slow-headers client is cut.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle keep-alive connection stays open. Keep it above a load balancer's idle timeout.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(130);

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second, after a grace period of
    /// <see cref="MinRequestBodyDataRateGracePeriod"/>; 0 turns the check off. Protects against clients that trickle a
    /// body to hold a connection and a request open.
    /// </summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>Kestrel's grace period for the body rate: a body may start slowly (a TCP slow start, a waking client).</summary>
    public static TimeSpan MinRequestBodyDataRateGracePeriod { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Copies the limits into Kestrel's options.</summary>
    public void ApplyTo(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeaderBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = MinRequestBodyDataRate > 0 ? new MinDataRate(MinRequestBodyDataRate, MinRequestBodyDataRateGracePeriod) : null;
    }
}

namespace Gateway.Runtime.Hosting;

/// <summary>
/// What the gateway does on SIGTERM or SIGINT (<c>--shutdown-delay</c>, <c>--shutdown-timeout</c>): first
/// <see cref="Delay"/> with the listener still open and <c>/__ready</c> answering 503, so that a load balancer or
/// Kubernetes stops sending new requests; then the listener closes and requests in flight get <see cref="Timeout"/> to
/// finish before their connections are cut. The process then exits with code 0.
/// </summary>
public sealed class ShutdownOptions
{
    /// <summary>How long requests in flight may take to finish once the listener closed (default 15 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long to keep serving, reporting not ready, before the listener closes (default 0: close at once).</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;
}

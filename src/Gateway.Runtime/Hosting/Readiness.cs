namespace Gateway.Runtime.Hosting;

/// <summary>
/// Whether the gateway wants new requests: <c>GET /__ready</c> answers 200 until shutdown starts, then 503, while
/// <c>/__health</c> (liveness) stays 200 to the end. A load balancer or Kubernetes readiness probe stops sending traffic
/// on the 503; a liveness probe must not restart a gateway that is only draining.
/// </summary>
internal sealed class Readiness
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public void StartDraining() => _draining = true;
}

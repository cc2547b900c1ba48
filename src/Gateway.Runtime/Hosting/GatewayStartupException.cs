namespace Gateway.Runtime.Hosting;

/// <summary>
/// Something the configuration names cannot be used when the gateway starts (a JWKS file that cannot be read, say):
/// the gateway stops with this message instead of serving requests it would have to refuse.
/// </summary>
public sealed class GatewayStartupException : Exception
{
    public GatewayStartupException()
    {
    }

    public GatewayStartupException(string message)
        : base(message)
    {
    }

    public GatewayStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

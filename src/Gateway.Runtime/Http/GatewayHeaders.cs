namespace Gateway.Runtime.Http;

/// <summary>Header names and values the gateway writes on its own account.</summary>
public static class GatewayHeaders
{
    /// <summary>KrakenD's completeness header: true only when every backend answered and the data is not empty.</summary>
    public const string Completed = "X-KrakenD-Completed";

    /// <summary>The failed steps of an incomplete answer, when the endpoint asks for it (docs/configuration.md, errors).</summary>
    public const string FailedSteps = "X-Gateway-Failed-Steps";

    public const string True = "true";

    public const string False = "false";

    public const string JsonContentType = "application/json; charset=utf-8";

    public const string TextContentType = "text/plain; charset=utf-8";
}

namespace Gateway.Runtime.Hosting;

/// <summary>
/// What the server does before and around routing (<c>router</c> in the configuration, docs/configuration.md, router
/// options). The defaults are KrakenD's: a health endpoint at <c>/__health</c>, 405 for a known path asked with another
/// method, redirects for a trailing slash and for a path that matches once cleaned and compared without case.
/// </summary>
public sealed class RouterOptions
{
    public const string DefaultHealthPath = "/__health";

    /// <summary>Where the health endpoint answers; null when there is none (<c>disable_health</c>).</summary>
    public string? HealthPath { get; set; } = DefaultHealthPath;

    /// <summary><c>auto_options</c>: <c>OPTIONS</c> on a configured path answers 200 with its methods in <c>Allow</c>.</summary>
    public bool AutoOptions { get; set; }

    /// <summary>A configured path asked with another method answers 405 with <c>Allow</c>; false answers 404.</summary>
    public bool MethodNotAllowed { get; set; } = true;

    /// <summary>A path that matches a route of its method once its trailing slash is added or removed is redirected there.</summary>
    public bool RedirectTrailingSlash { get; set; } = true;

    /// <summary>A path that matches a route of its method once cleaned and compared without case is redirected there.</summary>
    public bool RedirectFixedPath { get; set; } = true;

    /// <summary><c>remove_extra_slash</c>: the path is cleaned (<c>//</c>, <c>.</c>, <c>..</c>) before it is routed.</summary>
    public bool RemoveExtraSlash { get; set; }

    /// <summary><c>error_body."404"</c>: the JSON body of a 404; null for the gateway's text.</summary>
    public byte[]? NotFoundBody { get; set; }

    /// <summary><c>error_body."405"</c>: the JSON body of a 405; null for the gateway's text.</summary>
    public byte[]? MethodNotAllowedBody { get; set; }
}

namespace Gateway.Runtime.Http;

/// <summary>Where an injected value lands in a backend URL; it decides which characters are percent-encoded.</summary>
public enum UrlComponent
{
    /// <summary>Inside one path segment: the value can never add or remove a segment.</summary>
    PathSegment,

    /// <summary>Inside one query value: the value can never add a parameter.</summary>
    QueryValue,
}

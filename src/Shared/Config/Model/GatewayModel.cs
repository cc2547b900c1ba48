namespace Gateway.Config.Model;

// The configuration after parsing and validation: only what the emitted code needs, with defaults applied
// and no source positions, so an edit that changes no meaning leaves the model equal.

/// <summary>The whole gateway: listen port, backend host groups and the endpoints that passed validation.</summary>
internal sealed record GatewayModel(
    string Namespace,
    int Port,
    EquatableArray<HostGroupModel> HostGroups,
    EquatableArray<EndpointModel> Endpoints);

/// <summary>A distinct list of sanitised base URLs; backends sharing it share one connection pool.</summary>
internal sealed record HostGroupModel(EquatableArray<string> Hosts);

/// <summary>One public route and its backends.</summary>
internal sealed record EndpointModel(
    string Method,
    string Path,
    EquatableArray<RouteSegmentModel> Route,
    long TimeoutMilliseconds,
    bool Sequential,
    EquatableArray<BackendModel> Backends);

/// <summary>A segment of the public path: literal text, or a <c>{parameter}</c> capturing the whole segment.</summary>
internal sealed record RouteSegmentModel(string Text, bool IsParameter);

/// <summary>One backend call of an endpoint.</summary>
internal sealed record BackendModel(
    string Method,
    int HostGroup,
    string UrlPattern,
    EquatableArray<TemplatePartModel> Url,
    string? Group);

internal enum TemplatePartKind
{
    /// <summary>Text copied as written.</summary>
    Literal,

    /// <summary>The value of a route parameter (<see cref="TemplatePartModel.Source"/> is its index in the route's parameters).</summary>
    RouteParameter,

    /// <summary>A value read from an earlier backend's response (<see cref="TemplatePartModel.Source"/> is the backend index).</summary>
    ResponseValue,
}

/// <summary>
/// A piece of a <c>url_pattern</c>. <see cref="InQuery"/> says whether it lands after the <c>?</c>, which decides
/// how an injected value is percent-encoded. For response values, <see cref="Path"/> is the field path inside the
/// referenced backend's own body (its <c>group</c> prefix already removed).
/// </summary>
internal sealed record TemplatePartModel(
    TemplatePartKind Kind,
    string Text,
    bool InQuery,
    int Source,
    EquatableArray<string> Path);

using Gateway.Components;
using Gateway.Components.Router;

namespace Gateway.Config.Model;

// The configuration after parsing and validation: only what the emitted code needs, with defaults applied
// and no source positions, so an edit that changes no meaning leaves the model equal.

/// <summary>The whole gateway: listen port, built-in endpoints, router settings, backend host groups and the endpoints that passed validation.</summary>
internal sealed record GatewayModel(
    string Namespace,
    int Port,
    bool EchoEndpoint,
    bool DebugEndpoint,
    RouterModel Router,
    bool FailedStepsHeader,
    EquatableArray<GatewayComponentModel> Components,
    EquatableArray<HostGroupModel> HostGroups,
    EquatableArray<EndpointModel> Endpoints);

/// <summary>
/// A distinct list of base URLs; backends sharing it share one connection pool. With <see cref="DnsScheme"/>, the hosts
/// come from the SRV records of the one name in <see cref="Hosts"/> (<c>"sd": "dns"</c>), as <c>DnsScheme://target:port</c>.
/// </summary>
internal sealed record HostGroupModel(EquatableArray<string> Hosts, string? DnsScheme = null);

/// <summary>One public route and its backends.</summary>
internal sealed record EndpointModel(
    string Method,
    string Path,
    EquatableArray<RouteSegmentModel> Route,
    long TimeoutMilliseconds,
    bool Sequential,
    long CacheTtlSeconds,
    string OutputEncoding,
    int ConcurrentCalls,
    ForwardingListModel InputQueryStrings,
    ForwardingListModel InputHeaders,
    StaticDataModel? Static,
    EquatableArray<FlatmapOperationModel> Flatmap,
    EquatableArray<BackendModel> Backends,
    EquatableArray<EndpointComponentModel> Components = default,
    bool ServerTiming = false,
    int? DeadlineStatus = null,
    EquatableArray<PropagatedParamModel> PropagatedParams = default,
    PassThroughModel? PassThrough = null);

/// <summary>
/// <c>gateway/flow.pass_through</c>: the step whose HTTP status (with <see cref="Status"/>) and listed response headers
/// the client receives instead of the gateway's own 200.
/// </summary>
internal sealed record PassThroughModel(int Step, bool Status, EquatableArray<string> Headers);

/// <summary>
/// One entry of <c>proxy.sequential_propagated_params</c>: a request param (<see cref="Name"/>, as KrakenD names it:
/// <c>Resp0</c>, <c>Resp0_user.id</c>) that every backend after <see cref="Value"/>'s source receives, resolved as the
/// placeholder <see cref="Value"/> would be.
/// </summary>
internal sealed record PropagatedParamModel(string Name, TemplatePartModel Value);

/// <summary>
/// A segment of the public path: literal text, or a <c>{parameter}</c> capturing the segment. With
/// <c>disable_rest</c> a parameter may sit between literal text in its segment (<c>/files/{name}.json</c>).
/// </summary>
internal sealed record RouteSegmentModel(string Text, bool IsParameter, string Prefix = "", string Suffix = "");

/// <summary>
/// An allow-list of query keys or header names. <see cref="All"/> is the endpoint-level <c>"*"</c>; a null
/// <see cref="Names"/> at backend level means "no filter: pass what the endpoint forwarded".
/// </summary>
internal sealed record ForwardingListModel(bool All, EquatableArray<string>? Names);

/// <summary><c>extra_config.proxy.static</c>: data written over the result when the strategy applies.</summary>
internal sealed record StaticDataModel(string Strategy, string DataJson);

/// <summary>One <c>flatmap_filter</c> operation (<c>move</c>, <c>del</c>, <c>append</c>).</summary>
internal sealed record FlatmapOperationModel(string Type, EquatableArray<string> Args);

/// <summary>One backend call of an endpoint, with the shaping of its response.</summary>
internal sealed record BackendModel(
    string Method,
    int HostGroup,
    string UrlPattern,
    EquatableArray<TemplatePartModel> Url,
    string? Group,
    string Encoding,
    bool IsCollection,
    string? Target,
    EquatableArray<string> Allow,
    EquatableArray<string> Deny,
    EquatableArray<MappingModel> Mapping,
    EquatableArray<FlatmapOperationModel> Flatmap,
    ForwardingListModel InputQueryStrings,
    ForwardingListModel InputHeaders,
    bool ReturnErrorCode,
    string? ReturnErrorDetails,
    RequestBodyModel? Body = null,
    EquatableArray<HeaderTemplateModel> Headers = default,
    bool KeepRawBody = false,
    EquatableArray<string> CapturedHeaders = default,
    EquatableArray<BackendComponentModel> Components = default,
    bool Required = false,
    EquatableArray<int> DependsOn = default,
    string? StepId = null,
    Gateway.Components.Step.StepPolicyModel? Policy = null,
    Gateway.Components.Step.StepFailureModel? OnFailure = null,
    Gateway.Components.Step.StepConditionModel? When = null,
    Gateway.Components.Step.StepForEachModel? ForEach = null);

/// <summary>
/// What a backend sends as its body instead of the client's (<c>extra_config."gateway/request".body</c>): the raw
/// body of an earlier step (<see cref="WholeResponse"/> ≥ 0), or a JSON template (<see cref="Parts"/>: raw JSON
/// literals and typed slots).
/// </summary>
internal sealed record RequestBodyModel(int WholeResponse, EquatableArray<TemplatePartModel> Parts);

/// <summary>A request header a backend sets from a template (<c>extra_config."gateway/request".headers</c>).</summary>
internal sealed record HeaderTemplateModel(string Name, string Template, EquatableArray<TemplatePartModel> Parts);

/// <summary>A top-level rename from <c>mapping</c>.</summary>
internal sealed record MappingModel(string From, string To);

internal enum TemplatePartKind
{
    /// <summary>Text copied as written.</summary>
    Literal,

    /// <summary>The value of a route parameter (<see cref="TemplatePartModel.Source"/> is its index in the route's parameters).</summary>
    RouteParameter,

    /// <summary>A value read from an earlier backend's response (<see cref="TemplatePartModel.Source"/> is the backend index).</summary>
    ResponseValue,

    /// <summary><c>{respN}</c>: the raw body of backend <see cref="TemplatePartModel.Source"/>.</summary>
    WholeResponse,

    /// <summary><c>{respN.headers.Name}</c>: a response header of backend <see cref="TemplatePartModel.Source"/> (name in <see cref="TemplatePartModel.Path"/>).</summary>
    ResponseHeader,

    /// <summary><c>{input_headers.Name}</c>: a header of the client's request (name in <see cref="TemplatePartModel.Path"/>).</summary>
    ClientHeader,

    /// <summary><c>{input_query.name}</c>: the first value of a query parameter of the client's request.</summary>
    ClientQuery,

    /// <summary><c>{JWT.claim}</c>: a claim of the client's validated token (the claim's path in <see cref="TemplatePartModel.Path"/>).</summary>
    Claim,

    /// <summary>
    /// <c>{item}</c>, <c>{item.field}</c>: in a step that runs once per element of an array (<c>gateway/step.for_each</c>),
    /// the element of this call, or a field inside it (its path in <see cref="TemplatePartModel.Path"/>).
    /// </summary>
    Item,
}

/// <summary>Where a template slot lands, which decides how its value is rendered (docs/configuration.md).</summary>
internal enum TemplatePosition
{
    PathSegment,
    QueryValue,
    HeaderValue,

    /// <summary>A JSON body string that is only the placeholder: the value goes in with its JSON type.</summary>
    JsonValue,

    /// <summary>A placeholder inside a longer JSON body string: the value goes in as text, JSON-escaped.</summary>
    JsonText,
}

/// <summary>
/// A piece of a template (<c>url_pattern</c>, header value, JSON body). <see cref="Position"/> decides how an injected
/// value is rendered. For response values, <see cref="Path"/> is the field path inside the referenced backend's shaped
/// response (its <c>group</c> prefix already removed; <c>*</c> selects every element of an array).
/// </summary>
/// <see cref="Default"/> is the placeholder's default as compact JSON and <see cref="DefaultText"/> its text form
/// (null for <c>null</c>), both null without a default.
internal sealed record TemplatePartModel(
    TemplatePartKind Kind,
    string Text,
    TemplatePosition Position,
    int Source,
    EquatableArray<string> Path,
    string? Default = null,
    string? DefaultText = null);

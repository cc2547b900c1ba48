namespace Gateway.Config.Diagnostics;

/// <summary>
/// Every finding the configuration checker can report, in one place. Ids are stable and documented in
/// docs/diagnostics.md. Ranges: GW0xxx file and JSON level, GW1xxx endpoint and backend semantics,
/// GW2xxx features this gateway does not implement, GW3xxx advisories.
/// </summary>
internal sealed class DiagnosticKind
{
    private DiagnosticKind(string id, ConfigSeverity severity, string title)
    {
        Id = id;
        Severity = severity;
        Title = title;
    }

    public string Id { get; }

    public ConfigSeverity Severity { get; }

    public string Title { get; }

    public static readonly DiagnosticKind JsonSyntax = new("GW0001", ConfigSeverity.Error, "The configuration is not valid JSON");
    public static readonly DiagnosticKind UnreadableFile = new("GW0002", ConfigSeverity.Error, "The configuration file cannot be used");
    public static readonly DiagnosticKind UnsupportedVersion = new("GW0003", ConfigSeverity.Error, "Unsupported configuration version");
    public static readonly DiagnosticKind WrongType = new("GW0004", ConfigSeverity.Error, "A value has the wrong type");
    public static readonly DiagnosticKind InvalidPort = new("GW0005", ConfigSeverity.Error, "Invalid port");

    public static readonly DiagnosticKind InvalidEndpointPath = new("GW1001", ConfigSeverity.Error, "Invalid endpoint path");
    public static readonly DiagnosticKind ReservedEndpointPath = new("GW1002", ConfigSeverity.Error, "Reserved endpoint path");
    public static readonly DiagnosticKind DuplicateEndpoint = new("GW1003", ConfigSeverity.Error, "Duplicate endpoint");
    public static readonly DiagnosticKind NoBackends = new("GW1004", ConfigSeverity.Error, "Endpoint without backends");
    public static readonly DiagnosticKind UnsupportedMethod = new("GW1005", ConfigSeverity.Error, "Unsupported HTTP method");
    public static readonly DiagnosticKind InvalidDuration = new("GW1006", ConfigSeverity.Error, "Invalid duration");
    public static readonly DiagnosticKind InvalidHost = new("GW1007", ConfigSeverity.Error, "Invalid backend host");
    public static readonly DiagnosticKind UndefinedPlaceholder = new("GW1008", ConfigSeverity.Error, "Placeholder not defined by the endpoint");
    public static readonly DiagnosticKind ForwardResponseReference = new("GW1009", ConfigSeverity.Error, "Response reference to the same or a later backend");
    public static readonly DiagnosticKind ResponseReferenceNotSequential = new("GW1010", ConfigSeverity.Error, "Response reference on an endpoint that is not sequential");
    public static readonly DiagnosticKind MalformedTemplate = new("GW1011", ConfigSeverity.Error, "Malformed template");
    public static readonly DiagnosticKind NoHosts = new("GW1012", ConfigSeverity.Error, "Backend without hosts");
    public static readonly DiagnosticKind UnreachableGroupReference = new("GW1013", ConfigSeverity.Error, "Response reference outside the referenced backend's group");

    public static readonly DiagnosticKind NoOpWithSeveralBackends = new("GW1014", ConfigSeverity.Error, "no-op output with several backends");
    public static readonly DiagnosticKind UnknownEncoding = new("GW1015", ConfigSeverity.Error, "Unknown encoding");
    public static readonly DiagnosticKind InvalidValue = new("GW1016", ConfigSeverity.Error, "Invalid value");
    public static readonly DiagnosticKind MalformedBodyTemplate = new("GW1017", ConfigSeverity.Error, "Invalid request body template");
    public static readonly DiagnosticKind InvalidHeaderTemplate = new("GW1018", ConfigSeverity.Error, "Invalid request header template");
    public static readonly DiagnosticKind InvalidProxyChain = new("GW1019", ConfigSeverity.Error, "Invalid proxy-chain configuration");

    // Errors, not warnings: what the author meant would silently not happen ("alow" lets the field through,
    // "url_patern" calls the backend's root).
    public static readonly DiagnosticKind MisspelledKey = new("GW1020", ConfigSeverity.Error, "Misspelled key");
    public static readonly DiagnosticKind MissingUrlPattern = new("GW1021", ConfigSeverity.Error, "Backend without url_pattern");
    public static readonly DiagnosticKind InvalidStepGraph = new("GW1022", ConfigSeverity.Error, "Invalid step dependency graph");
    public static readonly DiagnosticKind ResponseReferenceNotDependency = new("GW1023", ConfigSeverity.Error, "Response reference to a step that is not a dependency");
    public static readonly DiagnosticKind LuaSyntax = new("GW1024", ConfigSeverity.Error, "Lua script does not compile");

    // An error, not a warning: a configuration that builds must behave as written. Ignoring, say, an auth/revoker
    // namespace or mutual TLS would serve an endpoint with less protection than its author asked for.
    public static readonly DiagnosticKind UnsupportedFeature = new("GW2001", ConfigSeverity.Error, "Feature not supported yet");

    public static readonly DiagnosticKind UnknownKey = new("GW3001", ConfigSeverity.Warning, "Unknown key");
    public static readonly DiagnosticKind NoEffect = new("GW3002", ConfigSeverity.Warning, "Key has no effect");
    public static readonly DiagnosticKind LegacyName = new("GW3003", ConfigSeverity.Warning, "KrakenD 1.x name");
    public static readonly DiagnosticKind LuaLibraries = new("GW3004", ConfigSeverity.Warning, "Lua script uses a library it will not have");
}

using Gateway.Components.Shaping;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Shaping;

namespace Gateway.Runtime.Proxy;

/// <summary>One backend of an endpoint as compiled from the configuration: where it is and how its answer is shaped.</summary>
public sealed class BackendDefinition
{
    public BackendDefinition(
        int index,
        HttpMethod method,
        BackendHostGroup hosts,
        string? group = null,
        BackendEncoding encoding = BackendEncoding.Json,
        bool isCollection = false,
        ShapingPlan? shaping = null,
        ForwardingList? inputQueryStrings = null,
        ForwardingList? inputHeaders = null,
        bool returnErrorCode = false,
        string? returnErrorDetails = null,
        bool keepRawBody = false,
        string[]? capturedHeaders = null,
        IBackendComponent[]? stages = null,
        bool required = false,
        string[]? relayedHeaders = null,
        string? stepId = null,
        StepPolicy? policy = null,
        string? fallback = null,
        ForEachPlan? forEach = null,
        string[]? passedHeaders = null)
    {
        ForEach = forEach;
        PassedHeaders = passedHeaders is { Length: > 0 } ? passedHeaders : null;
        Policy = policy;
        Fallback = fallback is null ? null : System.Text.Encoding.UTF8.GetBytes(fallback);
        Required = required;
        StepName = stepId ?? "backend" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var around = new List<IBackendStage>();
        var modifiers = new List<IHttpMessageModifier>();
        foreach (IBackendComponent component in stages ?? [])
        {
            if (component is IBackendStage stage)
            {
                around.Add(stage);
            }

            if (component is IHttpMessageModifier modifier)
            {
                modifiers.Add(modifier);
            }

            if (component is IBackendScript script)
            {
                Script = script;
            }
        }

        Stages = [.. around];
        Modifiers = modifiers.Count == 0 ? null : [.. modifiers];
        KeepRawBody = keepRawBody;
        CapturedHeaders = capturedHeaders is { Length: > 0 } ? capturedHeaders : null;
        RelayedHeaders = relayedHeaders is { Length: > 0 } ? relayedHeaders : null;
        string[] read = [.. (CapturedHeaders ?? []).Concat(RelayedHeaders ?? []).Concat(PassedHeaders ?? []).Distinct(StringComparer.OrdinalIgnoreCase)];
        ReadHeaders = read.Length == 0 ? null : read;
        Index = index;
        Method = method;
        Hosts = hosts;
        Group = group is null ? null : System.Text.Encoding.UTF8.GetBytes(group);
        Encoding = encoding;
        IsCollection = isCollection;
        Shaping = shaping is { IsIdentity: false } ? shaping : null;
        InputQueryStrings = inputQueryStrings;
        InputHeaders = inputHeaders;
        ReturnErrorCode = returnErrorCode;
        ErrorDetailsKey = returnErrorDetails is null ? null : System.Text.Encoding.UTF8.GetBytes("error_" + returnErrorDetails);
    }

    /// <summary>The backend components' stages around the HTTP call, outermost first; empty when none is configured.</summary>
    public IBackendStage[] Stages { get; }

    /// <summary>The backend's script (<c>modifier/lua-backend</c>), run inside the other stages; null when none.</summary>
    public IBackendScript? Script { get; }

    /// <summary>The backend components that change the request and the response themselves, in order; null when none.</summary>
    public IHttpMessageModifier[]? Modifiers { get; }

    /// <summary>The position in the endpoint's <c>backend</c> list: the N of <c>{respN_…}</c>.</summary>
    public int Index { get; }

    public HttpMethod Method { get; }

    public BackendHostGroup Hosts { get; }

    /// <summary>The UTF-8 <c>group</c> key the response is wrapped in, or null.</summary>
    public byte[]? Group { get; }

    public BackendEncoding Encoding { get; }

    public bool IsCollection { get; }

    /// <summary>target, allow/deny, mapping and flatmap_filter; null when they change nothing.</summary>
    public ShapingPlan? Shaping { get; }

    /// <summary>Backend-level filter of the forwarded query keys; null passes what the endpoint forwarded.</summary>
    public ForwardingList? InputQueryStrings { get; }

    /// <summary>Backend-level filter of the forwarded headers; null passes what the endpoint forwarded.</summary>
    public ForwardingList? InputHeaders { get; }

    /// <summary><c>backend/http.return_error_code</c>: a failing status is kept for the client.</summary>
    public bool ReturnErrorCode { get; }

    /// <summary><c>gateway/step.required</c>: when this step fails or is not called, the endpoint has no answer to give.</summary>
    public bool Required { get; }

    /// <summary><c>gateway/step.fallback</c>: the step's data when it fails (merged under its group); null without one.</summary>
    public byte[]? Fallback { get; }

    /// <summary>The step's own time limit and retries (<c>gateway/step</c>); null: one attempt within the endpoint's budget.</summary>
    public StepPolicy? Policy { get; }

    /// <summary>
    /// <c>gateway/step.for_each</c>: the step runs once per element of an array of an earlier step; null for one call.
    /// </summary>
    public ForEachPlan? ForEach { get; }

    /// <summary>The step's <c>gateway/step.id</c>, or <c>backend</c> and its index: its name in <c>Server-Timing</c>.</summary>
    public string StepName { get; }

    /// <summary>A later step reads this backend's raw body (<c>{respN}</c>): keep it.</summary>
    public bool KeepRawBody { get; }

    /// <summary>Response headers later steps read (<c>{respN.headers.Name}</c>), or null.</summary>
    public string[]? CapturedHeaders { get; }

    /// <summary>
    /// Response headers the client receives (<c>gateway/response.headers</c>), kept with a successful result; null when
    /// the endpoint passes none, and then no backend header outlives its call.
    /// </summary>
    public string[]? RelayedHeaders { get; }

    /// <summary>
    /// <c>gateway/flow.pass_through.headers</c> when this is the step passed through: the response headers kept whatever
    /// the step answered (success or error status), for the client.
    /// </summary>
    public string[]? PassedHeaders { get; }

    /// <summary>Every response header a stage reads (captured, relayed, passed), or null: the others never become strings.</summary>
    public string[]? ReadHeaders { get; }

    /// <summary><c>"error_" + backend/http.return_error_details</c> as UTF-8, or null.</summary>
    public byte[]? ErrorDetailsKey { get; }
}

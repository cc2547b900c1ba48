using System.Text;
using Gateway.Components.Shaping;
using Gateway.Runtime.Http;
using Gateway.Runtime.Shaping;

namespace Gateway.Runtime.Proxy;

/// <summary>How the endpoint's answer is rendered (<c>output_encoding</c>, docs/configuration.md, rendering).</summary>
public enum OutputEncoding
{
    Json,
    JsonCollection,
    String,
    NoOp,
}

/// <summary>When <c>proxy.static</c> data is written over the result (docs/configuration.md, endpoint).</summary>
public enum StaticStrategy
{
    Always,
    Success,
    Errored,
    Complete,
    Incomplete,
}

/// <summary>Everything about an endpoint that is not a backend call, as compiled from the configuration.</summary>
public sealed class EndpointDefinition
{
    public EndpointDefinition(
        TimeSpan timeout,
        bool sequential = false,
        OutputEncoding output = OutputEncoding.Json,
        long cacheTtlSeconds = 0,
        int concurrentCalls = 1,
        ForwardingList? inputQueryStrings = null,
        ForwardingList? inputHeaders = null,
        StaticStrategy staticStrategy = StaticStrategy.Always,
        string? staticData = null,
        FlatmapOperation[]? flatmap = null,
        bool returnErrorMessage = false,
        bool failedStepsHeader = false,
        bool compression = true,
        ClientAddressPolicy? clientAddresses = null,
        bool serverTiming = false,
        int? deadlineStatus = null,
        PassThroughPlan? passThrough = null)
    {
        PassThrough = passThrough;
        ServerTiming = serverTiming;
        DeadlineStatus = deadlineStatus;
        FailedStepsHeader = failedStepsHeader || returnErrorMessage;
        Timeout = timeout;
        Sequential = sequential;
        Output = output;
        CacheControl = cacheTtlSeconds > 0 ? $"public, max-age={cacheTtlSeconds}" : null;
        ConcurrentCalls = Math.Max(1, concurrentCalls);
        InputQueryStrings = inputQueryStrings ?? ForwardingList.QueryKeys();
        InputHeaders = inputHeaders ?? ForwardingList.HeaderNames("Content-Type");
        StaticStrategy = staticStrategy;
        StaticData = staticData is null ? null : Encoding.UTF8.GetBytes(staticData);
        Flatmap = flatmap is { Length: > 0 } ? flatmap : null;
        ReturnErrorMessage = returnErrorMessage;
        Compression = compression;
        ClientAddresses = clientAddresses;
    }

    /// <summary>The endpoint <c>timeout</c>: the budget of the whole request.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Backends run one after the other (the sequential proxy).</summary>
    /// <summary><c>gateway/flow.server_timing</c>: answers carry a <c>Server-Timing</c> entry per step.</summary>
    public bool ServerTiming { get; }

    /// <summary><c>gateway/flow.deadline_status</c>: the status answered when the time budget ran out; null: KrakenD's partial answer.</summary>
    public int? DeadlineStatus { get; }

    /// <summary><c>gateway/flow.pass_through</c>: the step whose status and headers the client receives; null: none.</summary>
    public PassThroughPlan? PassThrough { get; }

    public bool Sequential { get; }

    public OutputEncoding Output { get; }

    /// <summary>The <c>Cache-Control</c> value for complete responses, from <c>cache_ttl</c>; null when none.</summary>
    public string? CacheControl { get; }

    /// <summary><c>concurrent_calls</c>: identical requests per backend call; the first usable answer wins.</summary>
    public int ConcurrentCalls { get; }

    public ForwardingList InputQueryStrings { get; }

    public ForwardingList InputHeaders { get; }

    public StaticStrategy StaticStrategy { get; }

    /// <summary>The static data object (UTF-8 JSON), or null.</summary>
    public byte[]? StaticData { get; }

    /// <summary>The endpoint-level <c>flatmap_filter</c>, applied to the merge of several backends.</summary>
    public FlatmapOperation[]? Flatmap { get; }

    /// <summary><c>router.return_error_msg</c>: an error answer carries a body saying what failed.</summary>
    public bool ReturnErrorMessage { get; }

    /// <summary>
    /// An incomplete answer names its failed steps in <c>X-Gateway-Failed-Steps</c>: with <c>gateway/debug</c>'s
    /// <c>failed_steps_header</c>, or with <c>return_error_msg</c> (docs/configuration.md, errors).
    /// </summary>
    public bool FailedStepsHeader { get; }

    /// <summary>Answers are compressed for clients that accept it (on unless <c>router.disable_gzip</c>).</summary>
    public bool Compression { get; }

    /// <summary>
    /// Who may tell the client's address (<c>router.forwarded_by_client_ip</c> with <c>trusted_proxies</c>); null when
    /// nobody may: the connection's peer is the client.
    /// </summary>
    public ClientAddressPolicy? ClientAddresses { get; }
}

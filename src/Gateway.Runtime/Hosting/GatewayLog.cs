using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The gateway's own log lines: category <c>Gateway</c> for failures, <c>Gateway.Access</c> for the access log (its line is written by
/// <see cref="Telemetry.GatewayLoggerProvider"/> directly: it runs on every request). Every
/// field is a template or a closed set (the endpoint's path template, never the path; a failure kind, a status, a
/// duration): no request or response value is ever logged (docs/operations.md, "Logs, metrics and traces"). Failures
/// look their logger up when they happen, never on a request that succeeds.
/// </summary>
internal static partial class GatewayLog
{
    public const string Category = "Gateway";

    public const string AccessCategory = "Gateway.Access";

    public static ILogger For(HttpContext context) =>
        context.RequestServices?.GetService<ILoggerFactory>()?.CreateLogger(Category) ?? NullLogger.Instance;

    [LoggerMessage(EventId = 1, EventName = "step_failed", Level = LogLevel.Error, Message = "{Method} {Endpoint}: backend {Backend} failed inside the gateway; the step counts as failed")]
    public static partial void StepFailed(ILogger logger, string method, string endpoint, int backend, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "request_failed", Level = LogLevel.Error, Message = "{Method} {Endpoint}: unexpected error, answered {Status}")]
    public static partial void RequestFailed(ILogger logger, string method, string endpoint, int status, Exception exception);

    [LoggerMessage(EventId = 3, EventName = "response_aborted", Level = LogLevel.Error, Message = "{Method} {Endpoint}: unexpected error after the response started; connection aborted")]
    public static partial void ResponseAborted(ILogger logger, string method, string endpoint, Exception exception);

    /// <summary>A backend call that did not give usable data (docs/configuration.md, errors); the request goes on.</summary>
    [LoggerMessage(EventId = 4, EventName = "backend_failed", Level = LogLevel.Warning, Message = "{Method} {Endpoint}: backend {Backend} failed ({Failure}, status {Status}) after {DurationMs} ms")]
    public static partial void BackendFailed(ILogger logger, string method, string endpoint, int backend, string failure, int status, double durationMs);

    /// <summary>
    /// A Lua script failed (a Lua error or a spent budget; <c>custom_error</c> is an answer, not a failure): the script's
    /// place and Lua's message, which names the script's line.
    /// </summary>
    [LoggerMessage(EventId = 5, EventName = "lua_failed", Level = LogLevel.Warning, Message = "{Method} {Endpoint}: the {Script} Lua script failed: {Error}")]
    public static partial void LuaFailed(ILogger logger, string method, string endpoint, string script, string error);

    /// <summary>A script's <c>print</c> (with <c>allow_open_libs</c>): what it prints is the script author's choice.</summary>
    [LoggerMessage(EventId = 6, EventName = "lua_print", Level = LogLevel.Information, Message = "{Endpoint} [Lua] {Line}")]
    public static partial void LuaPrint(ILogger logger, string endpoint, string line);

    /// <summary>
    /// An endpoint refused requests because it had <c>gateway/limits.max_concurrent_requests</c> in flight: at most one
    /// line a second per endpoint, counting the refusals since the previous one.
    /// </summary>
    [LoggerMessage(EventId = 7, EventName = "endpoint_saturated", Level = LogLevel.Warning, Message = "{Method} {Endpoint}: {Limit} request(s) in flight, its max_concurrent_requests (gateway/limits); answered 503 to {Refused} request(s) since the last such line")]
    public static partial void EndpointSaturated(ILogger logger, string method, string endpoint, int limit, int refused);

    /// <summary>
    /// Kestrel refused clients before their request reached the gateway (<see cref="KestrelRejections"/>): at most one
    /// line a second per reason, counting the connections that ended so since the previous one.
    /// </summary>
    [LoggerMessage(EventId = 8, EventName = "client_rejected", Level = LogLevel.Warning, Message = "Client refused before routing: {Reason} (answered {Answer}; {Setting}); {Count} connection(s) since the last such line")]
    public static partial void ClientRejected(ILogger logger, string reason, string answer, string setting, int count);

    // The access log (category AccessCategory, event "access", level information) is written by
    // GatewayLoggerProvider.WriteAccess, straight to UTF-8: it runs on every request.

    // Lifecycle events: 20 and up, apart from the per-request ones above.
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Stopping: /__ready answers 503; the listener closes in {DelaySeconds} s, then requests in flight have {TimeoutSeconds} s to finish")]
    public static partial void Draining(ILogger logger, double delaySeconds, double timeoutSeconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Stopped after the shutdown timeout ({TimeoutSeconds} s): requests still in flight were cut")]
    public static partial void ShutdownTimedOut(ILogger logger, double timeoutSeconds);

    // Service discovery ("sd": "dns"): 30 and up. A change of hosts, and the first failure of a streak (not each retry).
    [LoggerMessage(EventId = 30, EventName = "sd_hosts", Level = LogLevel.Information, Message = "SRV {Name}: {Count} host(s): {Hosts}")]
    public static partial void ServiceDiscovered(ILogger logger, string name, int count, string hosts);

    [LoggerMessage(EventId = 31, EventName = "sd_failed", Level = LogLevel.Warning, Message = "SRV {Name}: look-up failed ({Problem}); {Known} host(s) found before stay in use, asking again every 5 s")]
    public static partial void ServiceDiscoveryFailed(ILogger logger, string name, string problem, int known);

    [LoggerMessage(EventId = 32, EventName = "transport_failed", Level = LogLevel.Critical, Message = "The event-loop transport met an unexpected error; the loop goes on")]
    public static partial void TransportFailed(ILogger logger, Exception exception);
}

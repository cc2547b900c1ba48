using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The gateway's own log lines, category <c>Gateway</c>. Only failures are logged, so the logger is looked up when one
/// happens, never on a request that succeeds.
/// </summary>
internal static partial class GatewayLog
{
    public const string Category = "Gateway";

    public static ILogger For(HttpContext context) =>
        context.RequestServices?.GetService<ILoggerFactory>()?.CreateLogger(Category) ?? NullLogger.Instance;

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "{Method} {Path}: backend {Backend} failed inside the gateway; the step counts as failed")]
    public static partial void StepFailed(ILogger logger, string method, string path, int backend, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "{Method} {Path}: unexpected error, answered {Status}")]
    public static partial void RequestFailed(ILogger logger, string method, string path, int status, Exception exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "{Method} {Path}: unexpected error after the response started; connection aborted")]
    public static partial void ResponseAborted(ILogger logger, string method, string path, Exception exception);

    // Lifecycle events: 20 and up, apart from the per-request ones above.
    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Stopping: /__ready answers 503; the listener closes in {DelaySeconds} s, then requests in flight have {TimeoutSeconds} s to finish")]
    public static partial void Draining(ILogger logger, double delaySeconds, double timeoutSeconds);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Stopped after the shutdown timeout ({TimeoutSeconds} s): requests still in flight were cut")]
    public static partial void ShutdownTimedOut(ILogger logger, double timeoutSeconds);
}

using System.Text;
using Gateway.Runtime.Hosting;

namespace Gateway.Components.Router;

/// <summary>
/// The <c>router</c> options that act around routing and on the access log (docs/configuration.md, router options),
/// applied as defaults of the run-time settings: the dispatcher reads <see cref="GatewayOptions.Router"/>, the access
/// log <see cref="Runtime.Telemetry.TelemetryOptions"/>, so <c>--no-access-log</c> and <c>GATEWAY_ACCESS_LOG</c> still
/// win over <c>disable_access_log</c>. Built only when an option differs from KrakenD's default.
/// </summary>
public sealed class RouterSettings : IGatewayDefaults
{
    private readonly string? _healthPath;
    private readonly bool _autoOptions;
    private readonly bool _methodNotAllowed;
    private readonly bool _redirectTrailingSlash;
    private readonly bool _redirectFixedPath;
    private readonly bool _removeExtraSlash;
    private readonly bool _accessLog;
    private readonly string[] _loggerSkipPaths;
    private readonly byte[]? _notFoundBody;
    private readonly byte[]? _methodNotAllowedBody;

    public RouterSettings(
        string? healthPath = RouterOptions.DefaultHealthPath,
        bool autoOptions = false,
        bool methodNotAllowed = true,
        bool redirectTrailingSlash = true,
        bool redirectFixedPath = true,
        bool removeExtraSlash = false,
        bool accessLog = true,
        string[]? loggerSkipPaths = null,
        string? notFoundBody = null,
        string? methodNotAllowedBody = null)
    {
        _healthPath = healthPath;
        _autoOptions = autoOptions;
        _methodNotAllowed = methodNotAllowed;
        _redirectTrailingSlash = redirectTrailingSlash;
        _redirectFixedPath = redirectFixedPath;
        _removeExtraSlash = removeExtraSlash;
        _accessLog = accessLog;
        _loggerSkipPaths = loggerSkipPaths ?? [];
        _notFoundBody = notFoundBody is null ? null : Encoding.UTF8.GetBytes(notFoundBody);
        _methodNotAllowedBody = methodNotAllowedBody is null ? null : Encoding.UTF8.GetBytes(methodNotAllowedBody);
    }

    public void ApplyDefaults(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        RouterOptions router = options.Router;
        router.HealthPath = _healthPath;
        router.AutoOptions = _autoOptions;
        router.MethodNotAllowed = _methodNotAllowed;
        router.RedirectTrailingSlash = _redirectTrailingSlash;
        router.RedirectFixedPath = _redirectFixedPath;
        router.RemoveExtraSlash = _removeExtraSlash;
        router.NotFoundBody = _notFoundBody;
        router.MethodNotAllowedBody = _methodNotAllowedBody;
        if (!_accessLog)
        {
            // A default the environment (GATEWAY_ACCESS_LOG=true) may turn back on.
            options.Telemetry.AccessLog = false;
        }

        foreach (string path in _loggerSkipPaths)
        {
            options.Telemetry.AccessLogSkipPaths.Add(path);
        }
    }

    public void ConfigureHost(GatewayHost host)
    {
    }
}

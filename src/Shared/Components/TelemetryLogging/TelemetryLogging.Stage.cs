using Gateway.Runtime.Hosting;
using Gateway.Runtime.Telemetry;

namespace Gateway.Components.TelemetryLogging;

/// <summary>
/// <c>telemetry/logging</c> at run time: fills the log settings the operator left unset (arguments and environment
/// win, docs/operations.md) before the server's log output is built. Nothing runs per request.
/// </summary>
public sealed class TelemetryLogging : IGatewayComponent
{
    private readonly string? _level;
    private readonly string? _format;
    private readonly string? _prefix;
    private readonly bool? _stdout;
    private readonly string? _syslogFacility;

    /// <param name="syslogFacility">With <c>syslog</c>: the facility (<c>local0</c> to <c>local7</c>); null without.</param>
    public TelemetryLogging(string? level, string? format, string? prefix, bool? stdout, string? syslogFacility = null)
    {
        _syslogFacility = syslogFacility;
        _level = level;
        _format = format;
        _prefix = prefix;
        _stdout = stdout;
    }

    public void ConfigureHost(GatewayHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        TelemetryOptions telemetry = host.Options.Telemetry;
        telemetry.LogLevel ??= _level is null ? null : TelemetryArguments.ParseLevel(_level);
        telemetry.LogFormat ??= _format switch
        {
            "json" => LogFormat.Json,
            "text" => LogFormat.Text,
            _ => null,
        };
        telemetry.LogPrefix ??= _prefix;
        telemetry.LogToStandardOutput ??= _stdout;
        telemetry.SyslogFacility ??= _syslogFacility;
    }
}

using Gateway.Generator.Emitters;

namespace Gateway.Components.TelemetryLogging;

/// <summary>The generated part of <c>telemetry/logging</c>: the settings, built once in <c>CompiledGateway</c>.</summary>
internal static class TelemetryLoggingEmitter
{
    public const string TypeName = "global::Gateway.Components.TelemetryLogging.TelemetryLogging";

    public static string[] Arguments(TelemetryLoggingModel logging) =>
    [
        $"level: {Text(logging.Level)}",
        $"format: {Text(logging.Format)}",
        $"prefix: {Text(logging.Prefix)}",
        $"stdout: {(logging.Stdout is { } stdout ? (stdout ? "true" : "false") : "null")}",
        .. (logging.SyslogFacility is null ? System.Array.Empty<string>() : [$"syslogFacility: {CSharp.String(logging.SyslogFacility)}"]),
    ];

    public static string Describe(TelemetryLoggingModel logging) =>
        $"telemetry/logging: level {logging.Level ?? "INFO"}, {logging.Format ?? "text"} lines to "
        + (logging.SyslogFacility is null
            ? (logging.Stdout == false ? "standard error" : "standard output")
            : $"syslog ({logging.SyslogFacility}){(logging.Stdout == true ? " and standard output" : string.Empty)}");

    private static string Text(string? value) => value is null ? "null" : CSharp.String(value);
}

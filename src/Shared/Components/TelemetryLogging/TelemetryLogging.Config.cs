using System;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.TelemetryLogging;

/// <summary>
/// <c>telemetry/logging</c> as read: the level's canonical name (<c>DEBUG</c> ... <c>CRITICAL</c>), the format
/// (<c>text</c> or <c>json</c>), the prefix, the stream, and the syslog facility (<c>local0</c> ... <c>local7</c>) when
/// <c>syslog</c> is on; null where the configuration says nothing.
/// </summary>
internal sealed record TelemetryLoggingModel(string? Level, string? Format, string? Prefix, bool? Stdout, string? SyslogFacility = null) : GatewayComponentModel;

/// <summary>
/// KrakenD's <c>telemetry/logging</c> at the configuration root (docs/configuration.md, logging): the level, the
/// format (<c>default</c> is a line of text, <c>logstash</c> a JSON object per line), a prefix, the stream, and syslog
/// (RFC 5424 to the local syslog socket, with <c>syslog_facility</c>, <c>local3</c> by default as in KrakenD). The
/// operator's <c>--log-level</c>, <c>--log-format</c> and their variables win over it.
/// </summary>
internal static class TelemetryLoggingConfig
{
    public static readonly ConfigNamespace Namespace = new("telemetry/logging", ConfigScope.Root, "github_com/devopsfaith/krakend-gologging");

    private static readonly string[] Supported = { "level", "format", "prefix", "stdout", "syslog", "syslog_facility", Keys.Comment };

    private static readonly string[] NotYet = { "custom_format" };

    private static readonly string[] Levels = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" };

    private static readonly string[] Facilities = { "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7" };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static GatewayComponentModel? Read(JsonNode node, GatewayReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"telemetry/logging\"", Supported, NotYet);

        string? level = null;
        if (node.Find("level") is { } levelProperty && read.Expect(levelProperty, JsonKind.String, "a level such as \"INFO\""))
        {
            level = levelProperty.Value.Text!.ToUpperInvariant();
            if (level == "WARN")
            {
                level = "WARNING";
            }

            if (!Keys.Contains(Levels, level))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"level\" \"{levelProperty.Value.Text}\" is not a level; use {string.Join(", ", Levels)}", levelProperty.Value);
            }
        }

        string? format = null;
        if (node.Find("format") is { } formatProperty && read.Expect(formatProperty, JsonKind.String, "\"default\" or \"logstash\""))
        {
            switch (formatProperty.Value.Text)
            {
                case "default" or "text":
                    format = "text";
                    break;
                case "logstash" or "json":
                    format = "json";
                    break;
                case "custom":
                    diagnostics.Report(DiagnosticKind.UnsupportedFeature, "\"format\" \"custom\" is not supported yet; use \"default\" (a line of text) or \"logstash\" (a JSON object per line)", formatProperty.Value);
                    break;
                default:
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"format\" \"{formatProperty.Value.Text}\" is not a log format; use \"default\" (a line of text) or \"logstash\" (a JSON object per line)", formatProperty.Value);
                    break;
            }
        }

        string? prefix = null;
        if (node.Find("prefix") is { } prefixProperty && read.Expect(prefixProperty, JsonKind.String, "a string"))
        {
            prefix = prefixProperty.Value.Text;
        }

        bool? stdout = node.Find("stdout") is { } stdoutProperty ? read.ParseBool(stdoutProperty) : null;
        string? syslogFacility = null;
        JsonProperty? facility = node.Find("syslog_facility");
        if (node.Find("syslog") is { } syslog && read.ParseBool(syslog))
        {
            syslogFacility = "local3";
            if (facility is not null && read.Expect(facility, JsonKind.String, "a facility from \"local0\" to \"local7\""))
            {
                syslogFacility = facility.Value.Text!.ToLowerInvariant();
                if (!Keys.Contains(Facilities, syslogFacility))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"syslog_facility\" \"{facility.Value.Text}\" is not a facility KrakenD accepts; use one of {string.Join(", ", Facilities)}", facility.Value);
                }
            }
        }
        else if (facility is not null)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"syslog_facility\" has no effect without \"syslog\": true", facility);
        }

        return diagnostics.ErrorCount > errorsBefore ? null : new TelemetryLoggingModel(level, format, prefix, stdout, syslogFacility);
    }
}

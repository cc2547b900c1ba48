using System;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.TelemetryLogging;

/// <summary>
/// <c>telemetry/logging</c> as read: the level's canonical name (<c>DEBUG</c> ... <c>CRITICAL</c>), the format
/// (<c>text</c> or <c>json</c>), the prefix and the stream; null where the configuration says nothing.
/// </summary>
internal sealed record TelemetryLoggingModel(string? Level, string? Format, string? Prefix, bool? Stdout) : GatewayComponentModel;

/// <summary>
/// KrakenD's <c>telemetry/logging</c> at the configuration root (docs/configuration.md, logging): the level, the
/// format (<c>default</c> is a line of text, <c>logstash</c> a JSON object per line), a prefix and the stream. The
/// operator's <c>--log-level</c>, <c>--log-format</c> and their variables win over it.
/// </summary>
internal static class TelemetryLoggingConfig
{
    public static readonly ConfigNamespace Namespace = new("telemetry/logging", ConfigScope.Root, "github_com/devopsfaith/krakend-gologging");

    private static readonly string[] Supported = { "level", "format", "prefix", "stdout", "syslog", "syslog_facility", Keys.Comment };

    private static readonly string[] NotYet = { "custom_format" };

    private static readonly string[] Levels = { "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL" };

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
        if (node.Find("syslog") is { } syslog && read.ParseBool(syslog))
        {
            diagnostics.ReportAtKey(DiagnosticKind.UnsupportedFeature, "\"syslog\" in \"telemetry/logging\" is not supported yet: the gateway writes its log to standard output (or standard error with \"stdout\": false); remove it or set it to false", syslog);
        }
        else if (node.Find("syslog_facility") is { } facility)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"syslog_facility\" has no effect without syslog output", facility);
        }

        return diagnostics.ErrorCount > errorsBefore ? null : new TelemetryLoggingModel(level, format, prefix, stdout);
    }
}

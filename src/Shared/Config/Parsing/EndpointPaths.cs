using System.Collections.Generic;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;

namespace Gateway.Config.Parsing;

/// <summary>
/// The public path of an endpoint (docs/configuration.md, endpoint; strict mode): segments separated by <c>/</c>, where a
/// segment written exactly <c>{name}</c> (name of letters, digits, <c>_</c>, <c>-</c>) captures that segment.
/// </summary>
internal static class EndpointPaths
{
    private static readonly string[] Reserved = { "/__health", "/__debug", "/__echo" };

    public static List<RouteSegmentModel>? Parse(string path, JsonNode node, DiagnosticBag diagnostics, bool disableRest = false)
    {
        foreach (string reserved in Reserved)
        {
            if (path == reserved || path.StartsWith(reserved + "/", System.StringComparison.Ordinal))
            {
                diagnostics.Report(DiagnosticKind.ReservedEndpointPath, $"{reserved} and the paths below it are reserved for the gateway's built-in endpoints; choose another path", node);
                return null;
            }
        }

        foreach (char c in path)
        {
            if (c == '?' || c == '#' || c == '*' || c <= ' ' || c >= 0x7F)
            {
                string what = c switch
                {
                    '?' => "a query string ('?'); the query is filtered with input_query_strings",
                    '#' => "a fragment ('#')",
                    '*' => "a wildcard ('*'); catch-all endpoints are not supported",
                    _ => c <= ' ' ? "a space or control character" : "a non-ASCII character (write it percent-encoded)",
                };
                diagnostics.Report(DiagnosticKind.InvalidEndpointPath, $"the endpoint path \"{path}\" contains {what}", node);
                return null;
            }
        }

        var segments = new List<RouteSegmentModel>();
        var names = new HashSet<string>();
        string[] parts = path.Substring(1).Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part.Length == 0 && i < parts.Length - 1)
            {
                diagnostics.Report(DiagnosticKind.InvalidEndpointPath, $"the endpoint path \"{path}\" has an empty segment ('//')", node);
                return null;
            }

            int open = part.IndexOf('{');
            int close = open < 0 ? -1 : part.IndexOf('}', open);
            bool whole = open == 0 && close == part.Length - 1;
            if (close > open + 1 && (whole || disableRest) && IsParameterName(part.Substring(open + 1, close - open - 1)))
            {
                string name = part.Substring(open + 1, close - open - 1);
                string prefix = part.Substring(0, open);
                string suffix = part.Substring(close + 1);
                if (suffix.IndexOf('{') >= 0)
                {
                    diagnostics.Report(DiagnosticKind.InvalidEndpointPath, $"the segment \"{part}\" of \"{path}\" has more than one parameter; the gateway supports one parameter per segment", node);
                    return null;
                }

                if (!names.Add(name))
                {
                    diagnostics.Report(DiagnosticKind.InvalidEndpointPath, $"the parameter {{{name}}} appears twice in \"{path}\"", node);
                    return null;
                }

                segments.Add(new RouteSegmentModel(name, IsParameter: true, prefix, suffix));
            }
            else
            {
                segments.Add(new RouteSegmentModel(part, IsParameter: false));
            }
        }

        return segments;
    }

    /// <summary>The path with parameter names erased: two routes with the same shape cannot be told apart.</summary>
    public static string Shape(List<RouteSegmentModel> route)
    {
        var shape = new StringBuilder();
        foreach (RouteSegmentModel segment in route)
        {
            shape.Append('/').Append(segment.IsParameter ? segment.Prefix + "{}" + segment.Suffix : segment.Text);
        }

        return shape.ToString();
    }

    private static bool IsParameterName(string name)
    {
        foreach (char c in name)
        {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':'))
            {
                return false;
            }
        }

        return name.Length > 0;
    }
}

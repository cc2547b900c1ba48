using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Http;

namespace Gateway.Components.ResponseHeaders;

/// <summary>The backend response headers an endpoint passes to the client, as written in the configuration, in order.</summary>
internal sealed record ResponseHeadersModel(EquatableArray<string> Names) : EndpointComponentModel;

/// <summary>
/// The gateway's own <c>gateway/response</c> namespace on an endpoint (docs/configuration.md, response headers):
/// <c>headers</c>, the backend response headers the client receives. KrakenD passes backend headers only with
/// <c>no-op</c>; an endpoint that composes its answer passes none unless it lists them here.
/// </summary>
internal static class ResponseHeadersConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/response", ConfigScope.Endpoint);

    private static readonly string[] Supported = { "headers", Keys.Comment };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static EndpointComponentModel? Read(JsonNode node, EndpointReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"gateway/response\"", Supported, Array.Empty<string>());
        if (node.Find("headers") is not { } headersProperty)
        {
            diagnostics.Report(DiagnosticKind.NoEffect, "\"gateway/response\" without \"headers\" has no effect; list the backend headers the client receives, as in \"headers\": [\"ETag\", \"Cache-Control\"]", node);
            return null;
        }

        List<string> names = ReadNames(headersProperty, read);
        if (context.OutputEncoding == "no-op")
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"headers\" has no effect with output_encoding \"no-op\": the backend's answer, every header included, reaches the client as it is", headersProperty);
            return null;
        }

        if (diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        if (names.Count == 0)
        {
            if (headersProperty.Value.Kind == JsonKind.Array && headersProperty.Value.Items!.Count == 0)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "an empty \"headers\" passes nothing to the client", headersProperty);
            }

            return null;
        }

        return new ResponseHeadersModel(EquatableArray.From(names));
    }

    /// <summary>
    /// The backend response headers listed in <paramref name="headersProperty"/> that may reach a client: header names,
    /// not hop-by-hop, not one the gateway writes itself, each once. Reports each that may not.
    /// </summary>
    internal static List<string> ReadNames(JsonProperty headersProperty, ConfigReader read)
    {
        DiagnosticBag diagnostics = read.Diagnostics;
        var names = new List<string>();
        foreach (JsonNode item in read.StringItems(headersProperty, "header names such as \"ETag\""))
        {
            string name = item.Text!;
            if (!HttpRules.IsHeaderName(name))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{name}\" in \"headers\" is not a header name", item);
            }
            else if (HttpRules.Contains(HttpRules.HopByHop, name))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{name}\" describes one connection (a hop-by-hop header, RFC 9110 §7.6.1), not the answer: it is never passed to the client", item);
            }
            else if (HttpRules.Contains(HttpRules.SetByTheGateway, name))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{name}\" is the gateway's own for the answer it writes (it describes that body, or reports on it): it is never taken from a backend", item);
            }
            else if (HttpRules.Contains(names.ToArray(), name))
            {
                diagnostics.Report(DiagnosticKind.NoEffect, $"\"{name}\" is listed twice in \"headers\"; header names compare case-insensitively", item);
            }
            else
            {
                names.Add(name);
            }
        }

        return names;
    }
}

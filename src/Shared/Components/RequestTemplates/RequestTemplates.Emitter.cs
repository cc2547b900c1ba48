using System.Collections.Generic;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.RequestTemplates;

/// <summary>The generated part of a backend with <c>gateway/request</c> templates: its request builder.</summary>
internal static class RequestTemplatesEmitter
{
    private const string Runtime = HandlerEmitter.Runtime;
    private const string Stage = "global::Gateway.Components.RequestTemplates";

    /// <summary>
    /// Backend <paramref name="index"/>'s body and headers from its templates: literal pieces as UTF-8 constants, a slot
    /// per placeholder, rendered by position (docs/configuration.md). Null when a value cannot be put in.
    /// </summary>
    public static void Emit(SourceWriter w, EndpointModel endpoint, int index, Dictionary<string, string> paths)
    {
        BackendModel backend = endpoint.Backends[index];
        string Fail = $"return {Stage}.BackendRequest.Fail(request);";
        w.Line($"/// <summary>Backend {index}: the body and headers its templates build; null when a value cannot be put in them.</summary>");
        w.Open($"private {Stage}.BackendRequest? BuildRequest{index}({HandlerEmitter.Parameters(HandlerEmitter.RequestSources(backend), backend.ForEach is not null)})");
        w.Line($"var request = new {Stage}.BackendRequest();");
        w.Open("try");
        if (backend.Body is { } body)
        {
            if (body.WholeResponse >= 0)
            {
                w.Line($"// The body: backend {body.WholeResponse}'s raw body, with its Content-Type.");
                w.Open($"if (!request.TrySetBody(response{body.WholeResponse}))");
                w.Line(Fail);
                w.Close();
            }
            else
            {
                w.Line("// The body: a JSON template.");
                w.Open($"using (var body = new {Stage}.JsonBodyBuilder())");
                foreach (TemplatePartModel part in body.Parts)
                {
                    if (part.Kind == TemplatePartKind.Literal)
                    {
                        w.Line($"body.AppendLiteral({CSharp.Utf8(part.Text)});");
                        continue;
                    }

                    string method = part.Position == TemplatePosition.JsonValue ? "TryAppendValue" : "TryAppendText";
                    string call = part.Kind switch
                    {
                        TemplatePartKind.ResponseValue or TemplatePartKind.Claim or TemplatePartKind.Item => $"body.{method}({HandlerEmitter.JsonSource(part)}, {paths[part.Text]})",
                        TemplatePartKind.WholeResponse => $"body.{(part.Position == TemplatePosition.JsonValue ? "TryAppendWholeValue" : "TryAppendWholeText")}(response{part.Source})",
                        _ => $"body.{method}({HandlerEmitter.TextSource(endpoint, part)})",
                    };
                    w.Open($"if (!{call}) // {{{HandlerEmitter.Shown(part)}}}");
                    HandlerEmitter.EmitFallback(w, part, $"body.AppendLiteral({CSharp.Utf8(part.Position == TemplatePosition.JsonValue ? part.Default ?? string.Empty : JsonEscaped(part.DefaultText))});", Fail);
                    w.Close();
                    w.Line();
                }

                w.Line("request.SetBody(body.Detach(), \"application/json\");");
                w.Close();
            }
        }

        bool first = backend.Body is null;
        foreach (HeaderTemplateModel header in backend.Headers)
        {
            if (!first)
            {
                w.Line();
            }

            first = false;
            w.Line($"// {CSharp.Comment(header.Name)}: {CSharp.Comment(header.Template)}");
            w.Open($"using (var header = new {Stage}.HeaderValueBuilder())");
            foreach (TemplatePartModel part in header.Parts)
            {
                if (part.Kind == TemplatePartKind.Literal)
                {
                    w.Line($"header.AppendLiteral({CSharp.Utf8(part.Text)});");
                    continue;
                }

                string call = part.Kind is TemplatePartKind.ResponseValue or TemplatePartKind.Claim or TemplatePartKind.Item
                    ? $"header.TryAppendJsonValue({HandlerEmitter.JsonSource(part)}, {paths[part.Text]})"
                    : $"header.TryAppendText({HandlerEmitter.TextSource(endpoint, part)})";
                w.Open($"if (!{call}) // {{{HandlerEmitter.Shown(part)}}}");
                HandlerEmitter.EmitFallback(w, part, $"header.AppendLiteral({CSharp.Utf8(part.DefaultText ?? string.Empty)});", Fail);
                w.Close();
                w.Line();
            }

            w.Open("if (header.ToValue() is not { } value)");
            w.Line(Fail);
            w.Close();
            w.Line();
            w.Line($"request.SetHeader({CSharp.String(header.Name)}, value);");
            w.Close();
        }

        w.Line();
        w.Line("return request;");
        w.Close();
        HandlerEmitter.EmitRenderCatch(w, index, $"{Stage}.BackendRequest", "request.Dispose();");
        w.Close();
    }

    /// <summary>A default's text form as it goes inside a JSON string: escaped.</summary>
    private static string JsonEscaped(string? text)
    {
        var escaped = new System.Text.StringBuilder();
        Gateway.Config.Json.JsonText.WriteEscaped(text ?? string.Empty, escaped);
        return escaped.ToString();
    }
}

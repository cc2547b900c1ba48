using System.Collections.Generic;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Martian;

/// <summary>The generated part of a backend with martian modifiers: its request and response operations, in order.</summary>
internal static class MartianEmitter
{
    private const string Operation = "global::Gateway.Components.Martian.MartianOperation";

    public static string StageExpression(MartianModel martian)
    {
        var request = new List<string>();
        var response = new List<string>();
        foreach (MartianOperationModel operation in martian.Operations)
        {
            string expression = Expression(operation);
            if (operation.Request)
            {
                request.Add(expression);
            }

            if (operation.Response)
            {
                response.Add(expression);
            }
        }

        return $"new global::Gateway.Components.Martian.MartianModifier(request: {Array(request)}, response: {Array(response)})";
    }

    public static string Describe(MartianModel martian) => $"martian modifiers ({martian.Operations.Count} operation(s))";

    private static string Array(List<string> items) =>
        items.Count == 0 ? $"global::System.Array.Empty<{Operation}>()" : $"new[] {{ {string.Join(", ", items)} }}";

    private static string Expression(MartianOperationModel o) => o.Kind switch
    {
        "header.Modifier" => $"{Operation}.SetHeader({CSharp.String(o.Name!)}, {CSharp.String(o.Value!)})",
        "header.Append" => $"{Operation}.AppendHeader({CSharp.String(o.Name!)}, {CSharp.String(o.Value!)})",
        "header.Blacklist" => $"{Operation}.RemoveHeaders({string.Join(", ", Strings(o.Names))})",
        "querystring.Modifier" => $"{Operation}.SetQuery({CSharp.String(o.Name!)}, {CSharp.String(o.Value!)})",
        "body.Modifier" => $"{Operation}.SetBody({CSharp.String(o.Body!)}, {Nullable(o.ContentType)})",
        _ => $"{Operation}.SetUrl({Nullable(o.Scheme)}, {Nullable(o.Host)}, {Nullable(o.Path)}, {Nullable(o.Query)})",
    };

    private static List<string> Strings(IEnumerable<string> values)
    {
        var items = new List<string>();
        foreach (string value in values)
        {
            items.Add(CSharp.String(value));
        }

        return items;
    }

    private static string Nullable(string? value) => value is null ? "null" : CSharp.String(value);
}

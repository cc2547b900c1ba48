using System.Collections.Generic;
using Gateway.Generator.Emitters;

namespace Gateway.Components.ResponseHeaders;

/// <summary>
/// The generated part of <c>gateway/response</c>: the list of headers, which every backend definition of the endpoint
/// keeps (<c>relayedHeaders</c>) and the stage passes on.
/// </summary>
internal static class ResponseHeadersEmitter
{
    private const string Field = "s_relayedHeaders";

    /// <summary>The expression, in the handler's constructor, that builds the stage.</summary>
    public const string StageExpression = "new global::Gateway.Components.ResponseHeaders.ResponseHeaderRelay(" + Field + ")";

    /// <summary>The argument every backend definition of the endpoint gets.</summary>
    public const string BackendArgument = "relayedHeaders: " + Field;

    public static void EmitMembers(SourceWriter w, ResponseHeadersModel model)
    {
        var names = new List<string>();
        foreach (string name in model.Names)
        {
            names.Add(CSharp.String(name));
        }

        w.Line();
        w.Line("/// <summary>gateway/response.headers: the backend response headers the client receives; each backend keeps only these.</summary>");
        w.Line($"private static readonly string[] {Field} = {{ {string.Join(", ", names)} }};");
    }

    public static string Describe(ResponseHeadersModel model) =>
        $"gateway/response passes {string.Join(", ", model.Names)} from the backends that succeeded (the first in configuration order{(Contains(model, "Set-Cookie") ? "; Set-Cookie from each" : string.Empty)})";

    private static bool Contains(ResponseHeadersModel model, string name)
    {
        foreach (string candidate in model.Names)
        {
            if (string.Equals(candidate, name, System.StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

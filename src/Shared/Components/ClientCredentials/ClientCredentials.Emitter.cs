using System.Collections.Generic;
using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.ClientCredentials;

/// <summary>The generated part of <c>auth/client-credentials</c>: the token client, built once per backend.</summary>
internal static class ClientCredentialsEmitter
{
    public static string StageExpression(ClientCredentialsModel model)
    {
        var parameters = new List<string>();
        foreach (TokenParameterModel parameter in model.Parameters)
        {
            parameters.Add($"new({CSharp.String(parameter.Name)}, {CSharp.String(parameter.Value)})");
        }

        string extra = parameters.Count == 0
            ? "global::System.Array.Empty<global::System.Collections.Generic.KeyValuePair<string, string>>()"
            : $"new global::System.Collections.Generic.KeyValuePair<string, string>[] {{ {string.Join(", ", parameters)} }}";
        return "new global::Gateway.Components.ClientCredentials.ClientCredentialsToken("
            + $"backends.Group({model.TokenHostGroup.ToString(CultureInfo.InvariantCulture)}), "
            + $"{CSharp.String(model.TokenPath)}, "
            + $"{CSharp.String(model.ClientId)}, "
            + $"{CSharp.String(model.ClientSecret)}, "
            + $"{(model.Scopes is null ? "null" : CSharp.String(model.Scopes))}, "
            + extra + ")";
    }
}

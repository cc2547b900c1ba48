using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.ClientCredentials;

/// <summary>A form field of the token request beyond the standard ones (<c>endpoint_params</c>).</summary>
internal sealed record TokenParameterModel(string Name, string Value);

/// <summary>
/// A backend's OAuth2 client: where its token comes from (a host group of its own, and the path), who the gateway is,
/// which scopes it asks for and any extra form fields.
/// </summary>
internal sealed record ClientCredentialsModel(
    int TokenHostGroup,
    string TokenPath,
    string ClientId,
    string ClientSecret,
    string? Scopes,
    EquatableArray<TokenParameterModel> Parameters) : BackendComponentModel;

/// <summary>
/// KrakenD's <c>auth/client-credentials</c> on a backend (docs/configuration.md, client credentials): the gateway gets
/// an access token from <c>token_url</c> with the OAuth2 client-credentials grant (RFC 6749 §4.4), keeps it until
/// shortly before it expires, and sends it to the backend as <c>Authorization: Bearer</c>.
/// </summary>
internal static class ClientCredentialsConfig
{
    public static readonly ConfigNamespace Namespace = new("auth/client-credentials", ConfigScope.Backend);

    private static readonly string[] Supported = { "client_id", "client_secret", "token_url", "scopes", "endpoint_params", Keys.Comment };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static BackendComponentModel? Read(JsonNode node, BackendReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"auth/client-credentials\"", Supported, Array.Empty<string>());
        string? id = Required(node, "client_id", read);
        string? secret = Required(node, "client_secret", read);
        string? tokenUrl = Required(node, "token_url", read);
        string? scopes = null;
        if (node.Find("scopes") is { } scopesProperty && read.Expect(scopesProperty, JsonKind.String, "a comma-separated list of scopes"))
        {
            // KrakenD splits the list on commas; the token request carries the scopes separated by spaces (RFC 6749 §3.3).
            var list = new List<string>();
            foreach (string scope in scopesProperty.Value.Text!.Split(','))
            {
                if (scope.Trim().Length > 0)
                {
                    list.Add(scope.Trim());
                }
            }

            scopes = list.Count == 0 ? null : string.Join(" ", list);
        }

        var parameters = new List<TokenParameterModel>();
        if (node.Find("endpoint_params") is { } paramsProperty && read.Expect(paramsProperty, JsonKind.Object, "an object of form fields, each a list of values"))
        {
            foreach (JsonProperty field in paramsProperty.Value.Properties!)
            {
                if (field.Value.Kind == JsonKind.String)
                {
                    parameters.Add(new TokenParameterModel(field.Name, field.Value.Text!));
                    continue;
                }

                if (!read.Expect(field, JsonKind.Array, "a list of values"))
                {
                    continue;
                }

                foreach (JsonNode value in field.Value.Items!)
                {
                    if (value.Kind != JsonKind.String)
                    {
                        diagnostics.Report(DiagnosticKind.WrongType, $"each value of \"{field.Name}\" must be a string", value);
                        continue;
                    }

                    parameters.Add(new TokenParameterModel(field.Name, value.Text!));
                }
            }
        }

        int group = -1;
        string path = "/";
        if (tokenUrl is not null)
        {
            if (!Uri.TryCreate(tokenUrl, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Fragment.Length > 0 || !string.IsNullOrEmpty(uri.UserInfo))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"token_url\" \"{tokenUrl}\" must be an absolute http(s) URL without credentials or fragment, such as \"https://auth.example.com/oauth2/token\"", node.Find("token_url")!.Value);
            }
            else if (!Hosts.TrySanitize(uri.GetLeftPart(UriPartial.Authority), out string host, out string problem))
            {
                diagnostics.Report(DiagnosticKind.InvalidHost, $"\"token_url\": {problem}", node.Find("token_url")!.Value);
            }
            else
            {
                group = context.HostGroup(new List<string> { host });
                path = uri.PathAndQuery;
            }
        }

        return diagnostics.ErrorCount > errorsBefore || id is null || secret is null || group < 0
            ? null
            : new ClientCredentialsModel(group, path, id, secret, scopes, EquatableArray.From(parameters));
    }

    private static string? Required(JsonNode node, string key, ConfigReader read)
    {
        if (node.Find(key) is not { } property)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"auth/client-credentials\" needs \"{key}\"", node.Start, 1);
            return null;
        }

        if (!read.Expect(property, JsonKind.String, "a string"))
        {
            return null;
        }

        if (property.Value.Text!.Length == 0)
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{key}\" is empty", property.Value);
            return null;
        }

        return property.Value.Text;
    }
}

using System;
using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.BackendHttp;

/// <summary>What a backend's <c>backend/http</c> namespace asks for: how a failed status reaches the client.</summary>
internal sealed record BackendHttpOptions(bool ReturnErrorCode, string? ReturnErrorDetails);

/// <summary>
/// KrakenD's <c>backend/http</c> namespace (<c>return_error_code</c>, <c>return_error_details</c>) and
/// <c>backend/http/client</c> (<c>send_body_on_redirect</c>, accepted: the gateway always repeats a buffered body on
/// 307/308). Their run-time part is the status rule of a backend call (docs/configuration.md, errors).
/// </summary>
internal static class BackendHttpConfig
{
    public static readonly ConfigNamespace Namespace = new("backend/http", ConfigScope.Backend, "github.com/devopsfaith/krakend/http");

    public static readonly ConfigNamespace ClientNamespace = new("backend/http/client", ConfigScope.Backend);

    private static readonly string[] Supported = { "return_error_code", "return_error_details", Keys.Comment };

    private static readonly string[] ClientSupported = { "send_body_on_redirect", Keys.Comment };

    public static BackendHttpOptions Read(ExtraConfig extra, ConfigReader read)
    {
        bool returnErrorCode = false;
        string? returnErrorDetails = null;
        if (extra.Find(Namespace) is { } http)
        {
            read.CheckKeys(http, "\"backend/http\"", Supported, Array.Empty<string>());
            returnErrorCode = read.ParseBool(http.Find("return_error_code"));
            if (http.Find("return_error_details") is { } details && read.Expect(details, JsonKind.String, "an alias name"))
            {
                // An empty alias turns the option off, and with it return_error_code (docs/compatibility.md).
                returnErrorDetails = details.Value.Text;
                if (returnErrorDetails!.Length == 0)
                {
                    returnErrorDetails = null;
                    returnErrorCode = false;
                }
            }
        }

        if (extra.Find(ClientNamespace) is { } client)
        {
            // The gateway buffers request bodies, so 307/308 redirects can always repeat the body.
            read.CheckKeys(client, "\"backend/http/client\"", ClientSupported, Array.Empty<string>());
            read.ParseBool(client.Find("send_body_on_redirect"));
        }

        return new BackendHttpOptions(returnErrorCode, returnErrorDetails);
    }
}

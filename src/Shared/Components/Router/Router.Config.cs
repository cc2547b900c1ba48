using Gateway.Config.Json;
using Gateway.Config.Parsing;

namespace Gateway.Components.Router;

/// <summary>
/// KrakenD's <c>router</c> namespace at the configuration root: the HTTP server's behaviour. The gateway implements
/// <c>return_error_msg</c> (docs/configuration.md, errors); the other options are refused until they are implemented.
/// </summary>
internal static class RouterConfig
{
    public static readonly ConfigNamespace Namespace = new("router", ConfigScope.Root, "github_com/luraproject/lura/router/gin");

    private static readonly string[] Supported = { "return_error_msg", Keys.Comment };

    private static readonly string[] NotYet =
    {
        "disable_health", "health_path", "auto_options", "disable_access_log", "logger_skip_paths", "disable_path_decoding",
        "hide_version_header", "disable_redirect_trailing_slash", "disable_redirect_fixed_path", "disable_handle_method_not_allowed",
        "remove_extra_slash", "forwarded_by_client_ip", "remote_ip_headers", "trusted_proxies", "app_engine", "max_multipart_memory",
        "use_h2c", "error_body",
    };

    /// <summary>Reads the namespace; returns <c>return_error_msg</c>.</summary>
    public static bool Read(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } router)
        {
            return false;
        }

        read.CheckKeys(router, "\"router\"", Supported, NotYet);
        return read.ParseBool(router.Find("return_error_msg"));
    }
}

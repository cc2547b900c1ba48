using System.Globalization;
using Gateway.Config.Parsing;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The server's lifecycle and client limits on the command line and in the environment: each setting is one argument
/// and one <c>GATEWAY_*</c> variable, read by <see cref="GatewayProgram"/> with the same precedence as the others
/// (argument over variable over default). A value that does not parse is a usage error, never a fallback.
/// </summary>
internal static class ServeSettings
{
    private sealed record Setting(string Argument, string Variable, string Value, string Help, Func<GatewayOptions, string, string?> Apply);

    private static readonly Setting[] s_settings =
    [
        new("--shutdown-timeout", "GATEWAY_SHUTDOWN_TIMEOUT", "DURATION", "after SIGTERM, the time requests in flight get to finish (default 15s)",
            (o, v) => SetDuration(v, allowZero: true, d => o.Shutdown.Timeout = d)),
        new("--shutdown-delay", "GATEWAY_SHUTDOWN_DELAY", "DURATION", "after SIGTERM, serve on this long with /__ready at 503 (default 0s)",
            (o, v) => SetDuration(v, allowZero: true, d => o.Shutdown.Delay = d)),
        new("--max-connections", "GATEWAY_MAX_CONNECTIONS", "N", "the most client connections open at once (default: no limit)",
            (o, v) => SetCount(v, n => o.Limits.MaxConnections = n)),
        new("--max-request-header-bytes", "GATEWAY_MAX_REQUEST_HEADER_BYTES", "SIZE", "the most header bytes a request may send, else 431 (default 32KiB)",
            (o, v) => SetHeaderBytes(v, o.Limits)),
        new("--request-headers-timeout", "GATEWAY_REQUEST_HEADERS_TIMEOUT", "DURATION", "the time a client gets to send a request's headers (default 30s)",
            (o, v) => SetDuration(v, allowZero: false, d => o.Limits.RequestHeadersTimeout = d)),
        new("--keep-alive-timeout", "GATEWAY_KEEP_ALIVE_TIMEOUT", "DURATION", "how long an idle client connection stays open (default 130s)",
            (o, v) => SetDuration(v, allowZero: false, d => o.Limits.KeepAliveTimeout = d)),
        new("--min-request-body-data-rate", "GATEWAY_MIN_REQUEST_BODY_DATA_RATE", "BYTES", "the slowest body upload in bytes/s after 5 s, 0: off (default 240)",
            (o, v) => SetRate(v, o.Limits)),
        new("--ratelimit-redis", "GATEWAY_RATELIMIT_REDIS", "CONFIGURATION", "the Redis of shared rate limits instead of the configured one: host:port, then options such as password=... or ssl=true",
            (o, v) => SetRateLimitRedis(v, o)),
        new("--dns-server", "GATEWAY_DNS_SERVER", "IP[:PORT]", "the name server asked for the SRV records of \"sd\": \"dns\" backends (default: the system's)",
            (o, v) => SetDnsServer(v, o.Backend)),
    ];

    /// <summary>The usage lines of these settings, aligned as <see cref="GatewayProgram"/>'s own.</summary>
    public static string Usage { get; } = string.Concat(s_settings.Select(s => UsageLines($"{s.Argument} {s.Value}", s.Help, s.Variable)));

    private static string UsageLines(string argument, string help, string variable) =>
        argument.Length < 34
            ? $"\n  {argument,-34}{help}\n{string.Empty,36}(env {variable})"
            : $"\n  {argument}\n{string.Empty,36}{help}\n{string.Empty,36}(env {variable})";

    public static bool IsArgument(string argument) => Find(argument) is not null;

    /// <summary>Applies an argument's value; the error text when it does not parse.</summary>
    public static string? Apply(GatewayOptions options, string argument, string value) => Find(argument)!.Apply(options, value);

    /// <summary>Applies every variable that is set; the first error, prefixed with the variable's name.</summary>
    public static string? ReadEnvironment(GatewayOptions options, Func<string, string?> variable)
    {
        foreach (Setting setting in s_settings)
        {
            string? value = variable(setting.Variable);
            if (!string.IsNullOrEmpty(value) && setting.Apply(options, value) is { } error)
            {
                return $"{setting.Variable}: {error}";
            }
        }

        return null;
    }

    /// <summary>
    /// A Go duration as the configuration writes them (<c>15s</c>, <c>500ms</c>, <c>1m30s</c>), or <c>0</c> where zero
    /// is allowed; null when invalid.
    /// </summary>
    internal static TimeSpan? ParseDuration(string value, bool allowZero)
    {
        string text = value.Trim();
        if (allowZero && text == "0")
        {
            return TimeSpan.Zero;
        }

        return Durations.TryParseMilliseconds(text, out long milliseconds, allowZero) ? TimeSpan.FromMilliseconds(milliseconds) : null;
    }

    private static Setting? Find(string argument)
    {
        foreach (Setting setting in s_settings)
        {
            if (setting.Argument == argument)
            {
                return setting;
            }
        }

        return null;
    }

    private static string? SetDuration(string value, bool allowZero, Action<TimeSpan> set)
    {
        if (ParseDuration(value, allowZero) is not { } duration)
        {
            return $"'{value}' is not a duration (e.g. 15s, 500ms, 1m{(allowZero ? ", or 0" : string.Empty)})";
        }

        set(duration);
        return null;
    }

    private static string? SetCount(string value, Action<long> set)
    {
        if (!long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count < 1)
        {
            return $"'{value}' is not a positive whole number";
        }

        set(count);
        return null;
    }

    private static string? SetHeaderBytes(string value, ServerLimits limits)
    {
        // Below 1 KiB ordinary requests (a browser's cookies and user agent) would fail; above 1 MiB one request's
        // headers alone could hold as much memory as thousands of ordinary requests.
        if (GatewayProgram.ParseSize(value, minimum: 1 << 10) is not { } bytes || bytes > 1 << 20)
        {
            return $"'{value}' is not a size from 1KiB to 1MiB (bytes, or a number with KiB or MiB)";
        }

        limits.MaxRequestHeaderBytes = (int)bytes;
        return null;
    }

    private static string? SetDnsServer(string value, Forwarding.BackendClientOptions backend)
    {
        if (!System.Net.IPEndPoint.TryParse(value.Trim(), out System.Net.IPEndPoint? server))
        {
            return $"'{value}' is not an IP address with an optional port (e.g. 10.0.0.2 or 127.0.0.1:8600)";
        }

        backend.DnsServer = server.Port == 0 ? new System.Net.IPEndPoint(server.Address, 53) : server;
        return null;
    }

    private static string? SetRateLimitRedis(string value, GatewayOptions options)
    {
        // The options after the address are the Redis client's own; it reports their mistakes when the server starts.
        string address = value.Split(',')[0].Trim();
        int colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            return $"'{value}' is not host:port, then options";
        }

        options.RateLimitRedis = value.Trim();
        return null;
    }

    private static string? SetRate(string value, ServerLimits limits)
    {
        if (!double.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double rate) || !double.IsFinite(rate))
        {
            return $"'{value}' is not a number of bytes per second (0 turns the check off)";
        }

        limits.MinRequestBodyDataRate = rate;
        return null;
    }
}

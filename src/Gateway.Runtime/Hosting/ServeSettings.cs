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
        new("--max-request-headers", "GATEWAY_MAX_REQUEST_HEADERS", "N", "the most header lines a request may send, else 431 (default 100)",
            (o, v) => SetWhole(v, 1, ServerLimits.MostRequestHeaders, n => o.Limits.MaxRequestHeaderCount = n)),
        new("--max-request-line-bytes", "GATEWAY_MAX_REQUEST_LINE_BYTES", "SIZE", "the longest request line (method, URL, version), else 414 (default 8KiB)",
            (o, v) => SetLineBytes(v, o.Limits)),
        new("--request-headers-timeout", "GATEWAY_REQUEST_HEADERS_TIMEOUT", "DURATION", "the time a client gets to send a request's headers (default 30s)",
            (o, v) => SetDuration(v, allowZero: false, d => o.Limits.RequestHeadersTimeout = d)),
        new("--keep-alive-timeout", "GATEWAY_KEEP_ALIVE_TIMEOUT", "DURATION", "how long an idle client connection stays open (default 130s)",
            (o, v) => SetDuration(v, allowZero: false, d => o.Limits.KeepAliveTimeout = d)),
        new("--min-request-body-data-rate", "GATEWAY_MIN_REQUEST_BODY_DATA_RATE", "BYTES", "the slowest body upload in bytes/s after 5 s, 0: off (default 240)",
            (o, v) => SetRate(v, o.Limits)),
        new("--max-backend-connections", "GATEWAY_MAX_BACKEND_CONNECTIONS", "N", "the most connections open to one backend host; more calls wait within their endpoint's timeout (default 1024)",
            (o, v) => SetWhole(v, 1, MostBackendConnections, n => o.Backend.MaxConnectionsPerServer = n)),
        new("--backend-http", "GATEWAY_BACKEND_HTTP", "gateway|sockets", "the HTTP client of plain-HTTP backends: the gateway's own HTTP/1.1 client or .NET's (default gateway)",
            (o, v) => SetBackendHttp(v, o.Backend)),
        new("--transport", "GATEWAY_TRANSPORT", "loop|sockets", "what reads and writes the sockets of clients and backends: the gateway's event loops or .NET's sockets (default loop)",
            (o, v) => SetTransport(v, o)),
        new("--max-backend-response-bytes", "GATEWAY_MAX_BACKEND_RESPONSE_BYTES", "SIZE", "the largest backend body; a larger one fails its step (default 16MiB)",
            (o, v) => SetResponseBytes(v, o.Backend)),
        new("--max-json-depth", "GATEWAY_MAX_JSON_DEPTH", "N", "the deepest nesting of a backend's JSON body, 1 to 64; deeper fails its step (default 64)",
            (o, v) => SetWhole(v, 1, Json.JsonObjectBody.MaxDepth, n => o.Backend.MaxJsonDepth = n)),
        new("--ratelimit-redis", "GATEWAY_RATELIMIT_REDIS", "CONFIGURATION", "the Redis of shared rate limits instead of the configured one: host:port, then options such as password=... or ssl=true",
            (o, v) => SetRateLimitRedis(v, o)),
        new("--dns-server", "GATEWAY_DNS_SERVER", "IP[:PORT]", "the name server asked for the SRV records of \"sd\": \"dns\" backends (default: the system's)",
            (o, v) => SetDnsServer(v, o.Backend)),
    ];

    /// <summary>More connections to one host than any backend serves well; a larger number is a mistake.</summary>
    private const int MostBackendConnections = 100_000;

    /// <summary>The largest backend body accepted: a buffer of one body is an array, and no single answer should hold more.</summary>
    private const long MostResponseBytes = 1L << 30;

    /// <summary>The usage lines of these settings, aligned as <see cref="GatewayProgram"/>'s own.</summary>
    public static string Usage { get; } = string.Concat(s_settings.Select(s => UsageLines($"{s.Argument} {s.Value}", s.Help, s.Variable)));

    private static string UsageLines(string argument, string help, string variable) =>
        argument.Length < 34
            ? $"\n  {argument,-34}{help}\n{string.Empty,36}(env {variable})"
            : $"\n  {argument}\n{string.Empty,36}{help}\n{string.Empty,36}(env {variable})";

    public static bool IsArgument(string argument) => Find(argument) is not null;

    /// <summary>
    /// The checks between settings, once every argument and variable is read: the usage error, or null. A backend body
    /// limit above the gateway-wide budget could never be reached: each such body would fail as over the budget instead.
    /// </summary>
    public static string? Validate(GatewayOptions options)
    {
        Forwarding.BackendClientOptions backend = options.Backend;
        return backend.MaxResponseBodyBytes > backend.MaxBufferedResponseBytes
            ? $"--max-backend-response-bytes ({backend.MaxResponseBodyBytes} bytes) is larger than --max-buffered-response-bytes ({backend.MaxBufferedResponseBytes} bytes): no such body could be held; raise the budget or lower the limit"
            : null;
    }

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

    private static string? SetWhole(string value, int minimum, int maximum, Action<int> set)
    {
        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number < minimum || number > maximum)
        {
            return $"'{value}' is not a whole number from {minimum} to {maximum}";
        }

        set(number);
        return null;
    }

    private static string? SetLineBytes(string value, ServerLimits limits)
    {
        // Below 1 KiB ordinary URLs (a few query parameters) would fail; Kestrel keeps a request line in its request
        // buffer (1 MiB), so more could never be read.
        if (GatewayProgram.ParseSize(value, minimum: 1 << 10) is not { } bytes || bytes > 1 << 20)
        {
            return $"'{value}' is not a size from 1KiB to 1MiB (bytes, or a number with KiB or MiB)";
        }

        limits.MaxRequestLineBytes = (int)bytes;
        return null;
    }

    private static string? SetResponseBytes(string value, Forwarding.BackendClientOptions backend)
    {
        if (GatewayProgram.ParseSize(value, minimum: 1 << 10) is not { } bytes || bytes > MostResponseBytes)
        {
            return $"'{value}' is not a size from 1KiB to 1GiB (bytes, or a number with KiB, MiB or GiB)";
        }

        backend.MaxResponseBodyBytes = (int)bytes;
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

    private static string? SetBackendHttp(string value, Forwarding.BackendClientOptions backend)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "gateway":
                backend.HttpClient = Forwarding.BackendHttpClient.Gateway;
                return null;
            case "sockets":
                backend.HttpClient = Forwarding.BackendHttpClient.Sockets;
                return null;
            default:
                return $"'{value}' is not a backend HTTP client: use gateway or sockets";
        }
    }

    private static string? SetTransport(string value, GatewayOptions options)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "loop":
                options.Transport = ServerTransport.EventLoop;
                return null;
            case "sockets":
                options.Transport = ServerTransport.Sockets;
                return null;
            default:
                return $"'{value}' is not a transport: use loop or sockets";
        }
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

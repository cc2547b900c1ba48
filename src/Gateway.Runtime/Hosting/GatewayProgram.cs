using System.Globalization;
using System.Net;
using Gateway.Config.Parsing;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The gateway executable's command line:
/// <c>gateway [--port N] [--listen-ip IP] [--backend-host CONFIGURED=ACTUAL]... [--max-buffered-response-bytes SIZE]</c>
/// and the server settings of <see cref="ServeSettings"/>; or one of the commands <c>check</c>, <c>migrate</c>, <c>version</c>,
/// <c>healthcheck</c>. Environment: <c>GATEWAY_PORT</c> (or KrakenD's <c>KRAKEND_PORT</c>), <c>GATEWAY_LISTEN_IP</c>,
/// <c>GATEWAY_BACKEND_HOSTS</c> (comma-separated <c>CONFIGURED=ACTUAL</c> pairs), <c>GATEWAY_MAX_BUFFERED_RESPONSE_BYTES</c>.
/// Arguments win over the environment, which wins over the configuration. Usage errors exit with code 2.
/// The parser is hand-written: System.CommandLine 2.0.15 with the same commands and options added 0.57 MB (4.6 %) to the
/// native binary, for no behaviour the gateway needs.
/// </summary>
public static class GatewayProgram
{
    public const int ExitUsage = 2;

    public static async Task<int> RunAsync(string[] args, GatewayDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "check")
        {
            return CheckCommand.Run(args[1..], Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == "migrate")
        {
            return MigrateCommand.Run(args[1..], Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == "version")
        {
            return VersionCommand.Run(args[1..], definition, Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == "healthcheck")
        {
            return await HealthcheckCommand.RunAsync(args[1..], definition, Environment.GetEnvironmentVariable, Console.Out, Console.Error).ConfigureAwait(false);
        }

        UseInlineSocketCompletions();
        GatewayOptions options = GatewayOptions.For(definition);
        string? error = ReadOptions(args, Environment.GetEnvironmentVariable, options, out bool help) ?? UnmatchedOverride(options, definition);
        if (error is not null)
        {
            await Console.Error.WriteLineAsync($"gateway: {error}\n{Usage}").ConfigureAwait(false);
            return ExitUsage;
        }

        if (help)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        try
        {
            await using var app = GatewayServer.Build(definition, options);
            await app.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (StartupProblem(e, options, definition) is { } problem)
        {
            // One line a person can act on, instead of the framework's stack trace.
            await Console.Error.WriteLineAsync($"gateway: {problem}").ConfigureAwait(false);
            return ExitStartup;
        }

        return 0;
    }

    /// <summary>The gateway could not start: a port in use, a certificate or a JWKS file it cannot load.</summary>
    public const int ExitStartup = 3;

    /// <summary>What stopped the gateway from starting, in a sentence, or null for an exception that is not one of those.</summary>
    internal static string? StartupProblem(Exception exception, GatewayOptions options, GatewayDefinition definition)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
                || (e is IOException && e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }))
            {
                int port = options.Port ?? definition.Port;
                return $"cannot listen on {options.ListenAddress}:{port}: the port is already in use; stop what uses it, or choose another port with --port N (or GATEWAY_PORT)";
            }

            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied })
            {
                return $"cannot listen on port {options.Port ?? definition.Port}: permission denied (ports below 1024 need privileges); choose another port with --port N";
            }

            if (e is InvalidOperationException && e.Message.StartsWith("tls:", StringComparison.Ordinal))
            {
                return e.Message;
            }

            // Something the configuration names that cannot be used (a JWKS file of auth/validator): its own sentence.
            if (e is GatewayStartupException)
            {
                return e.Message;
            }
        }

        return null;
    }

    /// <summary>
    /// Runs socket completions on the I/O thread instead of queueing them to the thread pool. The gateway's code
    /// never blocks, so this is safe, and it removes a thread hop per read and write on both sides of the proxy
    /// (measured: +20-50 % requests/s, perf/README.md). Must run before the first socket is created; an explicit
    /// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS setting wins.
    /// </summary>
    private static void UseInlineSocketCompletions()
    {
        const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }

    /// <summary>Reads the environment, then the arguments over it; the usage error, or null.</summary>
    internal static string? ReadOptions(string[] args, Func<string, string?> variable, GatewayOptions options, out bool help)
    {
        help = false;
        return ReadEnvironment(options, variable) ?? ReadArguments(args, options, out help) ?? ServeSettings.Validate(options);
    }

    private static readonly string Usage =
        "usage: gateway [--port N] [--listen-ip IP] [--backend-host CONFIGURED=ACTUAL]... [OPTION VALUE]...\n" +
        "       gateway check path/to/krakend.json [--format text|json] [--strict]\n" +
        "       gateway migrate path/to/krakend.json [-o OUT | --in-place]\n" +
        "       gateway version\n" +
        "       gateway healthcheck [--url URL] [--timeout DURATION]\n" +
        "  --port N                          listen on port N instead of the configuration's port\n" +
        "                                    (env GATEWAY_PORT, else KRAKEND_PORT)\n" +
        "  --listen-ip IP                    listen on one address instead of all (env GATEWAY_LISTEN_IP)\n" +
        "  --backend-host CONFIGURED=ACTUAL  send requests meant for a configured host to another base URL\n" +
        "                                    (env GATEWAY_BACKEND_HOSTS, comma separated)\n" +
        "  --max-buffered-response-bytes SIZE  the most backend response bytes held in memory at once, e.g. 256MiB\n" +
        "                                    (env GATEWAY_MAX_BUFFERED_RESPONSE_BYTES; default 128MiB)" +
        ServeSettings.Usage + "\n" +
        Telemetry.TelemetryArguments.Usage;

    /// <summary>Reads the GATEWAY_* variables (and KRAKEND_PORT) through <paramref name="variable"/>; the first error.</summary>
    internal static string? ReadEnvironment(GatewayOptions options, Func<string, string?> variable)
    {
        // KrakenD's own variable, so that a deployment moved from KrakenD keeps its port; GATEWAY_PORT wins over it.
        string? krakendPort = variable("KRAKEND_PORT");
        if (!string.IsNullOrEmpty(krakendPort) && SetPort(options, krakendPort) is { } krakendPortError)
        {
            return "KRAKEND_PORT: " + krakendPortError;
        }

        string? port = variable("GATEWAY_PORT");
        if (!string.IsNullOrEmpty(port) && SetPort(options, port) is { } portError)
        {
            return "GATEWAY_PORT: " + portError;
        }

        string? ip = variable("GATEWAY_LISTEN_IP");
        if (!string.IsNullOrEmpty(ip) && SetListenAddress(options, ip) is { } ipError)
        {
            return "GATEWAY_LISTEN_IP: " + ipError;
        }

        string? buffered = variable("GATEWAY_MAX_BUFFERED_RESPONSE_BYTES");
        if (!string.IsNullOrEmpty(buffered) && SetMaxBufferedBytes(options, buffered) is { } bufferedError)
        {
            return "GATEWAY_MAX_BUFFERED_RESPONSE_BYTES: " + bufferedError;
        }

        string? hosts = variable("GATEWAY_BACKEND_HOSTS");
        if (!string.IsNullOrEmpty(hosts))
        {
            foreach (string pair in hosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (AddHostOverride(options, pair) is { } hostError)
                {
                    return "GATEWAY_BACKEND_HOSTS: " + hostError;
                }
            }
        }

        return ServeSettings.ReadEnvironment(options, variable) ?? Telemetry.TelemetryArguments.ReadEnvironment(options.Telemetry, variable);
    }

    private static string? ReadArguments(string[] args, GatewayOptions options, out bool help)
    {
        help = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg is "-h" or "--help")
            {
                help = true;
                continue;
            }

            if (Telemetry.TelemetryArguments.IsSwitch(arg))
            {
                Telemetry.TelemetryArguments.Apply(options.Telemetry, arg, null);
                continue;
            }

            bool telemetry = Telemetry.TelemetryArguments.TakesValue(arg);
            if (!telemetry && arg is not ("--port" or "--listen-ip" or "--backend-host" or "--max-buffered-response-bytes") && !ServeSettings.IsArgument(arg))
            {
                return $"unknown argument '{arg}'";
            }

            if (i + 1 >= args.Length)
            {
                return $"{arg} needs a value";
            }

            string value = args[++i];
            string? error = arg switch
            {
                _ when telemetry => Telemetry.TelemetryArguments.Apply(options.Telemetry, arg, value),
                "--port" => SetPort(options, value),
                "--listen-ip" => SetListenAddress(options, value),
                "--max-buffered-response-bytes" => SetMaxBufferedBytes(options, value),
                _ when ServeSettings.IsArgument(arg) => ServeSettings.Apply(options, arg, value),
                _ => AddHostOverride(options, value),
            };
            if (error is not null)
            {
                return $"{arg}: {error}";
            }
        }

        return null;
    }

    private static string? SetPort(GatewayOptions options, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            return $"'{value}' is not a port number (0-65535)";
        }

        options.Port = port;
        return null;
    }

    private static string? SetListenAddress(GatewayOptions options, string value)
    {
        if (!IPAddress.TryParse(value, out IPAddress? address))
        {
            return $"'{value}' is not an IP address";
        }

        options.ListenAddress = address;
        return null;
    }

    private static string? SetMaxBufferedBytes(GatewayOptions options, string value)
    {
        if (ParseSize(value) is not { } bytes)
        {
            return $"'{value}' is not a size (bytes, or a number with KiB, MiB or GiB, at least 1MiB)";
        }

        options.Backend.MaxBufferedResponseBytes = bytes;
        return null;
    }

    /// <summary>A byte count written as digits with an optional KiB/MiB/GiB suffix; null when invalid or under 1 MiB.</summary>
    internal static long? ParseSize(string value) => ParseSize(value, 1 << 20);

    /// <summary>A byte count written as digits with an optional KiB/MiB/GiB suffix; null when invalid or under <paramref name="minimum"/>.</summary>
    internal static long? ParseSize(string value, long minimum)
    {
        ReadOnlySpan<char> text = value.AsSpan().Trim();
        long unit = 1;
        foreach ((string suffix, long size) in s_units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                text = text[..^suffix.Length].TrimEnd();
                break;
            }
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long count) && count <= long.MaxValue / unit && count * unit >= minimum
            ? count * unit
            : null;
    }

    private static readonly (string Suffix, long Size)[] s_units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30)];

    internal static string? AddHostOverride(GatewayOptions options, string pair)
    {
        int eq = pair.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == pair.Length - 1)
        {
            return $"'{pair}' is not CONFIGURED=ACTUAL";
        }

        string actual = pair[(eq + 1)..].TrimEnd('/');
        if (!Uri.TryCreate(actual, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.PathAndQuery != "/")
        {
            return $"'{actual}' is not an http(s)://host[:port] base URL";
        }

        // The port rule of configured hosts (GW1007); the URL parser alone would accept port 0.
        if (!Hosts.IsPort(uri.Port))
        {
            return $"'{actual}': {Hosts.PortRule}";
        }

        // The configured host as written ("localhost:9501") or normalised ("http://localhost:9501"): the key is the
        // normalised form, as the configuration's hosts are (GW1007's rules).
        string configured = pair[..eq].TrimEnd('/');
        options.HostOverrides[Hosts.TrySanitize(configured, out string sanitized, out _) ? sanitized : configured] = actual;
        return null;
    }

    /// <summary>An override whose configured host no backend uses would silently never apply: a start-up error naming the hosts.</summary>
    internal static string? UnmatchedOverride(GatewayOptions options, GatewayDefinition definition)
    {
        var configured = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string[] group in definition.HostGroups)
        {
            configured.UnionWith(group);
        }

        // A discovered group's service name, as --backend-host normalises it.
        foreach (int group in definition.ServiceDiscovery?.Groups ?? [])
        {
            configured.Remove(definition.HostGroups[group][0]);
            configured.Add(Forwarding.BackendRegistry.DiscoveredHostKey(definition.HostGroups[group][0]));
        }

        foreach (string host in options.HostOverrides.Keys)
        {
            if (!configured.Contains(host))
            {
                return $"--backend-host: no backend uses the host '{host}'; the configured hosts are {(configured.Count == 0 ? "none" : string.Join(", ", configured))}";
            }
        }

        return null;
    }
}

using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Routing;
using Gateway.Runtime.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Hosting;

/// <summary>Builds the Kestrel application that serves a compiled gateway.</summary>
public static class GatewayServer
{
    /// <summary>
    /// Creates the application: Kestrel on the chosen port, one dispatcher as the whole pipeline. The caller starts it
    /// (<c>RunAsync</c>, or <c>StartAsync</c> in tests) and disposes it.
    /// </summary>
    public static WebApplication Build(GatewayDefinition definition, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(options);

        // The event loops serve both sides or neither: a backend call then continues on the loop its client's request runs on.
        bool eventLoops = options.Transport == ServerTransport.EventLoop && OperatingSystem.IsLinux();
        options.Backend.EventLoops = eventLoops;
        var backends = new BackendRegistry(definition.HostGroups, new Dictionary<string, string>(options.HostOverrides, StringComparer.Ordinal), options.Backend, definition.ServiceDiscovery);
        var routes = new RouteTable(definition.CreateRoutes(backends));
        var stages = new List<IGatewayStage>();
        foreach (IGatewayComponent component in definition.Components)
        {
            if (component is IGatewayStage stage)
            {
                stages.Add(stage);
            }
        }

        var readiness = new Readiness();

        // A bare LF ends a request or header line only for Kestrel's leniency: a front proxy that splits lines on CRLF
        // alone reads "X-A: 1\nX-B: 2" as one header, this gateway as two, and with forward-all headers it would pass
        // on a header the proxy never saw (request smuggling's shape). Such requests get 400 (docs/reliability.md).
        AppContext.SetSwitch(BareLineFeedSwitch, true);

        // The empty builder: Kestrel and the host, without what the gateway never uses (appsettings files and their
        // watcher, configuration binding, routing, the console logger, HTTPS endpoints from configuration). Every part
        // left out is code the native binary does not carry.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();

        // The root components first: telemetry/logging and telemetry/opentelemetry fill what the operator left unset.
        var gatewayHost = new GatewayHost(builder, options);
        foreach (IGatewayComponent component in definition.Components)
        {
            component.ConfigureHost(gatewayHost);
        }

        TelemetryOptions telemetry = options.Telemetry;
        // With syslog, the standard stream gets the log too only when telemetry/logging.stdout says so (KrakenD's outputs).
        SyslogSink? syslog = telemetry.SyslogFacility is { } facility ? SyslogSink.Connect(telemetry.SyslogPath, facility) : null;
        var log = new GatewayLoggerProvider(
            new LogSink(telemetry.LogStream ?? (telemetry.LogToStandardOutput == false ? Console.OpenStandardError() : null), ownsStream: telemetry.LogStream is null),
            telemetry.LogFormat ?? LogFormat.Text,
            telemetry.LogPrefix,
            syslog,
            toSink: syslog is null || telemetry.LogToStandardOutput == true);
        // Registered through a factory so that the container disposes it: the last lines are written when the server stops.
        builder.Services.AddSingleton<ILoggerProvider>(_ => log);
        LogLevel level = telemetry.LogLevel ?? LogLevel.Information;
        builder.Logging.SetMinimumLevel(level);

        // Per-request framework logs cost more than the gateway's own work; keep warnings and start-up lines (unless
        // the level asks for less).
        builder.Logging.AddFilter("Microsoft.AspNetCore", Max(LogLevel.Warning, level));
        // With this category enabled at any level, hosting starts an Activity (and a log scope) for every request,
        // which then flows into every backend call. Unhandled errors are still logged by Kestrel's own category.
        // The gateway's own spans (Telemetry/) do not depend on it.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", Max(LogLevel.Information, level));
        builder.Logging.AddFilter("System.Net.Http", Max(LogLevel.Warning, level));
        options.ConfigureLogging?.Invoke(builder.Logging);

        int port = options.Port ?? definition.Port;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (options.Tls is { } tls)
            {
                // Loaded here, once: a missing or broken certificate stops the start with a line naming the file.
                Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions https = tls.CreateOptions();
                kestrel.Listen(options.ListenAddress, port, listen => listen.UseHttps(https));
            }
            else
            {
                kestrel.Listen(options.ListenAddress, port);
            }
            options.Limits.ApplyTo(kestrel.Limits);
            foreach (PrometheusExport scraped in TelemetryRuntime.OwnPorts(telemetry))
            {
                kestrel.Listen(scraped.ListenAddress ?? options.ListenAddress, scraped.Port!.Value);
            }
        });

        // SIGTERM/SIGINT: ShutdownDrain reports not ready for the delay, then Kestrel closes the listener and waits for
        // requests in flight. The host's timeout covers both steps; past it, Kestrel cuts the remaining connections.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Shutdown.Delay + options.Shutdown.Timeout);
        builder.Services.AddHostedService(services => new ShutdownDrain(readiness, options.Shutdown, services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(backends);

        // Kestrel's own pipes may continue inline too: the gateway never blocks on its I/O threads (see GatewayProgram).
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1");
        if (eventLoops)
        {
            // Registered last, so Kestrel asks it first; what it cannot bind goes to the sockets transport above.
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory, Transport.LoopTransportFactory>();
        }

        // Built by the container, which disposes it with the server (exporting what is still buffered), before the log.
        builder.Services.AddSingleton(services => TelemetryRuntime.Create(telemetry, log, services.GetRequiredService<ILoggerFactory>()));
        WebApplication app = builder.Build();
        TelemetryRuntime recording = app.Services.GetRequiredService<TelemetryRuntime>();
        var dispatcher = new GatewayDispatcher(routes, definition.EchoEndpoint, definition.DebugEndpoint, [.. stages], readiness, recording.Recorder, recording.Metrics, options.Router);
        ILogger gatewayLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(GatewayLog.Category);
        backends.StartDiscovery(gatewayLog);
        Transport.EventLoop.Unexpected = e => GatewayLog.TransportFailed(gatewayLog, e);
        // Kestrel's own refusals (limits, malformed requests) never reach the dispatcher: a line of their own.
        var rejections = new KestrelRejections(gatewayLog, app.Services.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        app.Lifetime.ApplicationStopped.Register(rejections.Dispose);
        app.Lifetime.ApplicationStopped.Register(backends.Dispose);
        app.Run(dispatcher.DispatchAsync);
        return app;
    }

    /// <summary>Kestrel's switch that makes a line ending in LF alone a malformed request (400).</summary>
    internal const string BareLineFeedSwitch = "Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators";

    private static LogLevel Max(LogLevel a, LogLevel b) => a > b ? a : b;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// The first step of a graceful stop. The host calls <see cref="StoppingAsync"/> before it stops any service, Kestrel
/// included, so the listener is still open here: the gateway reports not ready and keeps serving for
/// <see cref="ShutdownOptions.Delay"/>. Then Kestrel closes the listener and waits for requests in flight (the host's
/// shutdown timeout is the delay plus <see cref="ShutdownOptions.Timeout"/>, see <see cref="GatewayServer"/>).
/// </summary>
internal sealed class ShutdownDrain : IHostedLifecycleService
{
    private readonly Readiness _readiness;
    private readonly ShutdownOptions _options;
    private readonly ILogger _logger;

    public ShutdownDrain(Readiness readiness, ShutdownOptions options, ILoggerFactory loggers)
    {
        _readiness = readiness;
        _options = options;
        _logger = loggers.CreateLogger(GatewayLog.Category);
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _readiness.StartDraining();
        GatewayLog.Draining(_logger, _options.Delay.TotalSeconds, _options.Timeout.TotalSeconds);
        if (_options.Delay <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(_options.Delay, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host gave up waiting (its timeout covers the delay too): stop now rather than fail the stop.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once every service stopped; the token is the host's, cancelled when its timeout elapsed first.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            GatewayLog.ShutdownTimedOut(_logger, _options.Timeout.TotalSeconds);
        }

        return Task.CompletedTask;
    }
}

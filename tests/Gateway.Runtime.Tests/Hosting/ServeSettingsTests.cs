using Gateway.Runtime.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Runtime.Tests.Hosting;

/// <summary>
/// The lifecycle and client-limit settings: each argument and variable parses into <see cref="GatewayOptions"/>, the
/// argument wins, a bad value is a usage error naming the setting, and the values reach the options Kestrel and the
/// host actually run with.
/// </summary>
public class ServeSettingsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new GatewayOptions();

        Assert.Null(options.Limits.MaxConnections);
        Assert.Equal(32 * 1024, options.Limits.MaxRequestHeaderBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(130), options.Limits.KeepAliveTimeout);
        Assert.Equal(240, options.Limits.MinRequestBodyDataRate);
        Assert.Equal(100, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(8 * 1024, options.Limits.MaxRequestLineBytes);
        Assert.Equal(1024, options.Backend.MaxConnectionsPerServer);
        Assert.Equal(16 * 1024 * 1024, options.Backend.MaxResponseBodyBytes);
        Assert.Equal(64, options.Backend.MaxJsonDepth);
        Assert.Equal(TimeSpan.FromSeconds(15), options.Shutdown.Timeout);
        Assert.Equal(TimeSpan.Zero, options.Shutdown.Delay);
        Assert.Equal(ServerTransport.EventLoop, options.Transport);
    }

    [Fact]
    public void ReadOptions_EveryArgument_SetsItsOption()
    {
        GatewayOptions options = GatewayProgramPortTests.Read(
        [
            "--shutdown-timeout", "1m30s", "--shutdown-delay", "5s", "--max-connections", "10000", "--max-request-header-bytes", "64KiB",
            "--request-headers-timeout", "10s", "--keep-alive-timeout", "75s", "--min-request-body-data-rate", "100.5",
            "--ratelimit-redis", "redis.internal:6380,password=s3cret,ssl=true", "--dns-server", "10.0.0.2",
            "--max-request-headers", "40", "--max-request-line-bytes", "16KiB", "--max-backend-connections", "64",
            "--max-backend-response-bytes", "4MiB", "--max-json-depth", "32", "--transport", "sockets",
        ]);

        Assert.Equal(ServerTransport.Sockets, options.Transport);

        Assert.Equal(TimeSpan.FromSeconds(90), options.Shutdown.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Shutdown.Delay);
        Assert.Equal(10000, options.Limits.MaxConnections);
        Assert.Equal(64 * 1024, options.Limits.MaxRequestHeaderBytes);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(75), options.Limits.KeepAliveTimeout);
        Assert.Equal(100.5, options.Limits.MinRequestBodyDataRate);
        Assert.Equal("redis.internal:6380,password=s3cret,ssl=true", options.RateLimitRedis);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.2"), 53), options.Backend.DnsServer);
        Assert.Equal(40, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(16 * 1024, options.Limits.MaxRequestLineBytes);
        Assert.Equal(64, options.Backend.MaxConnectionsPerServer);
        Assert.Equal(4 * 1024 * 1024, options.Backend.MaxResponseBodyBytes);
        Assert.Equal(32, options.Backend.MaxJsonDepth);
    }

    [Fact]
    public void ReadOptions_EveryVariable_SetsItsOption()
    {
        GatewayOptions options = GatewayProgramPortTests.Read(
            [],
            ("GATEWAY_SHUTDOWN_TIMEOUT", "0"),
            ("GATEWAY_SHUTDOWN_DELAY", "500ms"),
            ("GATEWAY_MAX_CONNECTIONS", "2"),
            ("GATEWAY_MAX_REQUEST_HEADER_BYTES", "1024"),
            ("GATEWAY_REQUEST_HEADERS_TIMEOUT", "2s"),
            ("GATEWAY_KEEP_ALIVE_TIMEOUT", "1h"),
            ("GATEWAY_MIN_REQUEST_BODY_DATA_RATE", "0"),
            ("GATEWAY_RATELIMIT_REDIS", "[::1]:6379"),
            ("GATEWAY_DNS_SERVER", "127.0.0.1:8600"),
            ("GATEWAY_MAX_REQUEST_HEADERS", "1"),
            ("GATEWAY_MAX_REQUEST_LINE_BYTES", "1MiB"),
            ("GATEWAY_MAX_BACKEND_CONNECTIONS", "1"),
            ("GATEWAY_MAX_BACKEND_RESPONSE_BYTES", "1KiB"),
            ("GATEWAY_MAX_JSON_DEPTH", "1"),
            ("GATEWAY_TRANSPORT", "Sockets"));

        Assert.Equal(ServerTransport.Sockets, options.Transport);

        Assert.Equal(TimeSpan.Zero, options.Shutdown.Timeout);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Shutdown.Delay);
        Assert.Equal(2, options.Limits.MaxConnections);
        Assert.Equal(1024, options.Limits.MaxRequestHeaderBytes);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromHours(1), options.Limits.KeepAliveTimeout);
        Assert.Equal(0, options.Limits.MinRequestBodyDataRate);
        Assert.Equal("[::1]:6379", options.RateLimitRedis);
        Assert.Equal(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 8600), options.Backend.DnsServer);
        Assert.Equal(1, options.Limits.MaxRequestHeaderCount);
        Assert.Equal(1024 * 1024, options.Limits.MaxRequestLineBytes);
        Assert.Equal(1, options.Backend.MaxConnectionsPerServer);
        Assert.Equal(1024, options.Backend.MaxResponseBodyBytes);
        Assert.Equal(1, options.Backend.MaxJsonDepth);
    }

    [Fact]
    public void ReadOptions_ArgumentAndVariable_ArgumentWins()
    {
        GatewayOptions options = GatewayProgramPortTests.Read(["--shutdown-timeout", "3s"], ("GATEWAY_SHUTDOWN_TIMEOUT", "20s"));

        Assert.Equal(TimeSpan.FromSeconds(3), options.Shutdown.Timeout);
    }

    [Theory]
    [InlineData("--shutdown-timeout", "15")] // a bare number is not a duration: seconds or milliseconds?
    [InlineData("--shutdown-timeout", "-1s")]
    [InlineData("--shutdown-delay", "soon")]
    [InlineData("--request-headers-timeout", "0")] // zero would cut every request
    [InlineData("--keep-alive-timeout", "0s")]
    [InlineData("--max-connections", "0")]
    [InlineData("--max-connections", "1e3")]
    [InlineData("--max-request-header-bytes", "512")]
    [InlineData("--max-request-header-bytes", "2MiB")]
    [InlineData("--min-request-body-data-rate", "-5")]
    [InlineData("--min-request-body-data-rate", "fast")]
    [InlineData("--ratelimit-redis", "redis.internal")]
    [InlineData("--ratelimit-redis", "redis.internal:0,password=x")]
    [InlineData("--dns-server", "consul.internal:8600")]
    [InlineData("--max-request-headers", "0")]
    [InlineData("--max-request-headers", "10001")]
    [InlineData("--max-request-line-bytes", "512")]
    [InlineData("--max-request-line-bytes", "2MiB")]
    [InlineData("--max-backend-connections", "0")]
    [InlineData("--max-backend-connections", "-4")]
    [InlineData("--max-backend-connections", "many")]
    [InlineData("--max-backend-response-bytes", "100")]
    [InlineData("--max-backend-response-bytes", "2GiB")]
    [InlineData("--max-json-depth", "0")]
    [InlineData("--max-json-depth", "65")]
    [InlineData("--max-json-depth", "1.5")]
    [InlineData("--transport", "epoll")]
    public void ReadOptions_BadArgumentValue_ErrorNamesTheArgument(string argument, string value)
    {
        string? error = GatewayProgram.ReadOptions([argument, value], GatewayProgramPortTests.Environment(), new GatewayOptions(), out _);

        Assert.StartsWith($"{argument}: '{value}' is not", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GATEWAY_SHUTDOWN_TIMEOUT", "forever")]
    [InlineData("GATEWAY_MAX_CONNECTIONS", "lots")]
    [InlineData("GATEWAY_MIN_REQUEST_BODY_DATA_RATE", "NaN")]
    [InlineData("GATEWAY_MAX_BACKEND_CONNECTIONS", "0")]
    [InlineData("GATEWAY_MAX_JSON_DEPTH", "100")]
    [InlineData("GATEWAY_TRANSPORT", "io_uring")]
    public void ReadOptions_BadVariableValue_ErrorNamesTheVariable(string variable, string value)
    {
        string? error = GatewayProgram.ReadOptions([], GatewayProgramPortTests.Environment((variable, value)), new GatewayOptions(), out _);

        Assert.StartsWith($"{variable}: '{value}' is not", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOptions_ResponseLimitOverTheBudget_ErrorNamesBoth()
    {
        string? error = GatewayProgram.ReadOptions(["--max-backend-response-bytes", "64MiB", "--max-buffered-response-bytes", "32MiB"], GatewayProgramPortTests.Environment(), new GatewayOptions(), out _);

        Assert.StartsWith("--max-backend-response-bytes (67108864 bytes) is larger than --max-buffered-response-bytes (33554432 bytes)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadOptions_ArgumentWithoutValue_Error() =>
        Assert.Equal("--shutdown-delay needs a value", GatewayProgram.ReadOptions(["--shutdown-delay"], GatewayProgramPortTests.Environment(), new GatewayOptions(), out _));

    [Theory]
    [InlineData(ServerTransport.EventLoop, true)]
    [InlineData(ServerTransport.Sockets, false)]
    public async Task Build_Transport_KestrelsListenersAndTheBackendClientFollowIt(ServerTransport transport, bool loops)
    {
        var options = new GatewayOptions { Port = 0, Transport = transport };

        await using WebApplication app = GatewayServer.Build(EmptyDefinition(), options);

        // Kestrel asks the last listener factory registered first: the loops' when they serve, else the sockets'.
        var factory = app.Services.GetServices<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>().Last();
        Assert.Equal(loops, factory is Gateway.Runtime.Transport.LoopTransportFactory);
        Assert.Equal(loops, options.Backend.EventLoops);
    }

    [Fact]
    public async Task Build_Limits_ReachKestrelsOptions()
    {
        var options = new GatewayOptions { Port = 0 };
        options.Limits.MaxConnections = 123;
        options.Limits.MaxRequestHeaderBytes = 4096;
        options.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(7);
        options.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(61);
        options.Limits.MinRequestBodyDataRate = 50;
        options.Limits.MaxRequestHeaderCount = 12;
        options.Limits.MaxRequestLineBytes = 2048;

        await using WebApplication app = GatewayServer.Build(EmptyDefinition(), options);
        KestrelServerLimits limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(123, limits.MaxConcurrentConnections);
        Assert.Equal(4096, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(TimeSpan.FromSeconds(7), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(61), limits.KeepAliveTimeout);
        Assert.Equal(50, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(ServerLimits.MinRequestBodyDataRateGracePeriod, limits.MinRequestBodyDataRate.GracePeriod);
        Assert.Equal(12, limits.MaxRequestHeaderCount);
        Assert.Equal(2048, limits.MaxRequestLineSize);
    }

    [Fact]
    public async Task Build_ZeroBodyRate_TurnsKestrelsCheckOff()
    {
        var options = new GatewayOptions { Port = 0 };
        options.Limits.MinRequestBodyDataRate = 0;

        await using WebApplication app = GatewayServer.Build(EmptyDefinition(), options);

        Assert.Null(app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MinRequestBodyDataRate);
    }

    [Fact]
    public async Task Build_Shutdown_HostTimeoutCoversTheDelayAndTheDrain()
    {
        var options = new GatewayOptions { Port = 0 };
        options.Shutdown.Delay = TimeSpan.FromSeconds(5);
        options.Shutdown.Timeout = TimeSpan.FromSeconds(20);

        await using WebApplication app = GatewayServer.Build(EmptyDefinition(), options);

        Assert.Equal(TimeSpan.FromSeconds(25), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.Contains(app.Services.GetServices<IHostedService>(), s => s is ShutdownDrain);
    }

    private static GatewayDefinition EmptyDefinition() => new(8080, [], _ => []);
}

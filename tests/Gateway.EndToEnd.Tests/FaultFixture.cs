using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Forwarding;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The faults gateway (Configs/faults.json) with its backends: a real Kestrel backend for well-behaved answers
/// (<c>a.test</c>, <c>b.test</c>) and a hand-written one for answers no real server sends (<c>raw.test</c>). A
/// second gateway over the same configuration has small body limits, for the memory-bound tests.
/// </summary>
public sealed class FaultFixture : IAsyncLifetime
{
    /// <summary>The largest body the small-limits gateway accepts from a backend.</summary>
    public const int SmallBodyLimit = 1024 * 1024;

    /// <summary>
    /// The small-limits gateway's budget: room for one body at its limit while the buffer grows to it (the old array
    /// and the new one), and not for more; a buffer that grew past the limit would not fit either.
    /// </summary>
    public const long SmallBudget = (2 * SmallBodyLimit) + (64 * 1024);

    private volatile FaultPlan? _plan;

    public TestBackend A { get; private set; } = null!;

    public TestBackend B { get; private set; } = null!;

    public RawBackend Raw { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public GatewayUnderTest SmallLimits { get; private set; } = null!;

    public CapturingLoggerProvider Log { get; } = new();

    /// <summary>Makes the stage <paramref name="stage"/> of every call to backend A throw, until <see cref="Heal"/>.</summary>
    public void Break(StepStage stage) => _plan = new FaultPlan(stage, A.BaseUrl);

    public void Heal() => _plan = null;

    public async Task InitializeAsync()
    {
        A = await TestBackend.StartAsync();
        B = await TestBackend.StartAsync();
        Raw = RawBackend.Start();
        A.Answer("/hop").RedirectTo("/landing");
        A.Answer("/landing").WithJson("""{"a": 1, "dropped": true}""");
        A.Answer("/ok").WithJson("""{"from_chain": true}""");
        B.Answer("/ok").WithJson("""{"b": 2}""");
        A.Answer("/down").WithJson("""{"down": true}""").WithStatus(503);
        B.Answer("/echo-headers").WithJson("""{"echoed": true}""");

        var hosts = new Dictionary<string, string>
        {
            ["http://a.test:8080"] = A.BaseUrl,
            ["http://b.test:8080"] = B.BaseUrl,
            ["http://raw.test:8080"] = Raw.BaseUrl,
        };
        Gateway = await GatewayUnderTest.StartAsync(global::Gateway.EndToEnd.Faults.CompiledGateway.Definition, hosts, options =>
        {
            options.Backend.StageProbe = Probe;
            options.ConfigureLogging = logging => logging.AddProvider(Log);
        });
        SmallLimits = await GatewayUnderTest.StartAsync(global::Gateway.EndToEnd.Faults.CompiledGateway.Definition, hosts, options =>
        {
            options.Backend.MaxResponseBodyBytes = SmallBodyLimit;
            options.Backend.MaxBufferedResponseBytes = SmallBudget;
        });
    }

    private void Probe(StepStage stage, string host)
    {
        if (_plan is { } plan && plan.Stage == stage && string.Equals(plan.Host, host, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"injected fault at {stage}");
        }
    }

    /// <summary>Reads exactly <paramref name="length"/> body bytes after a request head, in pieces of <paramref name="piece"/>.</summary>
    public static async Task<byte[]> ReadBodyAsync(NetworkStream stream, int length, int piece = 64 * 1024, TimeSpan pause = default)
    {
        var body = new byte[length];
        int read = 0;
        while (read < length)
        {
            int n = await stream.ReadAsync(body.AsMemory(read, Math.Min(piece, length - read)));
            if (n == 0)
            {
                throw new IOException("the request body ended early");
            }

            read += n;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }

        return body;
    }

    /// <summary>
    /// Holds the connection without sending more, until the gateway closes it (true) or <paramref name="atMost"/> passes
    /// (false): a backend that stalls, which learns whether the gateway gave up on it.
    /// </summary>
    public static async Task<bool> HoldUntilClosedAsync(NetworkStream stream, TimeSpan atMost)
    {
        using var deadline = new CancellationTokenSource(atMost);
        var buffer = new byte[256];
        try
        {
            while (await stream.ReadAsync(buffer, deadline.Token) > 0)
            {
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true; // reset by the gateway
        }
    }

    public static int ContentLength(string head)
    {
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public static Task WriteJsonAsync(NetworkStream stream, string json) =>
        RawBackend.WriteAsync(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(json)}\r\nConnection: close\r\n\r\n{json}");

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await SmallLimits.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Raw.DisposeAsync();
    }

    private sealed record FaultPlan(StepStage Stage, string Host);
}

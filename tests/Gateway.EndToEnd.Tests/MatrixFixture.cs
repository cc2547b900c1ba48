using Gateway.Runtime.Forwarding;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The fault-matrix gateway (Configs/matrix.json, 2 s timeout, three to five times what the big-string row takes on an
/// idle machine) with a healthy Kestrel backend and a hand-written faulty one that misbehaves as the path's mode says
/// (<see cref="FaultModes"/>). The access log is captured, so that a test can read the status the gateway recorded for
/// a client that went away.
/// </summary>
public sealed class MatrixFixture : IAsyncLifetime
{
    public TestBackend Healthy { get; private set; } = null!;

    public RawBackend Faulty { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public CapturedStream Log { get; } = new();

    /// <summary>Resolved by the faulty backend's <c>/held</c>: it received the request and holds its answer back.</summary>
    public TaskCompletionSource HeldArrived { get; private set; } = NewSignal();

    /// <summary>Resolved when the gateway closed the held connection (true), or after 30 s without that (false).</summary>
    public TaskCompletionSource<bool> HeldReleased { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long BudgetInUse => Gateway.Services.GetRequiredService<BackendRegistry>().Budget.InUse;

    public async Task InitializeAsync()
    {
        Healthy = await TestBackend.StartAsync();
        Faulty = RawBackend.Start();
        Healthy.Answer("/ok").WithJson("""{"b": 2}""");
        Healthy.Answer("/last").WithJson("""{"last": true}""");
        Healthy.On("echo", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            await TestBackend.Json(context, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["target"] = context.Request.Path + context.Request.QueryString,
                ["body"] = body,
                ["x_one"] = context.Request.Headers["X-One"].ToString(),
            }));
        });
        Faulty.On("m", FaultModes.ServeAsync);
        Faulty.On("held", async (stream, head) =>
        {
            await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head));
            HeldArrived.TrySetResult();
            HeldReleased.TrySetResult(await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30)));
        });

        var hosts = new Dictionary<string, string>
        {
            ["http://healthy.test:8080"] = Healthy.BaseUrl,
            ["http://faulty.test:8080"] = Faulty.BaseUrl,
            ["http://closed.test:8080"] = GatewayUnderTest.ClosedPortUrl(),
        };
        Gateway = await GatewayUnderTest.StartAsync(global::Gateway.EndToEnd.Matrix.CompiledGateway.Definition, hosts, options =>
        {
            // Client limits small enough to reach within a test; the body rate check is off, so that only the
            // endpoint's timeout can bound a slow upload.
            options.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
            options.Limits.MinRequestBodyDataRate = 0;
            options.Telemetry.LogFormat = global::Gateway.Runtime.Telemetry.LogFormat.Json;
            options.Telemetry.LogStream = Log;
        });
    }

    /// <summary>Arms the held backend for one more request.</summary>
    public void RearmHeld()
    {
        HeldArrived = NewSignal();
        HeldReleased = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Healthy.DisposeAsync();
        await Faulty.DisposeAsync();
    }
}

using System.Net;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Routing;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// An endpoint that fails as a whole (an exception outside any step: generated steps cannot throw, so a hand-written
/// handler stands in for a defect) cancels the calls it started, waits for them, and answers a logged, well-formed 500.
/// </summary>
public sealed class WholeEndpointFailureTests
{
    [Fact]
    public async Task HandlerThrowsWhileACallRuns_CallCancelledAnd500Logged()
    {
        await using TestBackend backend = await TestBackend.StartAsync();
        backend.Answer("/slow").After(TimeSpan.FromSeconds(30)).WithJson("{}");

        // The handler throws only once the backend has the request: before that, cancelling the call would only mean
        // it was never sent, and there would be nothing running to cancel.
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.RequestArrived += path =>
        {
            if (path.StartsWith("/slow", StringComparison.Ordinal))
            {
                arrived.TrySetResult();
            }
        };

        var log = new CapturingLoggerProvider();
        var definition = new GatewayDefinition(
            port: 0,
            hostGroups: [["http://slow.test:8080"]],
            createRoutes: registry => [new RouteEntry("GET", "/broken", [RouteSegment.Literal("broken")], new BrokenHandler(registry, arrived.Task))]);
        await using GatewayUnderTest gateway = await GatewayUnderTest.StartAsync(
            definition,
            new Dictionary<string, string> { ["http://slow.test:8080"] = backend.BaseUrl },
            options => options.ConfigureLogging = logging => logging.AddProvider(log));

        using HttpResponseMessage response = await gateway.Client.GetAsync("/broken");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());

        // The running call was cancelled (the backend saw its request aborted during its 30 s delay), not left to run.
        // The wait bound only keeps a broken gateway from hanging the run.
        ReceivedRequest call = Assert.Single(await backend.WaitForAsync("/slow", atMost: TimeSpan.FromSeconds(40)));
        Assert.True(call.Aborted, "the backend's 30 s answer ran to the end");
        Assert.Contains(log.Lines, l => l.Message == "GET /broken: unexpected error, answered 500" && l.Exception?.Message == "a defect between two calls");
    }

    /// <summary>Starts a call to a slow backend, then throws before its second call, as a defect would.</summary>
    private sealed class BrokenHandler(BackendRegistry registry, Task arrived)
        : EndpointHandler(
            new EndpointDefinition(TimeSpan.FromSeconds(25)),
            [new BackendDefinition(0, HttpMethod.Get, registry.Group(0)), new BackendDefinition(1, HttpMethod.Get, registry.Group(0))],
            registry.Options)
    {
        protected override async Task CallBackendsAsync(ProxyExchange exchange)
        {
            _ = exchange.SendAsync(Backends[0], Backends[0].Hosts.NextHost() + "/slow"); // joined by the exchange, not here
            await arrived.WaitAsync(TimeSpan.FromSeconds(20));
            throw new InvalidOperationException("a defect between two calls");
        }
    }
}

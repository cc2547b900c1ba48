using System.Net;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Proxy;

public class ProxyExchangeTests
{
    [Fact]
    public async Task DisposeAsync_CallStillRunning_WaitsForItBeforeReleasing()
    {
        var handler = new HeldHandler();
        var options = new BackendClientOptions { HandlerFactory = () => handler };
        using var registry = new BackendRegistry([["http://held.test"]], new Dictionary<string, string>(), options);
        var backends = new[] { new BackendDefinition(0, HttpMethod.Post, registry.Group(0)) };
        var endpoint = new EndpointDefinition(TimeSpan.FromSeconds(30));

        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream("the client's body"u8.ToArray());
        context.Request.ContentLength = 17;
        using ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, endpoint, 1024))!;
        SharedBody body = forwarded.Body!;

        var exchange = new ProxyExchange(context, [], forwarded, endpoint, backends, 1024);
        Task<BackendResult> call = exchange.SendAsync(backends[0], "http://held.test/x");
        await handler.Entered;

        // The request is over for the handler: the client's reference goes, the exchange is disposed.
        forwarded.Dispose();
        ValueTask disposing = exchange.DisposeAsync();
        await Task.Delay(50);
        Assert.False(disposing.IsCompleted);
        Assert.True(body.IsAlive); // the call's content still holds the body

        handler.Release();
        await disposing;
        // The call counts as ended in its last finally, a moment before its task completes (disposal may resume first).
        await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("the client's body", handler.Sent);
        Assert.False(body.IsAlive);
    }

    [Fact]
    public async Task Abandon_CancelsRunningCalls()
    {
        var handler = new HeldHandler();
        var options = new BackendClientOptions { HandlerFactory = () => handler };
        using var registry = new BackendRegistry([["http://held.test"]], new Dictionary<string, string>(), options);
        var backends = new[] { new BackendDefinition(0, HttpMethod.Get, registry.Group(0)) };
        var endpoint = new EndpointDefinition(TimeSpan.FromSeconds(30));
        var context = new DefaultHttpContext();
        using ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, endpoint, 1024))!;

        var exchange = new ProxyExchange(context, [], forwarded, endpoint, backends, 1024);
        Task<BackendResult> call = exchange.SendAsync(backends[0], "http://held.test/x");
        await handler.Entered;
        exchange.Abandon();
        await exchange.DisposeAsync();

        Assert.Equal(BackendFailure.Timeout, (await call).Failure);
    }

    [Fact]
    public async Task SendAsync_ConcurrentCalls_FirstSuccessWinsAndCancelsTheSlowCopy()
    {
        int calls = 0;
        var slowCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var backend = new FakeBackend(async (_, cancellation) =>
        {
            int call = Interlocked.Increment(ref calls);
            if (call == 1)
            {
                // The slow copy answers only if nobody cancels it.
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellation);
                }
                catch (OperationCanceledException)
                {
                    slowCancelled.TrySetResult();
                    throw;
                }
            }

            return FakeBackend.Json($$"""{"call": {{call}}}""");
        });
        using BackendRegistry registry = backend.Registry();
        var backends = new[] { new BackendDefinition(0, HttpMethod.Get, registry.Group(0)) };

        // The budget is an hour away: only the winning copy can cancel the slow one.
        var endpoint = new EndpointDefinition(TimeSpan.FromHours(1), concurrentCalls: 3);
        var context = new DefaultHttpContext();
        using ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, endpoint, 1024))!;
        var exchange = new ProxyExchange(context, [], forwarded, endpoint, backends, 1024);
        try
        {
            // The exchange joins every copy before it returns; the bound only keeps a broken race from hanging the run.
            Task<BackendResult> race = exchange.SendAsync(backends[0], "http://backend.test/x");
            Assert.True(await Task.WhenAny(race, Task.Delay(TimeSpan.FromSeconds(10))) == race, "the race never ended: the slow copy was not cancelled when another copy won");
            BackendResult result = await race;

            Assert.True(result.Succeeded);
            Assert.NotEqual("""{"call": 1}""", System.Text.Encoding.UTF8.GetString(result.Body));
            Assert.Equal(3, Volatile.Read(ref calls));
            Assert.True(slowCancelled.Task.IsCompleted, "the slow copy was not cancelled when another copy won");
        }
        finally
        {
            // Ends a copy a broken race left running (nothing is running when the test passes), so disposal cannot hang.
            exchange.Abandon();
            await exchange.DisposeAsync();
        }
    }

    /// <summary>A backend that takes the request, reads its body only when released, then answers {}.</summary>
    private sealed class HeldHandler : HttpMessageHandler
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public string? Sent { get; private set; }

        public void Release() => _release.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await _release.Task.WaitAsync(cancellationToken);
            Sent = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") };
        }
    }
}

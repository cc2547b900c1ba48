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
        Assert.True(call.IsCompletedSuccessfully);
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

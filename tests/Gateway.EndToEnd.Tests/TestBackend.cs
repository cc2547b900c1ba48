using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>What a backend received: the request line exactly as sent, and when the call started and ended.</summary>
public sealed record ReceivedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, TimeSpan Started, TimeSpan Finished, string Body = "");

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a random port, answering by the first path segment with handlers the
/// tests set, and recording every request it receives.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private static readonly Stopwatch s_clock = Stopwatch.StartNew();
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();

    private TestBackend(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    public static async Task<TestBackend> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        var backend = new TestBackend(app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        backend.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return backend;
    }

    /// <summary>Answers requests whose path starts with <c>/<paramref name="firstSegment"/></c>.</summary>
    public void On(string firstSegment, Func<HttpContext, Task> handler) => _handlers[firstSegment] = handler;

    /// <summary>Answers with a fixed JSON body.</summary>
    public void OnJson(string firstSegment, string json, int status = 200) => On(firstSegment, context => Json(context, json, status));

    public static Task Json(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    public ReceivedRequest[] ReceivedWith(string prefix) => _received.Where(r => r.RawTarget.StartsWith(prefix, StringComparison.Ordinal)).ToArray();

    public void ClearReceived() => _received.Clear();

    private async Task HandleAsync(HttpContext context)
    {
        TimeSpan started = s_clock.Elapsed;
        string rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        string first = context.Request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;

        // Keep the body for assertions; handlers can still read it.
        context.Request.EnableBuffering();
        string body;
        using (var reader = new StreamReader(context.Request.Body, leaveOpen: true))
        {
            body = await reader.ReadToEndAsync();
        }

        context.Request.Body.Position = 0;
        try
        {
            if (_handlers.TryGetValue(first, out Func<HttpContext, Task>? handler))
            {
                await handler(context);
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
            }
        }
        finally
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            _received.Enqueue(new ReceivedRequest(context.Request.Method, rawTarget, headers, started, s_clock.Elapsed, body));
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

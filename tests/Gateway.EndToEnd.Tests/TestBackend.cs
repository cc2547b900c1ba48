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

/// <summary>
/// What a backend received: the request line exactly as sent, when the call started and ended, and whether the caller
/// had given up on it (<see cref="HttpContext.RequestAborted"/> fired) by the time the handler ended.
/// </summary>
public sealed record ReceivedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, TimeSpan Started, TimeSpan Finished, string Body = "", bool Aborted = false);

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a random port, answering with the answers and handlers the tests declare
/// by path, and recording every request it receives. Requests nobody declared get 404.
/// </summary>
/// <remarks>
/// A declared path answers for itself and every path below it; the longest declared path wins, so a fixture reads as
/// a table: <c>Answer("/fail/0/first").WithStatus(503)</c> next to <c>Answer("/fail/0").WithJson(...)</c>.
/// </remarks>
public sealed class TestBackend : IAsyncDisposable
{
    private static readonly Stopwatch s_clock = Stopwatch.StartNew();
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _byPath = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private TaskCompletionSource _recorded = NewSignal();

    private TestBackend(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    /// <param name="configure">Kestrel settings beyond the defaults (larger limits, say).</param>
    public static async Task<TestBackend> StartAsync(Action<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            configure?.Invoke(k);
        });
        WebApplication app = builder.Build();
        var backend = new TestBackend(app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        backend.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return backend;
    }

    /// <summary>Declares the answer to <paramref name="path"/> and the paths below it (see <see cref="BackendAnswer"/>).</summary>
    public BackendAnswer Answer(string path)
    {
        var answer = new BackendAnswer();
        _byPath[path.TrimEnd('/')] = answer.WriteAsync;
        return answer;
    }

    /// <summary>Answers requests below <c>/<paramref name="firstSegment"/></c> with code, for what a canned answer cannot say.</summary>
    /// <summary>Raised with the path when a request's head and body have arrived, before it is answered.</summary>
    public event Action<string>? RequestArrived;

    public void On(string firstSegment, Func<HttpContext, Task> handler) => _byPath["/" + firstSegment] = handler;

    public static Task Json(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    public ReceivedRequest[] ReceivedWith(string prefix) => _received.Where(r => r.RawTarget.StartsWith(prefix, StringComparison.Ordinal)).ToArray();

    public void ClearReceived() => _received.Clear();

    /// <summary>
    /// Waits until <paramref name="count"/> requests whose target starts with <paramref name="prefix"/> have been
    /// recorded, and returns them. A request is recorded when its handler ends, which for a call the gateway gave up on
    /// can be after the gateway has answered its client. <paramref name="atMost"/> (default 10 s) only keeps a broken
    /// gateway from hanging the run; it is not what a test asserts.
    /// </summary>
    public async Task<ReceivedRequest[]> WaitForAsync(string prefix, int count = 1, TimeSpan? atMost = null)
    {
        using var deadline = new CancellationTokenSource(atMost ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            Task recorded = Volatile.Read(ref _recorded).Task;
            ReceivedRequest[] found = ReceivedWith(prefix);
            if (found.Length >= count)
            {
                return found;
            }

            try
            {
                await recorded.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{found.Length} of {count} requests to {prefix} recorded: {string.Join(", ", _received.Select(r => r.RawTarget))}");
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task HandleAsync(HttpContext context)
    {
        TimeSpan started = s_clock.Elapsed;
        string rawTarget = context.Features.Get<IHttpRequestFeature>()!.RawTarget;

        // Keep the body for assertions; handlers can still read it.
        context.Request.EnableBuffering();
        string body;
        using (var reader = new StreamReader(context.Request.Body, leaveOpen: true))
        {
            body = await reader.ReadToEndAsync();
        }

        context.Request.Body.Position = 0;
        RequestArrived?.Invoke(context.Request.Path.Value!);
        try
        {
            if (Find(context.Request.Path.Value!) is { } handler)
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
            _received.Enqueue(new ReceivedRequest(context.Request.Method, rawTarget, headers, started, s_clock.Elapsed, body, context.RequestAborted.IsCancellationRequested));
            Interlocked.Exchange(ref _recorded, NewSignal()).TrySetResult();
        }
    }

    /// <summary>The handler of the longest declared path that is <paramref name="path"/> or above it.</summary>
    private Func<HttpContext, Task>? Find(string path)
    {
        for (string candidate = path.TrimEnd('/'); candidate.Length > 0; candidate = candidate[..candidate.LastIndexOf('/')])
        {
            if (_byPath.TryGetValue(candidate, out Func<HttpContext, Task>? handler))
            {
                return handler;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

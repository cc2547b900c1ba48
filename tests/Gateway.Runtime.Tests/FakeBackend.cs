using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Tests;

/// <summary>What an in-memory backend was sent: method, URL, and the content as it was (null when there was none).</summary>
internal sealed record SentRequest(HttpMethod Method, Uri Uri, byte[]? Body, long? ContentLength);

/// <summary>
/// An in-memory backend for the gateway's HTTP client (<see cref="BackendClientOptions.HandlerFactory"/>): answers each
/// request with what the test's function returns, and records what it was sent. No sockets.
/// </summary>
internal sealed class FakeBackend : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _answer;
    private readonly ConcurrentQueue<SentRequest> _sent = new();

    public FakeBackend(Func<HttpRequestMessage, HttpResponseMessage> answer)
        : this((request, _) => Task.FromResult(answer(request)))
    {
    }

    public FakeBackend(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> answer) => _answer = answer;

    public IReadOnlyList<SentRequest> Sent => _sent.ToArray();

    /// <summary>A registry whose single host group, <c>http://backend.test</c>, sends to this backend.</summary>
    public BackendRegistry Registry(BackendClientOptions? options = null)
    {
        options ??= new BackendClientOptions();
        options.HandlerFactory = () => this;
        return new BackendRegistry([["http://backend.test"]], new Dictionary<string, string>(), options);
    }

    public static HttpResponseMessage Json(string json, int status = 200) =>
        new((HttpStatusCode)status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Redirect(int status, string location)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status) { Content = new ByteArrayContent([]) };
        response.Headers.TryAddWithoutValidation("Location", location); // unvalidated: tests send Locations that are not URLs
        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        _sent.Enqueue(new SentRequest(request.Method, request.RequestUri!, body, request.Content?.Headers.ContentLength));
        HttpResponseMessage response = await _answer(request, cancellationToken);
        response.RequestMessage ??= request; // as SocketsHttpHandler does
        return response;
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Shaping;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Proxy;

/// <summary>
/// The client's answer composed from the backends' results (krakend.md §8-§11): backends answer through an in-memory
/// <see cref="FakeBackend"/>, the exchange runs on a <see cref="DefaultHttpContext"/>, and the test reads what was written.
/// </summary>
public class ResponseComposerTests
{
    [Fact]
    public async Task WriteAsync_TwoBackendsOneGrouped_200CompleteMergedJson()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5)),
            [Backend("/a", () => FakeBackend.Json("""{"a": 1}""")), Backend("/b", () => FakeBackend.Json("""{"b": 2}"""), group: "g")]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("true", answer.Completed);
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        JsonEquivalent("""{"a": 1, "g": {"b": 2}}""", answer.Body);
    }

    [Fact]
    public async Task WriteAsync_OneOfTwoBackendsFails_200IncompleteWithTheOtherOnesData()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5)),
            [Backend("/a", () => FakeBackend.Json("""{"a": 1}""")), Backend("/b", () => FakeBackend.Json("{}", 503), group: "g")]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("false", answer.Completed);
        JsonEquivalent("""{"a": 1}""", answer.Body);
    }

    [Fact]
    public async Task WriteAsync_EveryBackendFails_500IncompleteAndEmpty()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5)),
            [Backend("/a", () => FakeBackend.Json("{}", 503)), Backend("/b", () => throw new HttpRequestException("refused"), group: "g")]);

        Assert.Equal(500, answer.Status);
        Assert.Equal("false", answer.Completed);
        Assert.Equal(0, answer.ContentLength);
        Assert.Equal(string.Empty, answer.Body);
    }

    [Fact]
    public async Task WriteAsync_EveryBackendFailsWithReturnErrorMessage_500SayingWhyForEachWithoutAddresses()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), returnErrorMessage: true),
            [Backend("/a", () => FakeBackend.Json("{}", 503)), Backend("/b", () => throw new HttpRequestException("refused"), group: "g")]);

        Assert.Equal(500, answer.Status);
        Assert.Equal("text/plain; charset=utf-8", answer.ContentType);
        Assert.Equal("backend 0: invalid status code 503\nbackend 1: the backend could not be reached", answer.Body);
        Assert.DoesNotContain("backend.test", answer.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(true, """{"error": "no 404"}""")]
    public async Task WriteAsync_SingleBackendWithReturnErrorCode_ItsStatusAndItsBodyOnlyWithReturnErrorMessage(bool returnErrorMessage, string body)
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), returnErrorMessage: returnErrorMessage),
            [Backend("/a", () => FakeBackend.Json("""{"error": "no 404"}""", 404), returnErrorCode: true)]);

        Assert.Equal(404, answer.Status);
        Assert.Equal("false", answer.Completed);
        Assert.Equal(body, answer.Body);
    }

    [Fact]
    public async Task WriteAsync_OneOfTwoBackendsWithReturnErrorCode_500NotItsStatus()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5)),
            [Backend("/a", () => FakeBackend.Json("{}", 404), returnErrorCode: true), Backend("/b", () => FakeBackend.Json("{}", 503), group: "g")]);

        Assert.Equal(500, answer.Status);
    }

    [Theory]
    [InlineData(200, "public, max-age=300")]
    [InlineData(503, null)]
    public async Task WriteAsync_CacheTtl_CacheControlOnlyOnACompleteAnswer(int secondStatus, string? cacheControl)
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), cacheTtlSeconds: 300),
            [Backend("/a", () => FakeBackend.Json("""{"a": 1}""")), Backend("/b", () => FakeBackend.Json("""{"b": 2}""", secondStatus), group: "g")]);

        Assert.Equal(200, answer.Status);
        Assert.Equal(cacheControl, answer.CacheControl);
    }

    [Fact]
    public async Task WriteAsync_EveryBackendAnswersAnEmptyObject_200Incomplete()
    {
        Answered answer = await ComposeAsync(new EndpointDefinition(TimeSpan.FromSeconds(5)), [Backend("/a", () => FakeBackend.Json(" { } "))]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("false", answer.Completed);
    }

    [Theory]
    [InlineData(200, """{"a": 1}""")]
    [InlineData(503, """{"fallback": true}""")]
    public async Task WriteAsync_StaticErroredStrategy_DataAddedOnlyWhenABackendFailed(int status, string expected)
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), staticStrategy: StaticStrategy.Errored, staticData: """{"fallback": true}"""),
            [Backend("/a", () => FakeBackend.Json("""{"a": 1}""", status))]);

        Assert.Equal(200, answer.Status);
        JsonEquivalent(expected, answer.Body);
    }

    [Fact]
    public async Task WriteAsync_JsonCollectionOutput_TheCollectionArray()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), output: OutputEncoding.JsonCollection),
            [Backend("/a", () => FakeBackend.Json("""[{"id": 1}, {"id": 2}]"""), isCollection: true)]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("application/json; charset=utf-8", answer.ContentType);
        JsonEquivalent("""[{"id": 1}, {"id": 2}]""", answer.Body);
    }

    [Fact]
    public async Task WriteAsync_StringOutputOfAStringBackend_TheTextAsItWas()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), output: OutputEncoding.String),
            [Backend("/a", () => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("plain \"text\" é") }, encoding: BackendEncoding.String)]);

        Assert.Equal(200, answer.Status);
        Assert.Equal("text/plain; charset=utf-8", answer.ContentType);
        Assert.Equal("plain \"text\" é", answer.Body);
    }

    [Fact]
    public async Task WriteAsync_NoOp_RelaysStatusHeadersAndBodyButNotHopByHopHeaders()
    {
        Answered answer = await ComposeAsync(
            new EndpointDefinition(TimeSpan.FromSeconds(5), output: OutputEncoding.NoOp),
            [Backend("/a", NoOpAnswer, encoding: BackendEncoding.NoOp)]);

        Assert.Equal(404, answer.Status);
        Assert.Equal("false", answer.Completed);
        Assert.Equal("not json {", answer.Body);
        Assert.Equal(new[] { "a=1", "b=2" }, answer.Headers["Set-Cookie"].ToArray());
        Assert.Equal("raw", answer.Headers["X-Backend"].ToString());
        Assert.False(answer.Headers.ContainsKey("Keep-Alive"));
        Assert.False(answer.Headers.ContainsKey("Connection"));

        static HttpResponseMessage NoOpAnswer()
        {
            var response = new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("not json {") };
            response.Headers.Add("Set-Cookie", ["a=1", "b=2"]);
            response.Headers.Add("X-Backend", "raw");
            response.Headers.Add("Keep-Alive", "timeout=5");
            response.Headers.Connection.Add("close");
            return response;
        }
    }

    [Fact]
    public async Task WriteAsync_ClientWentAway_WritesNothing()
    {
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();

        Answered answer = await ComposeAsync(new EndpointDefinition(TimeSpan.FromSeconds(5)), [Backend("/a", () => FakeBackend.Json("""{"a": 1}"""))], gone.Token);

        Assert.Null(answer.Completed);
        Assert.Equal(string.Empty, answer.Body);
    }

    private sealed record BackendSpec(string Path, Func<HttpResponseMessage> Answer, string? Group, bool ReturnErrorCode, bool IsCollection, BackendEncoding Encoding);

    private sealed record Answered(int Status, string? Completed, string? ContentType, long? ContentLength, string? CacheControl, IHeaderDictionary Headers, string Body);

    private static BackendSpec Backend(string path, Func<HttpResponseMessage> answer, string? group = null, bool returnErrorCode = false, bool isCollection = false, BackendEncoding encoding = BackendEncoding.Json) =>
        new(path, answer, group, returnErrorCode, isCollection, encoding);

    /// <summary>Calls every backend through a <see cref="ProxyExchange"/>, then composes the answer the client would get.</summary>
    private static async Task<Answered> ComposeAsync(EndpointDefinition endpoint, BackendSpec[] specs, CancellationToken clientAborted = default)
    {
        var fake = new FakeBackend(request => specs.Single(s => s.Path == request.RequestUri!.AbsolutePath).Answer());
        using BackendRegistry registry = fake.Registry();
        BackendDefinition[] backends = specs.Select((s, i) => new BackendDefinition(
            i, HttpMethod.Get, registry.Group(0), group: s.Group, encoding: s.Encoding, isCollection: s.IsCollection, returnErrorCode: s.ReturnErrorCode)).ToArray();

        var context = new DefaultHttpContext { RequestAborted = clientAborted };
        var body = new MemoryStream();
        context.Response.Body = body;
        using ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, endpoint, 1024))!;
        var exchange = new ProxyExchange(context, [], forwarded, endpoint, backends, 64 * 1024);
        await using (exchange)
        {
            await Task.WhenAll(backends.Select((b, i) => exchange.SendAsync(b, "http://backend.test" + specs[i].Path)));
            await ResponseComposer.WriteAsync(exchange, []);
        }

        HttpResponse response = context.Response;
        return new Answered(
            response.StatusCode,
            response.Headers.TryGetValue(GatewayHeaders.Completed, out var completed) ? completed.ToString() : null,
            response.ContentType,
            response.ContentLength,
            response.Headers.CacheControl.Count == 0 ? null : response.Headers.CacheControl.ToString(),
            response.Headers,
            Encoding.UTF8.GetString(body.ToArray()));
    }

    private static void JsonEquivalent(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");
}

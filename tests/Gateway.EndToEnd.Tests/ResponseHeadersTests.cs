using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>gateway/response.headers</c> over real sockets (Configs/bff.json): the listed backend response headers reach the
/// client, from the first backend that succeeded (every backend's for <c>Set-Cookie</c>); nothing else does, and an
/// endpoint that lists none passes none, as before.
/// </summary>
public sealed class ResponseHeadersTests : IClassFixture<BffFixture>
{
    private readonly BffFixture _f;

    public ResponseHeadersTests(BffFixture fixture) => _f = fixture;

    [Fact]
    public async Task Get_TwoBackendsSendListedHeaders_FirstInConfigurationOrderWinsAndCookiesFromEach()
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/profile");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"u-1\"", response.Headers.ETag?.ToString());
        Assert.Equal("private, max-age=60", response.Headers.NonValidated["Cache-Control"].ToString());
        Assert.Equal(["r-1"], response.Headers.GetValues("X-Request-Id"));
        Assert.Equal(["session=abc; Path=/; HttpOnly", "seen=1; Path=/", "theme=dark; Path=/"], response.Headers.GetValues("Set-Cookie"));
        Assert.False(response.Headers.Contains("X-Internal"));
        Assert.Contains("\"theme\": \"dark\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_FirstBackendFails_ItsHeadersAreNotPassedTheNextBackendsAre()
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/profile/partial");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", string.Join(",", response.Headers.GetValues("X-KrakenD-Completed")));
        Assert.Equal("\"p-1\"", response.Headers.ETag?.ToString());
        Assert.Equal(["theme=dark; Path=/"], response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Get_CacheTtlOnACompleteAnswer_ReplacesTheBackendsCacheControl()
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/profile/cached");

        Assert.Equal("public, max-age=300", response.Headers.NonValidated["Cache-Control"].ToString());
        Assert.Equal("\"u-1\"", response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task Get_EndpointWithoutTheList_PassesNoBackendHeader()
    {
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync("/profile/plain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.ETag);
        Assert.Null(response.Headers.CacheControl);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("X-Request-Id"));
    }

    [Fact]
    public async Task Get_ListedETagOnACompressedAnswer_MadeWeak()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/profile");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br");
        using HttpResponseMessage response = await _f.Gateway.Client.SendAsync(request);

        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal("W/\"u-1\"", response.Headers.ETag?.ToString());
        Assert.Equal(3, response.Headers.GetValues("Set-Cookie").Count());
    }
}

using System.Net;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Response compression over real sockets (Configs/bff.json, on by default; Configs/bff-off.json, <c>disable_gzip</c>):
/// the coding the client's <c>Accept-Encoding</c> allows, the threshold, <c>Vary</c>, exact lengths, and the answers
/// that are never compressed. The test client sends no <c>Accept-Encoding</c> unless a test sets one, and never decodes
/// by itself: each test reads the bytes on the wire.
/// </summary>
public sealed class CompressionTests : IClassFixture<BffFixture>
{
    private readonly BffFixture _f;

    public CompressionTests(BffFixture fixture) => _f = fixture;

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br, zstd", "br")]             // a browser's: brotli preferred on a tie
    [InlineData("br;q=0.5, gzip", "gzip")]                    // weights honoured
    [InlineData("gzip;q=0.8, br;q=0.9", "br")]
    [InlineData("*", "br")]
    [InlineData("*;q=0, gzip", "gzip")]                       // "*" never overrides a named coding
    [InlineData("GZIP;Q=1.000", "gzip")]                      // names and the q are case-insensitive
    [InlineData("x-gzip", "gzip")]
    public async Task Get_LargeJsonAndAnAcceptedCoding_CompressedWithItsLengthAndVary(string acceptEncoding, string expected)
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/catalog", acceptEncoding);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal(wire.Length, response.Content.Headers.ContentLength);
            Assert.True(wire.Length < BffFixture.Catalog.Length / 2, $"{wire.Length} bytes on the wire for {BffFixture.Catalog.Length}");
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal(BffFixture.Catalog, BffFixture.Decode(wire, expected));
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("identity")]
    [InlineData("gzip;q=0, br;q=0")]
    [InlineData("identity, gzip;q=0.5, br;q=0.5")]            // the client ranks an uncompressed body first
    [InlineData("compress, deflate, zstd")]                   // nothing the gateway offers
    [InlineData("gzip;q=2, br;q=abc, ;;, gzip;;q=1, br;level=3, ,,,")] // every element malformed: skipped
    [InlineData("*;q=0")]                                     // nothing acceptable at all: an uncompressed body all the same
    public async Task Get_LargeJsonWithoutAnAcceptedCoding_UncompressedButStillVary(string? acceptEncoding)
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/catalog", acceptEncoding);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal(BffFixture.Catalog.Length, response.Content.Headers.ContentLength);
            Assert.Equal(BffFixture.Catalog, Encoding.UTF8.GetString(wire));

            // A cache must still keep this copy apart from the compressed one another client gets.
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
        }
    }

    [Fact]
    public async Task Get_AcceptEncodingWithTenThousandElements_AnsweredInOneBoundedPass()
    {
        // 20 KB of codings the gateway does not offer, then one it does.
        string hostile = string.Join(",", Enumerable.Repeat("x", 10_000)) + ", gzip";

        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/catalog", hostile);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal(BffFixture.Catalog, BffFixture.Decode(wire, "gzip"));
        }
    }

    [Fact]
    public async Task Get_SmallBody_NeverCompressedAndNoVary()
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/small", "gzip, br");
        using (response)
        {
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Equal("""{"ok": true}""", Encoding.UTF8.GetString(wire));
            Assert.Empty(response.Headers.Vary);
        }
    }

    [Fact]
    public async Task Get_SmallBodyForAClientThatRefusesIdentity_CompressedAnyway()
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/small", "gzip, identity;q=0");
        using (response)
        {
            Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal(wire.Length, response.Content.Headers.ContentLength);
            Assert.Equal("""{"ok": true}""", BffFixture.Decode(wire, "gzip"));
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
        }
    }

    [Fact]
    public async Task Get_StringOutput_CompressedToo()
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/catalog/text", "br");
        using (response)
        {
            Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal(BffFixture.Catalog.Replace('"', '\''), BffFixture.Decode(wire, "br"));
        }
    }

    [Fact]
    public async Task Get_FailureAnswerWithTheBackendsBody_CompressedWithItsStatus()
    {
        // return_error_code + return_error_msg: the backend's 503 and its body reach the client.
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/failing", "gzip");
        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal(BffFixture.Catalog, BffFixture.Decode(wire, "gzip"));
        }
    }

    [Theory]
    [InlineData("/raw/json", "gzip")]
    [InlineData("/raw/json", "br")]
    [InlineData("/raw/sized", "gzip")]
    public async Task NoOp_UncompressedBackendBody_CompressedAsItStreamsWithoutALength(string path, string coding)
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, path, coding);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(coding, Assert.Single(response.Content.Headers.ContentEncoding));
            // Chunked: the backend's length no longer holds, and the compressed one is not known until the end.
            Assert.True(response.Headers.TransferEncodingChunked);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal(BffFixture.Catalog, BffFixture.Decode(wire, coding));
        }
    }

    [Fact]
    public async Task NoOp_StrongETag_WeakOnceCompressed()
    {
        (HttpResponseMessage compressed, _) = await GetAsync(_f.Gateway, "/raw/json", "gzip");
        (HttpResponseMessage plain, _) = await GetAsync(_f.Gateway, "/raw/json", null);
        using (compressed)
        using (plain)
        {
            // The compressed bytes are another representation: the backend's strong tag no longer names them.
            Assert.Equal("W/\"c-1\"", compressed.Headers.ETag?.ToString());
            Assert.Equal("\"c-1\"", plain.Headers.ETag?.ToString());
        }
    }

    [Fact]
    public async Task NoOp_BackendsOwnContentEncoding_RelayedUntouched()
    {
        (HttpResponseMessage response, byte[] wire) = await GetAsync(_f.Gateway, "/raw/gzipped", "br");
        using (response)
        {
            Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Equal(BffFixture.CatalogGzippedByTheBackend, wire);
            Assert.Equal(wire.Length, response.Content.Headers.ContentLength);
        }
    }

    [Theory]
    [InlineData("/raw/events")]   // an event stream is read as it comes
    [InlineData("/raw/image")]    // compressed already
    public async Task NoOp_TypeThatDoesNotCompress_RelayedUncompressed(string path)
    {
        (HttpResponseMessage response, byte[] _) = await GetAsync(_f.Gateway, path, "gzip, br");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }
    }

    [Fact]
    public async Task NoOp_204_NeverCompressed()
    {
        (int status, string head, string body) = await _f.Gateway.SendRawAsync("GET", "/raw/empty", "Accept-Encoding: gzip\r\n");

        Assert.Equal(204, status);
        Assert.DoesNotContain("Content-Encoding", head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Content-Length", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(string.Empty, body);
    }

    [Fact]
    public async Task NoOp_BackendBreaksOffMidBody_ClientConnectionAbortedNeverACompleteLookingBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cut");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
        using HttpResponseMessage response = await _f.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        // The compressed body has started (2 MiB of varied text arrives before the backend closes): the gateway can only
        // cut the connection. Had it ended the gzip stream, the client would read a shorter body as a whole one.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DisableGzip_LargeJsonAndNoOp_NeverCompressedNoVary()
    {
        (HttpResponseMessage json, byte[] jsonWire) = await GetAsync(_f.GatewayOff, "/catalog", "gzip, br");
        (HttpResponseMessage noOp, byte[] noOpWire) = await GetAsync(_f.GatewayOff, "/raw/json", "gzip, br");
        using (json)
        using (noOp)
        {
            Assert.Empty(json.Content.Headers.ContentEncoding);
            Assert.Empty(json.Headers.Vary);
            Assert.Equal(BffFixture.Catalog, Encoding.UTF8.GetString(jsonWire));
            Assert.Empty(noOp.Content.Headers.ContentEncoding);
            Assert.Equal(BffFixture.Catalog, Encoding.UTF8.GetString(noOpWire));
        }
    }

    /// <summary>GETs <paramref name="path"/> with the given <c>Accept-Encoding</c> (none when null) and returns the bytes as sent.</summary>
    private static async Task<(HttpResponseMessage Response, byte[] Wire)> GetAsync(GatewayUnderTest gateway, string path, string? acceptEncoding)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        HttpResponseMessage response = await gateway.Client.SendAsync(request);
        return (response, await response.Content.ReadAsByteArrayAsync());
    }
}

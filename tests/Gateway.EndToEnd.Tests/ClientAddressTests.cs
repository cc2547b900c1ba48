using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The client's address behind trusted proxies (<c>router.forwarded_by_client_ip</c>, <c>trusted_proxies</c>), seen by
/// the backend as <c>X-Forwarded-For</c>. The test client connects from 127.0.0.1: Configs/bff.json trusts
/// 127.0.0.1/32 (and 2001:db8::/32), so the test client stands for a proxy; Configs/bff-off.json trusts only
/// 10.0.0.0/8, so the test client is an ordinary client whose headers are never believed.
/// </summary>
public sealed class ClientAddressTests : IClassFixture<BffFixture>
{
    private readonly BffFixture _f;

    public ClientAddressTests(BffFixture fixture) => _f = fixture;

    [Theory]
    [InlineData("203.0.113.9", "203.0.113.9")]
    [InlineData("198.51.100.7, 203.0.113.9", "203.0.113.9")]          // the rightmost address that is not a trusted proxy
    [InlineData("203.0.113.9, 127.0.0.1", "203.0.113.9")]             // a trusted proxy on the way is skipped
    [InlineData("203.0.113.9,127.0.0.1 , 2001:db8::5", "203.0.113.9")] // IPv6 proxies too; spaces around entries
    [InlineData("127.0.0.1, 127.0.0.1", "127.0.0.1")]                 // only trusted proxies: the leftmost (gin's rule)
    [InlineData("2001:0DB9:0::1", "2001:db9::1")]                     // IPv6 written canonically
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]                 // an IPv4 address in IPv6 form is IPv4
    public async Task Get_FromATrustedProxy_TheClientFromXForwardedFor(string forwardedFor, string client)
    {
        Assert.Equal(client, await ForwardedForAsync(_f.Gateway, ("X-Forwarded-For", forwardedFor)));
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("203.0.113.9, garbage")]       // garbage on the right: the header is not believed
    [InlineData("127.1")]                      // shorthand some parsers read as 127.0.0.1 is not an address here
    [InlineData("010.0.0.1")]                  // nor a leading zero (octal to some)
    [InlineData("203.0.113.9:443")]            // nor an address with a port
    [InlineData("fe80::1%eth0")]               // nor a zone
    [InlineData("203.0.113.9,")]               // an empty entry
    public async Task Get_FromATrustedProxyWithAMalformedHeader_TheConnectionsAddress(string forwardedFor)
    {
        Assert.Equal("127.0.0.1", await ForwardedForAsync(_f.Gateway, ("X-Forwarded-For", forwardedFor)));
    }

    [Fact]
    public async Task Get_MalformedXForwardedForAndXRealIp_TheNextConfiguredHeaderGives()
    {
        Assert.Equal("192.0.2.5", await ForwardedForAsync(_f.Gateway, ("X-Forwarded-For", "garbage"), ("X-Real-IP", "192.0.2.5")));
    }

    [Fact]
    public async Task Get_TwoXForwardedForLines_ReadAsOneListInOrder()
    {
        (int status, _, _) = await _f.Gateway.SendRawAsync("GET", "/whoami/two-lines", "X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 203.0.113.9, 127.0.0.1\r\n");

        Assert.Equal(200, status);
        Assert.Equal("203.0.113.9", Assert.Single(await _f.Backend.WaitForAsync("/whoami/two-lines")).Headers["X-Forwarded-For"]);
    }

    [Fact]
    public async Task Get_TenThousandGarbageEntries_DefinedAnswerTheConnectionsAddress()
    {
        string hostile = string.Join(",", Enumerable.Repeat("x", 10_000));

        Assert.Equal("127.0.0.1", await ForwardedForAsync(_f.Gateway, ("X-Forwarded-For", hostile)));
    }

    [Fact]
    public async Task Get_ThousandsOfTrustedHopsBeforeASpoofedLeftmost_WalkStopsAndTheSpoofIsNotBelieved()
    {
        // Without a bound, gin's walk would cross 2,000 trusted entries and return the leftmost: whatever the sender wrote.
        string hostile = "203.0.113.66, " + string.Join(", ", Enumerable.Repeat("127.0.0.1", 2_000));

        Assert.Equal("127.0.0.1", await ForwardedForAsync(_f.Gateway, ("X-Forwarded-For", hostile)));
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("X-Real-IP", "203.0.113.9")]
    public async Task Get_FromAConnectionThatIsNotATrustedProxy_ItsOwnHeadersAreIgnored(string header, string value)
    {
        Assert.Equal("127.0.0.1", await ForwardedForAsync(_f.GatewayOff, (header, value)));
    }

    /// <summary>Sends <c>GET /whoami/{a new id}</c> with the headers and returns the <c>X-Forwarded-For</c> the backend received.</summary>
    private async Task<string> ForwardedForAsync(GatewayUnderTest gateway, params (string Name, string Value)[] headers)
    {
        string id = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/whoami/" + id);
        foreach ((string name, string value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using HttpResponseMessage response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ReceivedRequest call = Assert.Single(await _f.Backend.WaitForAsync("/whoami/" + id));
        return call.Headers["X-Forwarded-For"];
    }
}

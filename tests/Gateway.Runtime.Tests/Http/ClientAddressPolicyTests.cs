using System.Net;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Http;

/// <summary>
/// gin's ClientIP rule with trusted proxies (KrakenD's <c>router.forwarded_by_client_ip</c>), on a
/// <see cref="DefaultHttpContext"/> whose peer the test sets: the walk from the right, its bound, the strict grammar.
/// </summary>
public class ClientAddressPolicyTests
{
    private static readonly ClientAddressPolicy s_policy = new(["10.0.0.0/8", "192.168.1.1", "2001:db8::/32"], ["X-Forwarded-For", "X-Real-IP"]);

    [Theory]
    [InlineData("10.1.2.3", "203.0.113.9", "203.0.113.9")]
    [InlineData("10.1.2.3", "198.51.100.7, 203.0.113.9, 10.9.9.9", "203.0.113.9")]
    [InlineData("192.168.1.1", "203.0.113.9, 192.168.1.1, 10.0.0.1", "203.0.113.9")]
    [InlineData("10.1.2.3", "10.0.0.2, 10.0.0.1", "10.0.0.2")]              // every entry trusted: the leftmost
    [InlineData("::ffff:10.1.2.3", "203.0.113.9", "203.0.113.9")]            // an IPv4 peer on an IPv6 socket
    [InlineData("2001:db8::1", "2001:DB8:0:0:1::1, 2001:dB9::1", "2001:db9::1")]
    [InlineData("10.1.2.3", "::FFFF:203.0.113.9", "203.0.113.9")]
    public void ClientAddress_TrustedPeer_TheFirstUntrustedFromTheRight(string peer, string forwardedFor, string expected)
    {
        Assert.Equal(expected, s_policy.ClientAddress(Context(peer, ("X-Forwarded-For", forwardedFor))));
    }

    [Theory]
    [InlineData("203.0.113.9")]        // not a proxy
    [InlineData("192.168.1.2")]        // a single trusted address is not its neighbours
    [InlineData("11.0.0.1")]
    [InlineData("2001:db9::1")]
    public void ClientAddress_PeerNotTrusted_ThePeerWhateverTheHeadersSay(string peer)
    {
        Assert.Equal(peer, s_policy.ClientAddress(Context(peer, ("X-Forwarded-For", "1.2.3.4"), ("X-Real-IP", "5.6.7.8"))));
    }

    [Theory]
    [InlineData("1.2.3.4, bogus")]
    [InlineData("bogus, 1.2.3.4")]     // bogus only on the left of the client: never reached
    [InlineData("127.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("01.2.3.4")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("1.2.3.4:80")]
    [InlineData("[2001:db8::1]")]
    [InlineData("fe80::1%1")]
    [InlineData(" , ")]
    [InlineData("")]
    public void ClientAddress_MalformedEntry_EndsTheWalkAtItWithoutAResult(string forwardedFor)
    {
        string? expected = forwardedFor == "bogus, 1.2.3.4" ? "1.2.3.4" : "10.1.2.3";

        Assert.Equal(expected, s_policy.ClientAddress(Context("10.1.2.3", ("X-Forwarded-For", forwardedFor))));
    }

    [Fact]
    public void ClientAddress_FirstHeaderGivesNothing_TheNextOneIsRead()
    {
        Assert.Equal("198.51.100.1", s_policy.ClientAddress(Context("10.1.2.3", ("X-Forwarded-For", "junk"), ("X-Real-IP", "198.51.100.1"))));
        Assert.Equal("198.51.100.1", s_policy.ClientAddress(Context("10.1.2.3", ("X-Real-IP", "198.51.100.1"))));
    }

    [Fact]
    public void ClientAddress_MoreTrustedEntriesThanTheBound_NoResultFromTheHeader()
    {
        string entries = string.Join(", ", Enumerable.Repeat("10.0.0.1", ClientAddressPolicy.MaxEntries));

        Assert.Equal("10.1.2.3", s_policy.ClientAddress(Context("10.1.2.3", ("X-Forwarded-For", "203.0.113.9, " + entries))));
        Assert.Equal("203.0.113.9", s_policy.ClientAddress(Context("10.1.2.3", ("X-Forwarded-For", "203.0.113.9, " + string.Join(", ", Enumerable.Repeat("10.0.0.1", ClientAddressPolicy.MaxEntries - 1))))));
    }

    [Fact]
    public void ClientAddress_BoundSharedAcrossHeaders_TheSecondHeaderIsNotReadPastIt()
    {
        string entries = string.Join(", ", Enumerable.Repeat("10.0.0.1", ClientAddressPolicy.MaxEntries));

        Assert.Equal("10.1.2.3", s_policy.ClientAddress(Context("10.1.2.3", ("X-Forwarded-For", "203.0.113.9, " + entries), ("X-Real-IP", "198.51.100.1"))));
    }

    [Fact]
    public void ClientAddress_NoPeer_Null() =>
        Assert.Null(s_policy.ClientAddress(new DefaultHttpContext()));

    [Theory]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.1.2.3/8", "10.9.9.9", true)]             // bits after the prefix ignored, as Go's ParseCIDR does
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]          // an IPv4 network holds no IPv6 address
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("2001:db8::/127", "2001:db8::1", true)]
    [InlineData("2001:db8::/128", "2001:db8::1", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.2.3.4", true)]
    public void IsTrustedProxy_Networks(string network, string address, bool trusted) =>
        Assert.Equal(trusted, new ClientAddressPolicy([network], []).IsTrustedProxy(IPAddress.Parse(address)));

    private static DefaultHttpContext Context(string peer, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        foreach ((string name, string value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context;
    }
}

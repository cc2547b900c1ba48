using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Tests.Forwarding;

/// <summary>How an SRV answer becomes the round-robin list of hosts (lura's <c>sd/dnssrv</c>, krakend.md §4).</summary>
public class DnsServiceDiscoveryTests
{
    [Theory]
    [InlineData("0 5 80 a.;0 5 81 b.", "http://a:80 http://b:81")] // equal weights: each once (divided by their gcd)
    [InlineData("0 3 80 a.;0 1 80 b.", "http://a:80 http://a:80 http://a:80 http://b:80")]
    [InlineData("0 1 80 b.;0 3 80 a.", "http://a:80 http://a:80 http://a:80 http://b:80")] // heavier first, whatever the answer's order
    [InlineData("0 300 80 a.;0 100 80 b.", "http://a:80 http://a:80 http://a:80 http://b:80")] // scaled to 100, then divided
    [InlineData("10 1 80 a.;20 9 80 b.", "http://a:80")] // the lowest priority only
    [InlineData("0 0 80 a.;0 0 80 b.", "http://a:80 http://b:80")] // all zero: equal (KrakenD: no host at all)
    [InlineData("0 0 80 a.;0 2 80 b.", "http://b:80")] // a zero weight among others is never chosen, as in KrakenD
    [InlineData("0 1 80 .;0 1 80 b.example.com.", "http://b.example.com:80")] // "." means no service there (RFC 2782)
    [InlineData("", "")]
    public void Hosts_FromAnSrvAnswer_KrakenDsOrderAndWeights(string answer, string expected)
    {
        var records = answer.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(r => r.Split(' ')).Select(f => (ushort.Parse(f[0]), ushort.Parse(f[1]), ushort.Parse(f[2]), f[3]));

        Assert.Equal(expected, string.Join(' ', DnsServiceDiscovery.Hosts(records, "http")));
    }

    [Fact]
    public void Hosts_SdScheme_IsTheHostsScheme() =>
        Assert.Equal(["https://api.internal:8443"], DnsServiceDiscovery.Hosts([(0, 1, 8443, "api.internal.")], "https"));
}

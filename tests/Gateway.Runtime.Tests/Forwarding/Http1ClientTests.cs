using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Forwarding.Http1;

namespace Gateway.Runtime.Tests.Forwarding;

/// <summary>
/// Which URLs the gateway's own HTTP/1.1 client takes (<see cref="Http1Client.TryParseOrigin"/>, <see cref="Http1Client.TryRoute"/>):
/// only an <c>http://</c> origin it can write exactly (lower-case scheme and host, a name or an address, a port in range,
/// no user info) and a plain-ASCII target. Everything refused goes to .NET's client, so a refusal is never a failure,
/// but an acceptance must be right: the origin's end, host and port decide the connection and the Host line. No socket
/// is opened: a pool connects only when a connection is rented.
/// </summary>
public class Http1ClientTests
{
    [Theory]
    [InlineData("http://a.b:8080/x", 15, "a.b", 8080)]
    [InlineData("http://a", 8, "a", 80)]
    [InlineData("http://127.0.0.1:1/", 18, "127.0.0.1", 1)]
    [InlineData("http://[::1]:5000/p", 17, "::1", 5000)]
    [InlineData("http://[::1]/p", 12, "::1", 80)]
    [InlineData("http://h?q=1", 8, "h", 80)]
    [InlineData("http://h:65535/", 14, "h", 65535)]
    [InlineData("http://h-1.example/x/y", 18, "h-1.example", 80)]
    public void TryParseOrigin_AcceptedUrl_OriginEndHostAndPort(string url, int end, string host, int port)
    {
        Assert.True(Http1Client.TryParseOrigin(url, out int parsedEnd, out string parsedHost, out int parsedPort));
        Assert.Equal(end, parsedEnd);
        Assert.Equal(host, parsedHost);
        Assert.Equal(port, parsedPort);
    }

    [Theory]
    [InlineData("http://a.b:8080/x", "http://a.b:8080")]
    [InlineData("http://a", "http://a")]
    [InlineData("http://127.0.0.1:1/", "http://127.0.0.1:1")]
    [InlineData("http://[::1]:5000/p", "http://[::1]:5000")]
    [InlineData("http://h?q=1", "http://h")]
    public void TryRoute_AcceptedUrl_PoolOfItsOriginAndTheTargetAfterIt(string url, string origin)
    {
        using var client = new Http1Client(new BackendClientOptions());

        // Twice: the first creates the pool, the second finds it among the known ones (a path of its own).
        for (int i = 0; i < 2; i++)
        {
            Assert.True(client.TryRoute(url, out Http1Pool? pool, out int targetStart));
            Assert.Equal(origin, pool!.Origin);
            Assert.Equal(origin.Length, targetStart);
        }
    }

    [Theory]
    [InlineData("https://h/")]
    // An upper-case scheme or host is valid, but .NET's client normalises it: the gateway's would write it as given.
    [InlineData("HTTP://h/")]
    [InlineData("http://H/")]
    [InlineData("http://user@h/")]
    [InlineData("http://h:0/")]
    [InlineData("http://h:65536/")]
    [InlineData("http://h:123456/")]
    [InlineData("http://h:/")]
    [InlineData("http://h:+80/")]
    [InlineData("http://h:8a/")]
    [InlineData("http://h_h/")]
    [InlineData("http:///x")]
    [InlineData("http://")]
    [InlineData("http://[::1/")]
    [InlineData("http://[::1]x/")]
    [InlineData("http://[1.2.3.4]/")]
    [InlineData("http://[zz]/")]
    [InlineData("http://h h/")]
    [InlineData("http:/h/")]
    public void TryParseOrigin_RefusedOrigin_FalseAndTryRouteFalse(string url)
    {
        Assert.False(Http1Client.TryParseOrigin(url, out _, out _, out _));
        using var client = new Http1Client(new BackendClientOptions());
        Assert.False(client.TryRoute(url, out Http1Pool? pool, out _));
        Assert.Null(pool);
    }

    [Theory]
    [InlineData("http://h/a b")]
    [InlineData("http://h/a#f")]
    [InlineData("http://h#f")]
    [InlineData("http://h/a\\b")]
    [InlineData("http://h/caf\u00e9")]
    [InlineData("http://h/a\u0001b")]
    [InlineData("http://h/a\tb")]
    [InlineData("http://h/a\u007fb")]
    [InlineData("http://h?q=\u2603")]
    public void TryRoute_TargetNotPlainAscii_FalseWhetherTheOriginIsKnownOrNot(string url)
    {
        // The origin alone is fine: only the target sends the URL to .NET's client.
        Assert.True(Http1Client.TryParseOrigin(url, out _, out _, out _));
        using var client = new Http1Client(new BackendClientOptions());

        Assert.False(client.TryRoute(url, out _, out _));

        // Once the origin has a pool, the URL is matched against it first: the target must still be checked there.
        Assert.True(client.TryRoute("http://h/ok", out _, out _));
        Assert.False(client.TryRoute(url, out _, out _));
    }

    [Fact]
    public void TryRoute_OriginThatExtendsAKnownOne_APoolOfItsOwn()
    {
        using var client = new Http1Client(new BackendClientOptions());
        Assert.True(client.TryRoute("http://a.b/x", out Http1Pool? first, out _));
        Assert.True(client.TryRoute("http://a.b:81/x", out Http1Pool? port, out _));
        Assert.True(client.TryRoute("http://a.bc/x", out Http1Pool? longer, out int targetStart));
        Assert.True(client.TryRoute("http://a.b?x", out Http1Pool? again, out _));

        Assert.Equal("http://a.b:81", port!.Origin);
        Assert.Equal("http://a.bc", longer!.Origin);
        Assert.Equal("http://a.bc".Length, targetStart);
        Assert.Same(first, again);
        Assert.NotSame(first, port);
        Assert.NotSame(first, longer);
    }

    [Theory]
    [InlineData("http://a.b:8080/x", "Host: a.b:8080\r\n")]
    [InlineData("http://a/x", "Host: a\r\n")]
    [InlineData("http://[::1]:5000/p", "Host: [::1]:5000\r\n")]
    [InlineData("http://[::1]/p", "Host: [::1]\r\n")]
    public void TryRoute_HostLine_TheAuthorityAsDotNetWritesIt(string url, string line)
    {
        using var client = new Http1Client(new BackendClientOptions());
        Assert.True(client.TryRoute(url, out Http1Pool? pool, out _));
        Assert.Equal(line, System.Text.Encoding.ASCII.GetString(pool!.HostLine));
    }
}

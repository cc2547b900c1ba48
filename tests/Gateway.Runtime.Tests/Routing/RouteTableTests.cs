using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Routing;

namespace Gateway.Runtime.Tests.Routing;

public class RouteTableTests
{
    private sealed class NoBackends : EndpointHandler
    {
        public NoBackends()
            : base(new EndpointDefinition(TimeSpan.FromSeconds(1)), [], new BackendClientOptions())
        {
        }

        protected override Task CallBackendsAsync(ProxyExchange exchange) => Task.CompletedTask;
    }

    private static readonly RouteTable s_table = new(
    [
        new RouteEntry("GET", "/users/{id}", [RouteSegment.Literal("users"), RouteSegment.Parameter("id")], new NoBackends()),
        new RouteEntry("DELETE", "/users/{id}", [RouteSegment.Literal("users"), RouteSegment.Parameter("id")], new NoBackends()),
        new RouteEntry("GET", "/users/{id}/orders/{order}", [RouteSegment.Literal("users"), RouteSegment.Parameter("id"), RouteSegment.Literal("orders"), RouteSegment.Parameter("order")], new NoBackends()),
        new RouteEntry("GET", "/caf\u00e9", [RouteSegment.Literal("caf\u00e9")], new NoBackends()),
        new RouteEntry("GET", "/", [RouteSegment.Literal("")], new NoBackends()),
        new RouteEntry("POST", "/users/me", [RouteSegment.Literal("users"), RouteSegment.Literal("me")], new NoBackends()),
    ]);

    [Fact]
    public void Match_LiteralAndParameterRoutes_LiteralWinsForItsMethod()
    {
        Assert.Equal(RouteMatchStatus.Found, s_table.Match("POST", "/users/me", out RouteEntry? literal, out _, out _));
        Assert.Equal("/users/me", literal!.Template);
        Assert.Equal(RouteMatchStatus.Found, s_table.Match("GET", "/users/me", out RouteEntry? parameter, out string[] values, out _));
        Assert.Equal("/users/{id}", parameter!.Template);
        Assert.Equal("me", Assert.Single(values));
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, s_table.Match("PUT", "/users/me", out _, out _, out string? allowed));
        Assert.Equal("POST, GET, DELETE", allowed);
    }

    [Theory]
    [InlineData("/users/42", "/users/{id}", "42")]
    [InlineData("/users/a%2Fb", "/users/{id}", "a/b")]
    [InlineData("/users/caf%C3%A9", "/users/{id}", "caf\u00e9")]
    [InlineData("/users/1/orders/x%20y", "/users/{id}/orders/{order}", "1|x y")]
    [InlineData("/caf%C3%A9", "/caf\u00e9", "")]
    [InlineData("/", "/", "")]
    public void Match_KnownPath_FindsRouteAndDecodesValues(string path, string template, string values)
    {
        Assert.Equal(RouteMatchStatus.Found, s_table.Match("GET", path, out RouteEntry? entry, out string[] decoded, out _));
        Assert.Equal(template, entry!.Template);
        Assert.Equal(values, string.Join("|", decoded));
    }

    [Theory]
    [InlineData("/users")]
    [InlineData("/users/")]
    [InlineData("/users/1/")]
    [InlineData("//users/1")]
    [InlineData("/Users/1")]
    [InlineData("/users/1/orders")]
    [InlineData("relative")]
    public void Match_UnknownPath_NotFound(string path) =>
        Assert.Equal(RouteMatchStatus.NotFound, s_table.Match("GET", path, out _, out _, out _));

    [Fact]
    public void Match_WrongMethod_ListsAllowedMethods()
    {
        Assert.Equal(RouteMatchStatus.MethodNotAllowed, s_table.Match("POST", "/users/1", out _, out _, out string? allowed));
        Assert.Equal("GET, DELETE", allowed);
    }

    [Theory]
    [InlineData("/users/%zz")]
    [InlineData("/users/%2E%2E")]
    [InlineData("/users/.")]
    [InlineData("/users/%C3")]
    public void Match_BadParameter_BadPath(string path) =>
        Assert.Equal(RouteMatchStatus.BadPath, s_table.Match("GET", path, out _, out _, out _));
}

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

    [Theory]
    [InlineData("GET", "/users/1/", "/users/1")]
    [InlineData("DELETE", "/users/1/", "/users/1")]
    [InlineData("GET", "/Users/1", "/users/1")]
    [InlineData("GET", "/USERS/Ab/ORDERS/Cd", "/users/Ab/orders/Cd")]
    [InlineData("GET", "//users//1", "/users/1")]
    [InlineData("GET", "/x/../users/./1", "/users/1")]
    [InlineData("GET", "/USERS/1/", "/users/1")]
    [InlineData("GET", "/CAF%C3%A9", "/caf%C3%A9")]
    [InlineData("POST", "/Users/Me", "/users/me")]
    public void FindRedirect_PathARouteOfTheMethodTakesOnceFixed_ThatPath(string method, string path, string expected) =>
        Assert.Equal(expected, s_table.FindRedirect(method, path, trailingSlash: true, fixedPath: true));

    [Theory]
    [InlineData("PUT", "/users/1/")] // no PUT route at all
    [InlineData("POST", "/users/1/")] // the path is GET's and DELETE's
    [InlineData("HEAD", "/users/1/")]
    [InlineData("CONNECT", "/Users/1")]
    [InlineData("GET", "/nothing/")]
    [InlineData("GET", "/users/")] // an empty segment is never a parameter
    [InlineData("GET", "/\\users/1")]
    public void FindRedirect_NoRouteOfTheMethodOnceFixed_Null(string method, string path) =>
        Assert.Null(s_table.FindRedirect(method, path, trailingSlash: true, fixedPath: true));

    [Fact]
    public void FindRedirect_EachKindOnlyWhenAsked()
    {
        Assert.Null(s_table.FindRedirect("GET", "/users/1/", trailingSlash: false, fixedPath: false));
        Assert.Null(s_table.FindRedirect("GET", "/Users/1", trailingSlash: true, fixedPath: false));
        Assert.Equal("/users/1", s_table.FindRedirect("GET", "/users/1/", trailingSlash: true, fixedPath: false));
        Assert.Equal("/users/1", s_table.FindRedirect("GET", "/Users/1", trailingSlash: false, fixedPath: true));

        // Without trailing-slash redirects, the fixed path does not toggle the slash either (gin's rule).
        Assert.Null(s_table.FindRedirect("GET", "/Users/1/", trailingSlash: false, fixedPath: true));
    }

    [Fact]
    public void FindRedirect_TargetNeverStartsWithTwoSlashes()
    {
        // The root route matched by a path of only slashes must not redirect to "//", which a browser reads as a host.
        Assert.Null(s_table.FindRedirect("GET", "//evil.example/", trailingSlash: true, fixedPath: false));
        Assert.Equal("/", s_table.FindRedirect("GET", "//", trailingSlash: false, fixedPath: true));
    }

    [Theory]
    [InlineData("/a/b", "/a/b")]
    [InlineData("//a///b", "/a/b")]
    [InlineData("/a/./b/", "/a/b/")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/b/.", "/a/b/")]
    [InlineData("/../../a", "/a")]
    [InlineData("/a/%2E%2E/b", "/a/%2E%2E/b")]
    [InlineData("/..", "/")]
    [InlineData("", "/")]
    [InlineData("a/b", "/a/b")]
    public void Clean_PathAsGinCleansIt(string path, string expected)
    {
        Assert.Equal(expected, RoutePaths.Clean(path));
        Assert.Equal(path != expected, RoutePaths.NeedsCleaning(path));
    }
}

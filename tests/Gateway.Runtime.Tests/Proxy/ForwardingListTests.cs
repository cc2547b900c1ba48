using Gateway.Runtime.Proxy;

namespace Gateway.Runtime.Tests.Proxy;

public class ForwardingListTests
{
    [Theory]
    [InlineData("page", true)]
    [InlineData("sort", true)]
    [InlineData("Page", false)]
    [InlineData("PAGE", false)]
    [InlineData("pages", false)]
    [InlineData("", false)]
    public void Allows_QueryKeys_ExactOrdinalMatchOnly(string key, bool allowed)
    {
        ForwardingList list = ForwardingList.QueryKeys("page", "sort");

        Assert.False(list.IsAll);
        Assert.Equal(allowed, list.Allows(key));
    }

    [Theory]
    [InlineData("X-Tenant", true)]
    [InlineData("x-tenant", true)]
    [InlineData("X-TENANT", true)]
    [InlineData("Authorization", true)]
    [InlineData("X-Tenant-Id", false)]
    [InlineData("Cookie", false)]
    public void Allows_HeaderNames_CaseInsensitiveMatch(string name, bool allowed)
    {
        ForwardingList list = ForwardingList.HeaderNames("X-Tenant", "authorization");

        Assert.False(list.IsAll);
        Assert.Equal(allowed, list.Allows(name));
    }

    [Theory]
    [InlineData("anything")]
    [InlineData("Cookie")]
    [InlineData("")]
    public void Allows_All_EveryName(string name)
    {
        Assert.True(ForwardingList.All.IsAll);
        Assert.True(ForwardingList.All.Allows(name));
    }

    [Fact]
    public void Allows_EmptyList_Nothing()
    {
        Assert.False(ForwardingList.QueryKeys().Allows("page"));
        Assert.False(ForwardingList.HeaderNames().Allows("Content-Type"));
    }

    [Fact]
    public void EndpointDefinition_NoLists_ForwardsNoQueryAndOnlyContentType()
    {
        var endpoint = new EndpointDefinition(TimeSpan.FromSeconds(1));

        Assert.False(endpoint.InputQueryStrings.Allows("page"));
        Assert.True(endpoint.InputHeaders.Allows("content-type"));
        Assert.False(endpoint.InputHeaders.Allows("Authorization"));
    }
}

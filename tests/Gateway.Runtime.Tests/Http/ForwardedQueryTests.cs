using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Http;

/// <summary>
/// The forwarded query's order (docs/configuration.md, forwarding): keys sorted, values of one key in the client's order,
/// for a short query (sorted in place) and a long one (sorted by position-keyed ordering) alike.
/// </summary>
public sealed class ForwardedQueryTests
{
    [Theory]
    [InlineData("?c=3&b=2&a=1&b=4", "a=1&b=2&b=4&c=3")]
    [InlineData("?b=2&b=1&a=9&b=0", "a=9&b=2&b=1&b=0")]
    [InlineData("?z=1", "z=1")]
    public async Task ShortQuery_KeysSortedValuesInTheClientsOrder(string query, string expected)
    {
        Assert.Equal(expected, await ForwardedAsync(query));
    }

    [Fact]
    public async Task LongQuery_KeysSortedValuesInTheClientsOrder()
    {
        // 40 parameters, two keys interleaved, each key's values descending as sent: past the in-place sort's length.
        string query = "?" + string.Join("&", Enumerable.Range(0, 20).Select(i => $"b={19 - i}&a={19 - i}"));
        string expected = string.Join("&", Enumerable.Range(0, 20).Select(i => $"a={19 - i}")) + "&" + string.Join("&", Enumerable.Range(0, 20).Select(i => $"b={19 - i}"));

        Assert.Equal(expected, await ForwardedAsync(query));
    }

    private static async Task<string> ForwardedAsync(string query)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        using ForwardedRequest forwarded = (await ForwardedRequest.ReadAsync(context, new EndpointDefinition(TimeSpan.FromSeconds(5), inputQueryStrings: ForwardingList.All), 1024))!;
        return string.Join("&", forwarded.Query.Select(pair => pair.Key + "=" + pair.Value));
    }
}

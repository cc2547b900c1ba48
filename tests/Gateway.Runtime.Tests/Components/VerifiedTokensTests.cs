using Gateway.Components.JwtValidator;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Runtime.Tests.Components;

public class VerifiedTokensTests
{
    private static readonly SecurityKey s_key = new SymmetricSecurityKey(new byte[32]);

    [Fact]
    public void TryGet_OnlyTheExactText()
    {
        var tokens = new VerifiedTokens();
        var verified = new VerifiedToken("k1", s_key, [1, 2]);
        tokens.Add("a.b.c", verified);

        Assert.True(tokens.TryGet("a.b.c", out VerifiedToken? found));
        Assert.Same(verified, found);
        Assert.False(tokens.TryGet("a.b.C", out _));
        Assert.False(tokens.TryGet("a.b.c ", out _));
        Assert.False(tokens.TryGet("a.b", out _));
    }

    [Fact]
    public void Add_BeyondTheCapacity_StartsAgainFromEmpty()
    {
        var tokens = new VerifiedTokens();
        for (int i = 0; i < VerifiedTokens.Capacity; i++)
        {
            tokens.Add($"t{i}", new VerifiedToken("k1", s_key, []));
        }

        Assert.Equal(VerifiedTokens.Capacity, tokens.Count);

        // The same token again replaces its entry; a new one empties the memory first.
        tokens.Add("t0", new VerifiedToken("k1", s_key, []));
        Assert.Equal(VerifiedTokens.Capacity, tokens.Count);
        tokens.Add("new", new VerifiedToken("k1", s_key, []));
        Assert.Equal(1, tokens.Count);
        Assert.True(tokens.TryGet("new", out _));
        Assert.False(tokens.TryGet("t1", out _));
    }
}

using System.Text;
using System.Text.Json;
using Gateway.Components.JwtValidator;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Components;

/// <summary>The claims' rules of <c>auth/validator</c>, as krakend-jose applies them through go-jose.</summary>
public class TokenClaimsTests
{
    private const double Now = 1_700_000_000;

    [Theory]
    [InlineData("""{"exp": 1700000000}""", null)]
    [InlineData("""{"exp": 1699999999.5}""", null)]          // within the 1 s leeway
    [InlineData("""{"exp": 1699999998}""", "the token has expired")]
    [InlineData("""{"nbf": 1700000001}""", null)]
    [InlineData("""{"nbf": 1700000002}""", "the token is not valid yet (nbf)")]
    [InlineData("""{"iat": 1700000060}""", "the token was issued in the future (iat)")]
    [InlineData("""{"exp": "1800000000"}""", "the token's exp is not a number of seconds")]
    [InlineData("""{"sub": "no exp at all"}""", null)]          // as in KrakenD, a token without exp does not expire
    [InlineData("""{"exp": 1600000000, "exp": 1800000000}""", null)] // a repeated name: the last one wins
    [InlineData("""[1, 2]""", "the token's claims are not a JSON object")]
    [InlineData("""{"exp": 1800000000""", "the token's claims are not valid JSON")]
    public void CheckRegistered_Lifetime(string claims, string? expected)
    {
        Assert.Equal(expected, TokenClaims.CheckRegistered(Encoding.UTF8.GetBytes(claims), null, [], 1, Now));
    }

    [Theory]
    [InlineData("""{"iss": "https://idp", "aud": ["api", "web"]}""", null)]
    [InlineData("""{"iss": "https://idp", "aud": "api"}""", "the token is not for every configured audience")]
    [InlineData("""{"iss": "https://idp", "aud": ["api", "w\u0065b"]}""", null)]
    [InlineData("""{"iss": "https://idp/", "aud": ["api", "web"]}""", "the token's issuer is not the configured one")]
    [InlineData("""{"aud": ["api", "web"]}""", "the token's issuer is not the configured one")]
    [InlineData("""{"iss": "https://idp", "aud": [1, "api"]}""", "the token is not for every configured audience")]
    public void CheckRegistered_IssuerAndEveryAudience(string claims, string? expected)
    {
        Assert.Equal(expected, TokenClaims.CheckRegistered(Encoding.UTF8.GetBytes(claims), "https://idp", ["api", "web"], 1, Now));
    }

    [Theory]
    [InlineData("""{"roles": ["viewer", "admin"]}""", true)]
    [InlineData("""{"roles": "viewer admin"}""", true)]
    [InlineData("""{"roles": ["ad\u006din"]}""", true)]
    [InlineData("""{"roles": ["viewer", 7, null, {"admin": true}]}""", false)]
    [InlineData("""{"roles": "administrator"}""", false)]
    [InlineData("""{"roles": {"admin": true}}""", false)]
    [InlineData("""{"other": ["admin"]}""", false)]
    public void HoldsAny_ListOrSpaceSeparatedString(string claims, bool expected)
    {
        Assert.Equal(expected, TokenClaims.HoldsAny(Encoding.UTF8.GetBytes(claims), JsonPath.Parse("roles"), ["admin", "ops"]));
    }

    [Theory]
    [InlineData("""{"access": {"scope": "read write"}}""", true)]
    [InlineData("""{"access": {"scope": ["write", "read", "delete"]}}""", true)]
    [InlineData("""{"access": {"scope": "read"}}""", false)]
    [InlineData("""{"access": {"scope": []}}""", false)]
    [InlineData("""{"access": "read write"}""", false)]
    public void HoldsAll_NestedClaim(string claims, bool expected)
    {
        Assert.Equal(expected, TokenClaims.HoldsAll(Encoding.UTF8.GetBytes(claims), JsonPath.Parse("access.scope"), ["read", "write"]));
    }

    [Theory]
    [InlineData("\"ana\"", JsonTokenType.String, "ana")]
    [InlineData("\"a\\u0062c\"", JsonTokenType.String, "abc")]
    [InlineData("1e3", JsonTokenType.Number, "1e3")]
    [InlineData("true", JsonTokenType.True, "true")]
    [InlineData("[\"a\", 2, true]", JsonTokenType.StartArray, "a,2,true")]
    [InlineData("{\"id\":7}", JsonTokenType.StartObject, "{\"id\":7}")]
    [InlineData("null", JsonTokenType.Null, null)]
    [InlineData("[{\"a\":1}]", JsonTokenType.StartArray, null)]
    public void Text_IsTheHeaderForm(string raw, JsonTokenType kind, string? expected)
    {
        Assert.Equal(expected, TokenClaims.Text(Encoding.UTF8.GetBytes(raw), kind));
    }

    [Fact]
    public void Elements_EachElementsText()
    {
        Assert.Equal(["a", "2", "{\"b\":1}"], TokenClaims.Elements(Encoding.UTF8.GetBytes("[\"a\", 2, null, {\"b\":1}]")));
    }
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Signs JWTs byte by byte for the validator's tests (no token library: the gateway must read what any issuer writes,
/// and the hostile tokens — <c>alg: none</c>, a wrong algorithm, a tampered payload — cannot be made with one), and
/// writes the JWKS that publish the keys.
/// </summary>
public static class TestTokens
{
    public const string Issuer = "https://idp.test";

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The claims every valid token of the tests holds; <paramref name="change"/> edits them.</summary>
    public static JsonObject Claims(Action<JsonObject>? change = null)
    {
        var claims = new JsonObject
        {
            ["sub"] = "u-42",
            ["iss"] = Issuer,
            ["aud"] = new JsonArray("api", "web"),
            ["exp"] = Now + 600,
            ["iat"] = Now - 10,
            ["email"] = "ana@example.test",
            ["name"] = "Ana",
            ["tenant"] = new JsonObject { ["id"] = 7 },
            ["realm_access"] = new JsonObject { ["roles"] = new JsonArray("admin", "ops") },
            ["scope"] = "items:read profile",
        };
        change?.Invoke(claims);
        return claims;
    }

    /// <summary>A compact JWS: <paramref name="alg"/> in the header (as written), signed with <paramref name="key"/> (RSA, ECDsa, or an HMAC secret; nothing for <c>none</c>).</summary>
    public static string Sign(string alg, object? key, string? kid, JsonObject claims, string? header = null)
    {
        header ??= kid is null ? $$"""{"alg":"{{alg}}","typ":"JWT"}""" : $$"""{"alg":"{{alg}}","typ":"JWT","kid":"{{kid}}"}""";
        string input = Encode(Encoding.UTF8.GetBytes(header)) + "." + Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        byte[] data = Encoding.ASCII.GetBytes(input);
        byte[] signature = (alg, key) switch
        {
            ("RS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ("PS256", RSA rsa) => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            ("ES256", ECDsa ec) => ec.SignData(data, HashAlgorithmName.SHA256),
            ("HS256", byte[] secret) => HMACSHA256.HashData(secret, data),
            ("HS384", byte[] secret) => HMACSHA384.HashData(secret, data),
            _ => [],
        };
        return input + "." + Encode(signature);
    }

    public static string Encode(byte[] bytes) => Base64Url.EncodeToString(bytes);

    public static JsonObject RsaJwk(RSA rsa, string kid)
    {
        RSAParameters p = rsa.ExportParameters(false);
        return new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["use"] = "sig", ["alg"] = "RS256", ["n"] = Encode(p.Modulus!), ["e"] = Encode(p.Exponent!) };
    }

    public static JsonObject EcJwk(ECDsa ec, string kid)
    {
        ECParameters p = ec.ExportParameters(false);
        return new JsonObject { ["kty"] = "EC", ["kid"] = kid, ["crv"] = "P-256", ["x"] = Encode(p.Q.X!), ["y"] = Encode(p.Q.Y!) };
    }

    public static JsonObject OctJwk(byte[] secret, string kid) => new() { ["kty"] = "oct", ["kid"] = kid, ["k"] = Encode(secret) };

    public static string KeySet(params JsonObject[] keys) => new JsonObject { ["keys"] = new JsonArray(keys) }.ToJsonString();
}

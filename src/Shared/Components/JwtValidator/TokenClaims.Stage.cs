using System.Text;
using System.Text.Json;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Templates;

namespace Gateway.Components.JwtValidator;

/// <summary>
/// The rules a validated token's claims must meet, read straight from the payload's JSON with
/// <see cref="Utf8JsonReader"/> (krakend-jose's semantics, through go-jose): <c>exp</c>, <c>nbf</c>, <c>iat</c> within the
/// leeway, the issuer, every audience, and role and scope lists written as a JSON array or a space-separated string.
/// </summary>
internal static class TokenClaims
{
    /// <summary>
    /// Null when the token is within its lifetime, from <paramref name="issuer"/> (when set) and for every one of
    /// <paramref name="audience"/>; otherwise why not. A registered claim of the wrong type makes the token invalid, as
    /// go-jose's decoding does.
    /// </summary>
    public static string? CheckRegistered(ReadOnlySpan<byte> claims, string? issuer, string[] audience, long leewaySeconds, double nowSeconds)
    {
        double? expires = null, notBefore = null, issuedAt = null;
        string? tokenIssuer = null;
        List<string>? audiences = null;
        try
        {
            var reader = new Utf8JsonReader(claims);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return "the token's claims are not a JSON object";
            }

            // When a name repeats, the last one wins, as in every JSON reading of the gateway.
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int time = reader.ValueTextEquals("exp"u8) ? 0 : reader.ValueTextEquals("nbf"u8) ? 1 : reader.ValueTextEquals("iat"u8) ? 2 : -1;
                if (time >= 0)
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double seconds))
                    {
                        return $"the token's {(time == 0 ? "exp" : time == 1 ? "nbf" : "iat")} is not a number of seconds";
                    }

                    if (time == 0)
                    {
                        expires = seconds;
                    }
                    else if (time == 1)
                    {
                        notBefore = seconds;
                    }
                    else
                    {
                        issuedAt = seconds;
                    }
                }
                else if (reader.ValueTextEquals("iss"u8))
                {
                    reader.Read();
                    tokenIssuer = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("aud"u8))
                {
                    reader.Read();
                    audiences = ReadStrings(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "the token's claims are not valid JSON";
        }

        if (expires is { } exp && nowSeconds - leewaySeconds > exp)
        {
            return "the token has expired";
        }

        if (notBefore is { } nbf && nowSeconds + leewaySeconds < nbf)
        {
            return "the token is not valid yet (nbf)";
        }

        if (issuedAt is { } iat && nowSeconds + leewaySeconds < iat)
        {
            return "the token was issued in the future (iat)";
        }

        if (issuer is not null && !string.Equals(issuer, tokenIssuer, StringComparison.Ordinal))
        {
            return "the token's issuer is not the configured one";
        }

        foreach (string required in audience)
        {
            if (audiences is null || !audiences.Contains(required))
            {
                return "the token is not for every configured audience";
            }
        }

        return null;
    }

    /// <summary>True when the list at <paramref name="path"/> (an array of strings, or one space-separated string) holds one of <paramref name="required"/>.</summary>
    public static bool HoldsAny(ReadOnlySpan<byte> claims, JsonPath path, string[] required)
    {
        List<string>? held = Listed(claims, path);
        if (held is null)
        {
            return false;
        }

        foreach (string value in required)
        {
            if (held.Contains(value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the list at <paramref name="path"/> holds every one of <paramref name="required"/>.</summary>
    public static bool HoldsAll(ReadOnlySpan<byte> claims, JsonPath path, string[] required)
    {
        List<string>? held = Listed(claims, path);
        if (held is null)
        {
            return false;
        }

        foreach (string value in required)
        {
            if (!held.Contains(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The text form of one claim value for a header (<see cref="TemplateText"/>); an object as its JSON text, as KrakenD sends it; null for <c>null</c>.</summary>
    public static string? Text(ReadOnlySpan<byte> raw, JsonTokenType kind)
    {
        if (kind == JsonTokenType.StartObject)
        {
            return Encoding.UTF8.GetString(raw);
        }

        using var text = new PooledBuffer(Math.Max(raw.Length, 16));
        return TemplateText.TryWrite(raw, text, jsonEscaped: false) ? Encoding.UTF8.GetString(text.WrittenSpan) : null;
    }

    /// <summary>The text form of each element of an array (elements without one are left out).</summary>
    public static List<string> Elements(ReadOnlySpan<byte> array)
    {
        var elements = new List<string>();
        var reader = new Utf8JsonReader(array);
        try
        {
            reader.Read();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int start = (int)reader.TokenStartIndex;
                JsonTokenType kind = reader.TokenType;
                reader.Skip();
                if (Text(array[start..(int)reader.BytesConsumed], kind) is { } text)
                {
                    elements.Add(text);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // A payload that parsed once does not fail here; if it did, the elements read so far are the answer.
        }

        return elements;
    }

    /// <summary>The strings listed at <paramref name="path"/>: an array's string elements, or a string split at spaces.</summary>
    private static List<string>? Listed(ReadOnlySpan<byte> claims, JsonPath path)
    {
        if (!JsonValueLocator.TryLocate(claims, path, out JsonValueRange range))
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(claims.Slice(range.Start, range.Length));
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                return [.. reader.GetString()!.Split(' ')];
            }

            return ReadStrings(ref reader);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A string as a one-item list, an array's string elements (others skipped), anything else null.</summary>
    private static List<string>? ReadStrings(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return [reader.GetString()!];
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }

        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                values.Add(reader.GetString()!);
            }
            else
            {
                reader.Skip();
            }
        }

        return values;
    }
}

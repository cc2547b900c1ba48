using System.Buffers.Text;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Templates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Components.JwtValidator;

/// <summary>A claim sent to every backend of the endpoint as a header (<c>propagate_claims</c>).</summary>
public sealed class PropagatedClaim
{
    public PropagatedClaim(string claim, JsonPath path, string header)
    {
        Claim = claim;
        Path = path;
        Header = header;
    }

    /// <summary>The claim as configured, for the log.</summary>
    public string Claim { get; }

    public JsonPath Path { get; }

    public string Header { get; }
}

/// <summary>An endpoint's <c>auth/validator</c>, as the generated handler builds it from the configuration.</summary>
public sealed class JwtValidatorOptions
{
    /// <summary>The one algorithm tokens must be signed with (their header's <c>alg</c>, exactly).</summary>
    public required string Algorithm { get; init; }

    public required JsonWebKeySource Keys { get; init; }

    /// <summary>The <c>iss</c> a token must have; null: any.</summary>
    public string? Issuer { get; init; }

    /// <summary>Audiences a token's <c>aud</c> must all hold.</summary>
    public string[] Audience { get; init; } = [];

    /// <summary>Roles a token must hold one of, at <see cref="RolesPath"/>; empty: no role check.</summary>
    public string[] Roles { get; init; } = [];

    public JsonPath? RolesPath { get; init; }

    /// <summary>Scopes a token must hold (one of them, or all with <see cref="AllScopes"/>), at <see cref="ScopesPath"/>.</summary>
    public string[] Scopes { get; init; } = [];

    public JsonPath? ScopesPath { get; init; }

    public bool AllScopes { get; init; }

    /// <summary>The request header holding the token (<c>auth_header_name</c>).</summary>
    public string TokenHeader { get; init; } = "Authorization";

    /// <summary>The cookie holding the token when the header is absent (<c>cookie_key</c>); null: none.</summary>
    public string? Cookie { get; init; }

    public PropagatedClaim[] PropagatedClaims { get; init; } = [];

    /// <summary>An array claim is sent as one header line per element instead of its elements joined by commas.</summary>
    public bool PropagateArrays { get; init; }

    /// <summary>The clock difference tolerated on <c>exp</c>, <c>nbf</c> and <c>iat</c> (1 s at least).</summary>
    public TimeSpan Leeway { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Logs why each refused token was refused (<c>operation_debug</c>).</summary>
    public bool OperationDebug { get; init; }
}

/// <summary>
/// KrakenD's <c>auth/validator</c> (docs/configuration.md, JWT validation): the first stage of its endpoint. A request
/// goes on to the backends only with a token that is signed by a key of the configured JWKS with the configured
/// algorithm, is within its lifetime, comes from the configured issuer for every configured audience, and holds the
/// required roles and scopes; its claims then reach the backends as headers and <c>{JWT.claim}</c> placeholders.
/// </summary>
/// <remarks>
/// Answers, with no body, as KrakenD: 401 when the token is missing, malformed, signed otherwise or outside its claims'
/// rules; 403 when it lacks a role or a scope. Unlike KrakenD, 503 when no key set can be had (the identity provider is
/// down and none was fetched within the grace period): the token may be fine, the client should retry, not log in again.
/// The header's <c>alg</c> must equal the configured one, and a key is used only for the algorithm its type serves, so
/// <c>alg: none</c> and algorithm confusion (a public RSA key as an HMAC secret) are refused before any signature check.
/// Tokens are never logged.
/// </remarks>
public sealed class JwtValidatorStage : IEndpointStage
{
    /// <summary>A token longer than this is refused unread (Kestrel's header limit already keeps requests far below).</summary>
    public const int MaxTokenLength = 16 * 1024;

    private static readonly JsonWebTokenHandler s_handler = new() { MaximumTokenSizeInBytes = MaxTokenLength };

    private readonly JwtValidatorOptions _options;
    private readonly VerifiedTokens _verified = new();
    private readonly string[] _algorithms;

    public JwtValidatorStage(JwtValidatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _algorithms = [options.Algorithm];
    }

    /// <summary>The key set is fetched on its own budget, shared by requests; the backends keep the endpoint's.</summary>
    public bool CallsServices => false;

    public async Task<bool> RunAsync(ProxyExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        HttpContext context = exchange.Context;
        JwtValidatorOptions options = _options;

        // 1. The token: the header (without "Bearer "), else the cookie when one is configured.
        string? token = FindToken(context.Request, out string? missing);
        if (token is null)
        {
            return Refuse(context, StatusCodes.Status401Unauthorized, missing!);
        }

        // 2-4. A token verified before, whose key the key set still holds, is not read nor verified again.
        byte[]? claims = await VerifiedBeforeAsync(token, context, exchange).ConfigureAwait(false)
            ?? await VerifyAsync(token, context, exchange).ConfigureAwait(false);
        if (claims is null)
        {
            return false; // refused: the answer is written
        }

        // 5. Lifetime, issuer, audiences: 401. Roles, scopes: 403. Checked on every request, a remembered token's too.
        if (TokenClaims.CheckRegistered(claims, options.Issuer, options.Audience, (long)options.Leeway.TotalSeconds, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0) is { } invalid)
        {
            return Refuse(context, StatusCodes.Status401Unauthorized, invalid);
        }

        if (options.Roles.Length > 0 && !TokenClaims.HoldsAny(claims, options.RolesPath!, options.Roles))
        {
            return Refuse(context, StatusCodes.Status403Forbidden, "the token holds none of the required roles");
        }

        if (options.Scopes.Length > 0 && !(options.AllScopes ? TokenClaims.HoldsAll(claims, options.ScopesPath!, options.Scopes) : TokenClaims.HoldsAny(claims, options.ScopesPath!, options.Scopes)))
        {
            return Refuse(context, StatusCodes.Status403Forbidden, options.AllScopes ? "the token lacks a required scope" : "the token holds none of the required scopes");
        }

        // 6. The claims reach the backends: as headers, and for {JWT.claim} placeholders.
        exchange.SetClaims(claims);
        Propagate(exchange, claims);
        return true;
    }

    /// <summary>
    /// The claims of a token this stage verified before (<see cref="VerifiedTokens"/>), when the key that verified it is
    /// still in the key set: the same key object, so neither the set nor the key was fetched anew since. Null otherwise.
    /// </summary>
    private async ValueTask<byte[]?> VerifiedBeforeAsync(string token, HttpContext context, ProxyExchange exchange)
    {
        if (!_verified.TryGet(token, out VerifiedToken? known))
        {
            return null;
        }

        (KeyLookupStatus status, SecurityKey[] keys) = await _options.Keys.FindAsync(known.KeyId, _options.Algorithm, Log(context), exchange.Budget).ConfigureAwait(false);
        if (status == KeyLookupStatus.Found)
        {
            foreach (SecurityKey key in keys)
            {
                if (ReferenceEquals(key, known.Key))
                {
                    return known.Claims;
                }
            }
        }

        return null;
    }

    /// <summary>Steps 2 to 4: the token read, its key found and its signature verified; its claims, or null once refused.</summary>
    private async ValueTask<byte[]?> VerifyAsync(string token, HttpContext context, ProxyExchange exchange)
    {
        JwtValidatorOptions options = _options;

        // 2. Its header: the configured algorithm and nothing else (no "none", no HS256 with an RSA key's bytes).
        JsonWebToken jwt;
        try
        {
            jwt = s_handler.ReadJsonWebToken(token);
        }
        catch (Exception e)
        {
            // Whatever the client sent that the parser cannot read (bad base64, bad or too deep JSON) is not a token.
            Refuse(context, StatusCodes.Status401Unauthorized, $"the token is not a JWT ({e.GetType().Name})");
            return null;
        }

        if (jwt.IsEncrypted)
        {
            Refuse(context, StatusCodes.Status401Unauthorized, "the token is encrypted (JWE); only signed tokens are accepted");
            return null;
        }

        if (!string.Equals(jwt.Alg, options.Algorithm, StringComparison.Ordinal))
        {
            Refuse(context, StatusCodes.Status401Unauthorized, $"the token's algorithm is \"{Shown(jwt.Alg)}\", not {options.Algorithm}");
            return null;
        }

        // 3. The key it names, of the algorithm's type: fetched when unknown (rotation), within the cooldown.
        jwt.TryGetHeaderValue("x5t#S256", out string? x5tS256);
        string keyId = options.Keys.KeyIdOf(jwt.Kid, jwt.X5t, x5tS256 ?? string.Empty);
        (KeyLookupStatus status, SecurityKey[] keys) = await options.Keys.FindAsync(keyId, options.Algorithm, Log(context), exchange.Budget).ConfigureAwait(false);
        if (status != KeyLookupStatus.Found)
        {
            if (status == KeyLookupStatus.Unknown)
            {
                Refuse(context, StatusCodes.Status401Unauthorized, $"no {options.Algorithm} key named \"{Shown(keyId)}\" in the key set");
            }
            else
            {
                Refuse(context, StatusCodes.Status503ServiceUnavailable, "no key set could be fetched");
            }

            return null;
        }

        // 4. The signature, by IdentityModel; the claims' rules below are KrakenD's and checked here.
        TokenValidationResult result = await s_handler.ValidateTokenAsync(jwt, Parameters(keys)).ConfigureAwait(false);
        if (!result.IsValid)
        {
            Refuse(context, StatusCodes.Status401Unauthorized, $"the signature does not verify ({result.Exception?.GetType().Name})");
            return null;
        }

        byte[] claims;
        try
        {
            claims = Base64Url.DecodeFromChars(jwt.EncodedPayload);
        }
        catch (FormatException)
        {
            Refuse(context, StatusCodes.Status401Unauthorized, "the token's payload is not base64url");
            return null;
        }

        // Remembered only once verified, with the key that verified it (one of the set's objects).
        if (jwt.SigningKey is { } signedWith)
        {
            _verified.Add(token, new VerifiedToken(keyId, signedWith, claims));
        }

        return claims;
    }

    private TokenValidationParameters Parameters(SecurityKey[] keys) => new()
    {
        // Only the signature: the keys were chosen for this token and algorithm, and the claims are checked after.
        IssuerSigningKeys = keys,
        TryAllIssuerSigningKeys = true,
        ValidAlgorithms = _algorithms,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = false,
        ValidateIssuer = false,
        ValidateAudience = false,
        ValidateLifetime = false,
        RequireExpirationTime = false,
        RequireAudience = false,
        LogValidationExceptions = false,
    };

    private string? FindToken(HttpRequest request, out string? missing)
    {
        missing = null;
        if (request.Headers.TryGetValue(_options.TokenHeader, out StringValues values) && values.Count > 0)
        {
            if (values.Count > 1)
            {
                missing = $"the request has {values.Count} {_options.TokenHeader} headers";
                return null;
            }

            string value = values[0] ?? string.Empty;
            if (value.Length > 7 && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                value = value[7..];
            }

            if (value.Length > 0)
            {
                return value.Length <= MaxTokenLength ? value : Missing(out missing, "the token is too long");
            }
        }

        if (_options.Cookie is { } cookie && request.Cookies.TryGetValue(cookie, out string? fromCookie) && !string.IsNullOrEmpty(fromCookie))
        {
            return fromCookie.Length <= MaxTokenLength ? fromCookie : Missing(out missing, "the token is too long");
        }

        return Missing(out missing, _options.Cookie is null ? $"no token in {_options.TokenHeader}" : $"no token in {_options.TokenHeader} nor in the cookie {_options.Cookie}");

        static string? Missing(out string? why, string text)
        {
            why = text;
            return null;
        }
    }

    /// <summary>
    /// <c>propagate_claims</c>: each claim's text form replaces the header on every backend request, so a client can
    /// never send a value of its own under it; a missing claim, or one that a header cannot carry (non-ASCII text, say),
    /// only removes the client's.
    /// </summary>
    private void Propagate(ProxyExchange exchange, byte[] claims)
    {
        foreach (PropagatedClaim claim in _options.PropagatedClaims)
        {
            if (!JsonValueLocator.TryLocate(claims, claim.Path, out JsonValueRange range))
            {
                exchange.Forwarded.SetOverride(claim.Header, null);
                continue;
            }

            ReadOnlySpan<byte> raw = claims.AsSpan(range.Start, range.Length);
            if (range.Kind == System.Text.Json.JsonTokenType.StartArray && _options.PropagateArrays)
            {
                bool any = false;
                foreach (string element in TokenClaims.Elements(raw))
                {
                    if (Gateway.Http.HttpRules.IsHeaderValue(element))
                    {
                        exchange.Forwarded.SetOverride(claim.Header, element);
                        any = true;
                    }
                }

                if (!any)
                {
                    exchange.Forwarded.SetOverride(claim.Header, null);
                }

                continue;
            }

            string? text = TokenClaims.Text(raw, range.Kind);
            if (text is null || !Gateway.Http.HttpRules.IsHeaderValue(text))
            {
                if (_options.OperationDebug)
                {
                    JwtLog.ClaimNotPropagated(Log(exchange.Context), exchange.Context.Request.Path.Value ?? string.Empty, claim.Claim, claim.Header);
                }

                exchange.Forwarded.SetOverride(claim.Header, null);
                continue;
            }

            exchange.Forwarded.SetOverride(claim.Header, text);
        }
    }

    /// <summary>Writes the refusal (no body, as KrakenD) and ends the request. Never logs the token.</summary>
    private bool Refuse(HttpContext context, int status, string reason)
    {
        if (_options.OperationDebug)
        {
            JwtLog.Refused(Log(context), context.Request.Method, context.Request.Path.Value ?? string.Empty, status, reason);
        }

        FailureAnswers.WriteEmpty(context.Response, status);
        if (status != StatusCodes.Status503ServiceUnavailable)
        {
            // RFC 6750 §3: how to authenticate, and for a valid token without the rights, why it is not enough.
            context.Response.Headers.WWWAuthenticate = status == StatusCodes.Status403Forbidden ? "Bearer error=\"insufficient_scope\"" : "Bearer";
        }

        return false;
    }

    /// <summary>A header value of the token as it may appear in the log: short, printable.</summary>
    private static string Shown(string value) => value.Length > 64 || !Gateway.Http.HttpRules.IsHeaderValue(value) ? "(unprintable)" : value;

    private static ILogger Log(HttpContext context) =>
        context.RequestServices?.GetService<ILoggerFactory>()?.CreateLogger(JwtLog.Category) ?? NullLogger.Instance;
}

/// <summary>The validator's log lines, category <c>Gateway.Jwt</c>. Tokens and claim values are never logged.</summary>
internal static partial class JwtLog
{
    public const string Category = "Gateway.Jwt";

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "{Method} {Path}: token refused with {Status}: {Reason} (operation_debug)")]
    public static partial void Refused(ILogger logger, string method, string path, int status, string reason);

    [LoggerMessage(EventId = 31, Level = LogLevel.Error, Message = "the key set {Url} could not be fetched: {Problem}; {Consequence}")]
    public static partial void KeysFetchFailed(ILogger logger, string url, string problem, string consequence);

    [LoggerMessage(EventId = 32, Level = LogLevel.Error, Message = "the key set {Url} could not be fetched: the gateway failed while fetching it")]
    public static partial void KeysFetchCrashed(ILogger logger, string url, Exception exception);

    [LoggerMessage(EventId = 33, Level = LogLevel.Information, Message = "the key set {Url} was fetched: {Count} usable key(s)")]
    public static partial void KeysFetched(ILogger logger, string url, int count);

    [LoggerMessage(EventId = 34, Level = LogLevel.Warning, Message = "{Path}: the claim {Claim} has no value a header can carry; {Header} is not sent (operation_debug)")]
    public static partial void ClaimNotPropagated(ILogger logger, string path, string claim, string header);
}

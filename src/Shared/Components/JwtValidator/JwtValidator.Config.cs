using System;
using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;
using Gateway.Http;

namespace Gateway.Components.JwtValidator;

/// <summary>
/// An endpoint's <c>auth/validator</c>, checked at build time: the one algorithm tokens must use, where the keys come
/// from, and what the claims must hold. Claim names are split into paths here (<see cref="ClaimPaths"/>), so the run
/// time never parses a dotted name.
/// </summary>
internal sealed record JwtValidatorModel(
    string Algorithm,
    JwksSourceModel Keys,
    string? Issuer,
    EquatableArray<string> Audience,
    EquatableArray<string> Roles,
    EquatableArray<string> RolesPath,
    EquatableArray<string> Scopes,
    EquatableArray<string> ScopesPath,
    bool AllScopes,
    string TokenHeader,
    string? Cookie,
    EquatableArray<ClaimHeaderModel> PropagatedClaims,
    bool PropagateArrays,
    long LeewaySeconds,
    bool OperationDebug) : EndpointComponentModel;

/// <summary>
/// Where the keys come from: a JWKS URL (its origin as a host group, so <c>--backend-host</c> can point it elsewhere,
/// and its path), or a JWKS file read when the gateway starts. How long fetched keys are used before they are fetched
/// again, the least time between two fetches, and how a token names its key.
/// </summary>
internal sealed record JwksSourceModel(
    string? Url,
    int HostGroup,
    string? Path,
    string? LocalPath,
    long FreshForSeconds,
    long CooldownMilliseconds,
    string KeyIdentifyStrategy);

/// <summary>A claim sent to the backends as a header (<c>propagate_claims</c>).</summary>
internal sealed record ClaimHeaderModel(string Claim, EquatableArray<string> Path, string Header);

/// <summary>
/// KrakenD's <c>auth/validator</c> on an endpoint (docs/configuration.md, JWT validation; krakend-jose's validator):
/// tokens from the <c>Authorization</c> header (or a cookie) are checked against keys of a JWKS before any backend is
/// called. Every key is checked here, and what KrakenD would refuse at start-up, or silently get wrong, is a build error.
/// </summary>
internal static class JwtValidatorConfig
{
    public static readonly ConfigNamespace Namespace = new("auth/validator", ConfigScope.Endpoint);

    /// <summary>The algorithms a token may be signed with (KrakenD's list, without EdDSA: see <see cref="NotYetAlgorithms"/>).</summary>
    public static readonly string[] Algorithms = { "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512" };

    private static readonly string[] NotYetAlgorithms = { "EdDSA" };

    private static readonly char[] PathStarts = { '/', '?' };

    public static readonly string[] KeyIdentifyStrategies = { "kid", "x5t", "x5t#S256", "kid_x5t" };

    /// <summary>KrakenD's key cache lifetime when <c>cache</c> is on and <c>cache_duration</c> is not set: 15 minutes.</summary>
    public const long DefaultCacheSeconds = 900;

    /// <summary>
    /// Without <c>cache</c>, KrakenD downloads the key set for every request. The gateway keeps it this long instead, so
    /// a key removed from the set stops working within seconds while the identity provider sees one download per period.
    /// </summary>
    public const long UncachedFreshSeconds = 10;

    /// <summary>The least time between two downloads of a key set (<c>failed_jwk_key_cooldown</c>, 1 s at least).</summary>
    public const long DefaultCooldownMilliseconds = 10_000;

    private static readonly string[] Supported =
    {
        "alg", "jwk_url", "jwk_local_path", "audience", "issuer", "roles", "roles_key", "roles_key_is_nested", "scopes",
        "scopes_key", "scopes_matcher", "cookie_key", "auth_header_name", "propagate_claims", "propagate_claims_preserve_array",
        "cache", "cache_duration", "failed_jwk_key_cooldown", "leeway", "disable_jwk_security", "operation_debug",
        "key_identify_strategy", Keys.Comment,
    };

    /// <summary>Keys that would change where keys come from or how they are trusted: ignoring one would trust other keys than configured.</summary>
    private static readonly string[] NotYet = { "jwk_fingerprints", "jwk_local_ca", "cipher_suites", "secret_url", "cypher_key" };

    /// <summary>The component's reader (ComponentRegistry).</summary>
    public static EndpointComponentModel? Read(JsonNode node, EndpointReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(node, "\"auth/validator\"", Supported, NotYet);

        string algorithm = ReadAlgorithm(node, read);
        JwksSourceModel? keys = ReadKeySource(node, context);

        string? issuer = null;
        if (node.Find("issuer") is { } issuerProperty && read.Expect(issuerProperty, JsonKind.String, "the issuer tokens must name (their \"iss\" claim)"))
        {
            issuer = issuerProperty.Value.Text;
        }

        EquatableArray<string> audience = Strings(node.Find("audience"), read, "audiences a token must all hold in its \"aud\" claim");

        // Roles: KrakenD walks into objects only with roles_key_is_nested; otherwise a dotted roles_key is one claim name.
        EquatableArray<string> roles = Strings(node.Find("roles"), read, "roles a token must hold one of");
        string rolesKey = "roles";
        JsonProperty? rolesKeyProperty = node.Find("roles_key");
        if (rolesKeyProperty is not null && read.Expect(rolesKeyProperty, JsonKind.String, "the claim that lists a token's roles") && rolesKeyProperty.Value.Text!.Length > 0)
        {
            rolesKey = rolesKeyProperty.Value.Text;
        }

        bool rolesNested = read.ParseBool(node.Find("roles_key_is_nested"));
        if (rolesKeyProperty is not null && !rolesNested && ClaimPaths.IsDotted(rolesKey))
        {
            diagnostics.Report(
                DiagnosticKind.NoEffect,
                $"roles_key \"{rolesKey}\" is read as one claim with that whole name, as KrakenD does; to read \"{rolesKey.Substring(rolesKey.LastIndexOf('.') + 1)}\" inside \"{rolesKey.Substring(0, rolesKey.LastIndexOf('.'))}\", add \"roles_key_is_nested\": true",
                rolesKeyProperty.Value);
        }

        EquatableArray<string> rolesPath = rolesNested ? ClaimPaths.Split(rolesKey) : new EquatableArray<string>(new[] { rolesKey });

        // Scopes: checked only with both scopes and scopes_key (KrakenD silently checks nothing without the key: here an error).
        EquatableArray<string> scopes = Strings(node.Find("scopes"), read, "scopes a token must hold");
        JsonProperty? scopesKeyProperty = node.Find("scopes_key");
        string? scopesKey = null;
        if (scopesKeyProperty is not null && read.Expect(scopesKeyProperty, JsonKind.String, "the claim that lists a token's scopes") && scopesKeyProperty.Value.Text!.Length > 0)
        {
            scopesKey = scopesKeyProperty.Value.Text;
        }

        if (scopes.Count > 0 && scopesKey is null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"scopes\" needs \"scopes_key\", the claim that holds a token's scopes (such as \"scope\"); without it KrakenD checks no scope at all", node.Find("scopes")!.Value);
        }
        else if (scopes.Count == 0 && scopesKeyProperty is not null)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"scopes_key\" has no effect without \"scopes\", the scopes a token must hold", scopesKeyProperty);
        }

        bool allScopes = false;
        if (node.Find("scopes_matcher") is { } matcherProperty && read.Expect(matcherProperty, JsonKind.String, "\"any\" or \"all\""))
        {
            allScopes = matcherProperty.Value.Text == "all";
            if (matcherProperty.Value.Text is not ("any" or "all"))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"scopes_matcher \"{matcherProperty.Value.Text}\" is not a matcher; use \"any\" (one of the scopes, the default) or \"all\"", matcherProperty.Value);
            }
        }

        string tokenHeader = "Authorization";
        if (node.Find("auth_header_name") is { } headerProperty && read.Expect(headerProperty, JsonKind.String, "a header name") && headerProperty.Value.Text!.Length > 0)
        {
            tokenHeader = headerProperty.Value.Text;
            if (!HttpRules.IsHeaderName(tokenHeader))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"auth_header_name \"{tokenHeader}\" is not a valid header name", headerProperty.Value);
            }
        }

        string? cookie = null;
        if (node.Find("cookie_key") is { } cookieProperty && read.Expect(cookieProperty, JsonKind.String, "a cookie name") && cookieProperty.Value.Text!.Length > 0)
        {
            cookie = cookieProperty.Value.Text;
            if (!HttpRules.IsHeaderName(cookie))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"cookie_key \"{cookie}\" is not a valid cookie name", cookieProperty.Value);
            }
        }

        EquatableArray<ClaimHeaderModel> propagated = ReadPropagatedClaims(node.Find("propagate_claims"), read);
        bool propagateArrays = read.ParseBool(node.Find("propagate_claims_preserve_array"));

        // KrakenD's leeway: 1 s by default, whole seconds, 1 s at least.
        long leeway = 1;
        if (Duration(node.Find("leeway"), read, "leeway") is { } leewayMilliseconds)
        {
            leeway = Math.Max(1, (leewayMilliseconds + 999) / 1000);
        }

        bool debug = read.ParseBool(node.Find("operation_debug"));
        if (diagnostics.ErrorCount > errorsBefore || keys is null)
        {
            return null;
        }

        return new JwtValidatorModel(
            algorithm,
            keys,
            issuer,
            audience,
            roles,
            rolesPath,
            scopes,
            scopesKey is null ? EquatableArray<string>.Empty : ClaimPaths.Split(scopesKey),
            allScopes,
            tokenHeader,
            cookie,
            propagated,
            propagateArrays,
            leeway,
            debug);
    }

    private static string ReadAlgorithm(JsonNode node, ConfigReader read)
    {
        JsonProperty? property = node.Find("alg");
        if (property is null)
        {
            // KrakenD stops at start-up without it ("unknown algorithm").
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"auth/validator needs \"alg\", the algorithm tokens are signed with: one of {string.Join(", ", Algorithms)}", node.Start, 1);
            return string.Empty;
        }

        if (!read.Expect(property, JsonKind.String, "an algorithm name such as \"RS256\""))
        {
            return string.Empty;
        }

        string alg = property.Value.Text!;
        if (Keys.Contains(NotYetAlgorithms, alg))
        {
            read.Diagnostics.Report(DiagnosticKind.UnsupportedFeature, $"alg \"{alg}\" (Ed25519 signatures) is not supported yet: .NET has no Ed25519 verifier; use one of {string.Join(", ", Algorithms)}", property.Value);
        }
        else if (!Keys.Contains(Algorithms, alg))
        {
            read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"alg \"{alg}\" is not a signature algorithm; use one of {string.Join(", ", Algorithms)} (\"none\" is never accepted)", property.Value);
        }

        return alg;
    }

    private static JwksSourceModel? ReadKeySource(JsonNode node, EndpointReadContext context)
    {
        ConfigReader read = context.Read;
        DiagnosticBag diagnostics = read.Diagnostics;
        bool insecure = read.ParseBool(node.Find("disable_jwk_security"));
        bool cache = read.ParseBool(node.Find("cache"));
        JsonProperty? urlProperty = node.Find("jwk_url");
        JsonProperty? localProperty = node.Find("jwk_local_path");
        JsonProperty? durationProperty = node.Find("cache_duration");

        string strategy = "kid";
        if (node.Find("key_identify_strategy") is { } strategyProperty && read.Expect(strategyProperty, JsonKind.String, "kid, x5t, x5t#S256 or kid_x5t"))
        {
            strategy = strategyProperty.Value.Text!;
            if (!Keys.Contains(KeyIdentifyStrategies, strategy))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"key_identify_strategy \"{strategy}\" is not a strategy; use one of {string.Join(", ", KeyIdentifyStrategies)}", strategyProperty.Value);
            }
        }

        long cooldown = DefaultCooldownMilliseconds;
        if (Duration(node.Find("failed_jwk_key_cooldown"), read, "failed_jwk_key_cooldown") is { } cooldownMilliseconds)
        {
            cooldown = Math.Max(1000, cooldownMilliseconds);
        }

        if (localProperty is not null)
        {
            if (!read.Expect(localProperty, JsonKind.String, "the path of a JWKS file") )
            {
                return null;
            }

            if (localProperty.Value.Text!.Length == 0)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "jwk_local_path is empty; write the path of a JWKS file (read when the gateway starts)", localProperty.Value);
                return null;
            }

            if (urlProperty is not null)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"jwk_url\" has no effect beside \"jwk_local_path\": the keys come from the file, as in KrakenD", urlProperty);
            }

            if (cache)
            {
                // KrakenD stops at start-up: "cache could not be used with jwk_local_path".
                diagnostics.ReportAtKey(DiagnosticKind.InvalidValue, "\"cache\" cannot be used with \"jwk_local_path\": the file is read once, when the gateway starts (KrakenD refuses this too)", node.Find("cache")!);
            }

            return new JwksSourceModel(null, -1, null, localProperty.Value.Text, 0, cooldown, strategy);
        }

        if (urlProperty is null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "auth/validator needs \"jwk_url\" (the identity provider's JWKS, such as \"https://idp.example.com/.well-known/jwks.json\") or \"jwk_local_path\" (a JWKS file)", node.Start, 1);
            return null;
        }

        if (!read.Expect(urlProperty, JsonKind.String, "the URL of a JWKS"))
        {
            return null;
        }

        string url = urlProperty.Value.Text!;
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        int pathStart = scheme < 0 ? -1 : url.IndexOfAny(PathStarts, scheme + 3);
        string origin = pathStart < 0 ? url : url.Substring(0, pathStart);
        string path = pathStart < 0 ? "/" : url[pathStart] == '?' ? "/" + url.Substring(pathStart) : url.Substring(pathStart);
        if (scheme < 0 || !Hosts.TrySanitize(origin, out string host, out string problem) || path.IndexOf('#') >= 0 || !IsUrlText(path))
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, $"jwk_url \"{url}\" is not an absolute http(s) URL such as \"https://idp.example.com/.well-known/jwks.json\"", urlProperty.Value);
            return null;
        }

        if (!host.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !insecure)
        {
            // KrakenD refuses it too (ErrInsecureJWKSource): anyone on the path could serve keys that sign any token.
            diagnostics.Report(DiagnosticKind.InvalidValue, $"jwk_url \"{url}\" is plain http: anyone on the network path could replace the keys. Use https, or set \"disable_jwk_security\": true (development only)", urlProperty.Value);
            return null;
        }

        long freshFor = cache ? DefaultCacheSeconds : UncachedFreshSeconds;
        if (durationProperty is not null && read.Expect(durationProperty, JsonKind.Number, "a number of seconds"))
        {
            if (!long.TryParse(durationProperty.Value.Text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long seconds) || seconds > 86_400 * 365)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"cache_duration {durationProperty.Value.Text} is not a whole number of seconds (up to a year)", durationProperty.Value);
            }
            else if (!cache)
            {
                diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"cache_duration\" has no effect without \"cache\": true; keys are then fetched again after {UncachedFreshSeconds} s", durationProperty);
            }
            else if (seconds > 0)
            {
                // 0 means KrakenD's default, 15 minutes.
                freshFor = seconds;
            }
        }

        return new JwksSourceModel(url, context.HostGroup(new List<string> { host }), path, null, freshFor, cooldown, strategy);
    }

    /// <summary><c>propagate_claims</c>: pairs of a claim (dots walk into objects) and the header that carries it.</summary>
    private static EquatableArray<ClaimHeaderModel> ReadPropagatedClaims(JsonProperty? property, ConfigReader read)
    {
        var pairs = new List<ClaimHeaderModel>();
        if (property is null || !read.Expect(property, JsonKind.Array, "an array of [\"claim\", \"Header-Name\"] pairs"))
        {
            return EquatableArray.From(pairs);
        }

        var headers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonNode pair in property.Value.Items!)
        {
            if (pair.Kind != JsonKind.Array || pair.Items!.Count != 2 || pair.Items[0].Kind != JsonKind.String || pair.Items[1].Kind != JsonKind.String || pair.Items[0].Text!.Length == 0)
            {
                read.Diagnostics.Report(DiagnosticKind.WrongType, "each entry of \"propagate_claims\" must be a pair [\"claim\", \"Header-Name\"], such as [\"sub\", \"X-User\"]", pair);
                continue;
            }

            string claim = pair.Items[0].Text!;
            string header = pair.Items[1].Text!;
            if (!HttpRules.IsHeaderName(header))
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{header}\" is not a valid header name", pair.Items[1]);
                continue;
            }

            if (HttpRules.Contains(HttpRules.NotSettable, header))
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"a claim cannot be sent as \"{header}\": the HTTP client writes that header itself, or it concerns one connection only", pair.Items[1]);
                continue;
            }

            if (!headers.Add(header))
            {
                read.Diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{header}\" already carries another claim; each header carries one", pair.Items[1]);
                continue;
            }

            pairs.Add(new ClaimHeaderModel(claim, ClaimPaths.Split(claim), header));
        }

        return EquatableArray.From(pairs);
    }

    private static EquatableArray<string> Strings(JsonProperty? property, ConfigReader read, string what)
    {
        var values = new List<string>();
        if (property is null || !read.Expect(property, JsonKind.Array, $"an array of strings: the {what}"))
        {
            return EquatableArray.From(values);
        }

        foreach (JsonNode item in property.Value.Items!)
        {
            if (item.Kind != JsonKind.String || item.Text!.Length == 0)
            {
                read.Diagnostics.Report(DiagnosticKind.WrongType, $"each entry of \"{property.Name}\" must be a non-empty string", item);
                continue;
            }

            values.Add(item.Text);
        }

        return EquatableArray.From(values);
    }

    private static long? Duration(JsonProperty? property, ConfigReader read, string name)
    {
        if (property is null)
        {
            return null;
        }

        if (property.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(property.Value.Text!, out long milliseconds))
        {
            return milliseconds;
        }

        read.Diagnostics.Report(DiagnosticKind.InvalidDuration, $"\"{name}\" must be a duration such as \"10s\" or \"1m\"", property.Value);
        return null;
    }

    /// <summary>A URL path and query as it can be sent: visible ASCII only.</summary>
    private static bool IsUrlText(string text)
    {
        foreach (char c in text)
        {
            if (c <= ' ' || c >= 0x7f)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// How a claim name becomes a path into the token's claims, one rule for <c>propagate_claims</c>, <c>scopes_key</c>,
/// nested <c>roles_key</c> and <c>{JWT.…}</c> placeholders: dots walk into objects (<c>realm_access.roles</c>), except in
/// a name that starts with <c>http</c>, which is one namespaced claim (<c>https://example.com/roles</c>), as KrakenD reads
/// propagated claims.
/// </summary>
internal static class ClaimPaths
{
    public static bool IsDotted(string claim) => claim.IndexOf('.') >= 0 && !claim.StartsWith("http", StringComparison.Ordinal);

    public static EquatableArray<string> Split(string claim) =>
        new(IsDotted(claim) ? claim.Split('.') : new[] { claim });
}

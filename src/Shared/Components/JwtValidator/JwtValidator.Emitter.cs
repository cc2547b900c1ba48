using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Model;
using Gateway.Generator.Emitters;

namespace Gateway.Components.JwtValidator;

/// <summary>
/// The generated part of an endpoint with <c>auth/validator</c>: the stage's construction, every value decided at
/// build time (the algorithm, claim paths as UTF-8 segments, the key source shared by endpoints naming the same JWKS).
/// </summary>
internal static class JwtValidatorEmitter
{
    private const string Runtime = HandlerEmitter.Runtime;
    private const string Stage = "global::Gateway.Components.JwtValidator";

    /// <summary>The expression, in the handler's constructor, that builds the stage.</summary>
    public const string StageExpression = "CreateJwtValidator(backends)";

    public static string Describe(JwtValidatorModel jwt)
    {
        var checks = new List<string> { $"the client's {jwt.Algorithm} token is validated against {(jwt.Keys.LocalPath is null ? jwt.Keys.Url : "the JWKS file " + jwt.Keys.LocalPath)} (401 without a valid one" };
        if (jwt.Roles.Count > 0 || jwt.Scopes.Count > 0)
        {
            checks[0] += ", 403 without the required roles or scopes";
        }

        checks[0] += ")";
        if (jwt.PropagatedClaims.Count > 0)
        {
            checks.Add($"{jwt.PropagatedClaims.Count} claim(s) sent to the backends as headers");
        }

        return string.Join(", ", checks);
    }

    public static void EmitMembers(SourceWriter w, JwtValidatorModel jwt)
    {
        JwksSourceModel keys = jwt.Keys;
        w.Line();
        w.Line($"/// <summary>auth/validator: {CSharp.Doc(Describe(jwt))}.</summary>");
        w.Open($"private static {Stage}.JwtValidatorStage CreateJwtValidator({Runtime}.Forwarding.BackendRegistry backends)");
        w.Line($"return new {Stage}.JwtValidatorStage(new {Stage}.JwtValidatorOptions");
        w.Line("{");
        w.Indent();
        w.Line($"Algorithm = {CSharp.String(jwt.Algorithm)},");
        string strategy = $"{Stage}.KeyIdentifyStrategy.{Strategy(keys.KeyIdentifyStrategy)}";
        if (keys.LocalPath is not null)
        {
            w.Line($"Keys = {Stage}.JsonWebKeySource.File(backends, {CSharp.String(keys.LocalPath)}, {strategy}),");
        }
        else
        {
            w.Line($"// {CSharp.Comment(keys.Url!)}: fresh for {keys.FreshForSeconds.ToString(CultureInfo.InvariantCulture)} s, fetched again at most every {keys.CooldownMilliseconds.ToString(CultureInfo.InvariantCulture)} ms");
            w.Line($"Keys = {Stage}.JsonWebKeySource.Remote(backends, {keys.HostGroup.ToString(CultureInfo.InvariantCulture)}, {CSharp.String(keys.Path!)}, global::System.TimeSpan.FromSeconds({keys.FreshForSeconds.ToString(CultureInfo.InvariantCulture)}), global::System.TimeSpan.FromMilliseconds({keys.CooldownMilliseconds.ToString(CultureInfo.InvariantCulture)}), {strategy}),");
        }

        if (jwt.Issuer is not null)
        {
            w.Line($"Issuer = {CSharp.String(jwt.Issuer)},");
        }

        if (jwt.Audience.Count > 0)
        {
            w.Line($"Audience = {HandlerEmitter.Strings(jwt.Audience)},");
        }

        if (jwt.Roles.Count > 0)
        {
            w.Line($"Roles = {HandlerEmitter.Strings(jwt.Roles)},");
            w.Line($"RolesPath = new {Runtime}.Json.JsonPath({HandlerEmitter.JsonPathSegments(jwt.RolesPath)}),");
        }

        if (jwt.Scopes.Count > 0)
        {
            w.Line($"Scopes = {HandlerEmitter.Strings(jwt.Scopes)},");
            w.Line($"ScopesPath = new {Runtime}.Json.JsonPath({HandlerEmitter.JsonPathSegments(jwt.ScopesPath)}),");
            if (jwt.AllScopes)
            {
                w.Line("AllScopes = true,");
            }
        }

        if (jwt.TokenHeader != "Authorization")
        {
            w.Line($"TokenHeader = {CSharp.String(jwt.TokenHeader)},");
        }

        if (jwt.Cookie is not null)
        {
            w.Line($"Cookie = {CSharp.String(jwt.Cookie)},");
        }

        if (jwt.PropagatedClaims.Count > 0)
        {
            w.Line($"PropagatedClaims = new {Stage}.PropagatedClaim[]");
            w.Line("{");
            w.Indent();
            foreach (ClaimHeaderModel claim in jwt.PropagatedClaims)
            {
                w.Line($"new({CSharp.String(claim.Claim)}, new {Runtime}.Json.JsonPath({HandlerEmitter.JsonPathSegments(claim.Path)}), {CSharp.String(claim.Header)}),");
            }

            w.Outdent();
            w.Line("},");
            if (jwt.PropagateArrays)
            {
                w.Line("PropagateArrays = true,");
            }
        }

        w.Line($"Leeway = global::System.TimeSpan.FromSeconds({jwt.LeewaySeconds.ToString(CultureInfo.InvariantCulture)}),");
        if (jwt.OperationDebug)
        {
            w.Line("OperationDebug = true,");
        }

        w.Outdent();
        w.Line("});");
        w.Close();
    }

    private static string Strategy(string strategy) => strategy switch
    {
        "x5t" => "X5t",
        "x5t#S256" => "X5tS256",
        "kid_x5t" => "KidX5t",
        _ => "Kid",
    };
}

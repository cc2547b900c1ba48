using System.Collections.Generic;
using System.Globalization;
using Gateway.Generator.Emitters;

namespace Gateway.Components.Cors;

/// <summary>The generated part of <c>security/cors</c>: the policy, built once in <c>CompiledGateway</c>.</summary>
internal static class CorsEmitter
{
    public const string TypeName = "global::Gateway.Components.Cors.CorsPolicy";

    /// <summary>The policy's constructor arguments, one named argument each.</summary>
    public static string[] Arguments(CorsModel cors) =>
    [
        $"allOrigins: {Bool(cors.AllOrigins)}",
        $"origins: {Strings(cors.Origins)}",
        $"originPatterns: {Strings(cors.OriginPatterns)}",
        $"methods: {Strings(cors.Methods)}",
        $"allHeaders: {Bool(cors.AllHeaders)}",
        $"headers: {Strings(cors.Headers)}",
        $"exposeHeaders: {(cors.ExposeHeaders is null ? "null" : CSharp.String(cors.ExposeHeaders))}",
        $"allowCredentials: {Bool(cors.AllowCredentials)}",
        $"allowPrivateNetwork: {Bool(cors.AllowPrivateNetwork)}",
        $"optionsPassthrough: {Bool(cors.OptionsPassthrough)}",
        $"optionsSuccessStatus: {cors.OptionsSuccessStatus.ToString(CultureInfo.InvariantCulture)}",
        $"maxAgeSeconds: {cors.MaxAgeSeconds.ToString(CultureInfo.InvariantCulture)}",
        $"debug: {Bool(cors.Debug)}",
    ];

    public static string Describe(CorsModel cors) =>
        "security/cors: "
        + (cors.AllOrigins ? "every origin" : $"{cors.Origins.Count + cors.OriginPatterns.Count} allowed origin(s)")
        + ", preflights answered before routing";

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Strings(IEnumerable<string> values)
    {
        var items = new List<string>();
        foreach (string value in values)
        {
            items.Add(CSharp.String(value));
        }

        return items.Count == 0 ? "global::System.Array.Empty<string>()" : $"new[] {{ {string.Join(", ", items)} }}";
    }
}

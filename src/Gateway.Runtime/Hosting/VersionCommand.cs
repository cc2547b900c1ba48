using System.Reflection;
using System.Runtime.InteropServices;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// <c>gateway version</c>: which build this is and which configuration it serves, so that an operator can tell two
/// images apart without running traffic through them. The version and commit come from the assembly's informational
/// version (the SDK appends the git commit as <c>+sha</c>); the configuration's hash and endpoint count from the
/// generator (<see cref="GatewayDefinition.ConfigurationHash"/>).
/// </summary>
public static class VersionCommand
{
    private const string Usage = "usage: gateway version\n  prints the gateway's version and git commit, the compiled configuration's hash and its endpoint count";

    public static int Run(IReadOnlyList<string> args, GatewayDefinition definition, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Count == 1 && args[0] is "-h" or "--help")
        {
            output.WriteLine(Usage);
            return 0;
        }

        if (args.Count > 0)
        {
            error.WriteLine($"gateway version: unexpected argument '{args[0]}'\n{Usage}");
            return GatewayProgram.ExitUsage;
        }

        (string version, string commit) = Build();
        output.WriteLine($"gateway {version}");
        output.WriteLine($"commit: {commit}");
        output.WriteLine($"configuration: {(definition.ConfigurationHash.Length > 0 ? definition.ConfigurationHash : "unknown")}");
        output.WriteLine($"endpoints: {definition.EndpointCount}");
        output.WriteLine($"runtime: {RuntimeInformation.FrameworkDescription} {RuntimeInformation.RuntimeIdentifier}");
        return 0;
    }

    /// <summary>The version and the git commit this build was made from ("unknown" outside a git checkout).</summary>
    internal static (string Version, string Commit) Build()
    {
        string informational = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, "unknown") : (informational[..plus], informational[(plus + 1)..]);
    }
}

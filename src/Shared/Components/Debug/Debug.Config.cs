using System;
using Gateway.Config.Parsing;

namespace Gateway.Components.Debug;

/// <summary>
/// The gateway's own <c>gateway/debug</c> namespace at the configuration root (docs/configuration.md, errors):
/// <c>failed_steps_header</c> adds <c>X-Gateway-Failed-Steps</c> to every incomplete answer, naming each failed step
/// by index and reason (never a value), for debugging a chain from the client's side.
/// </summary>
internal static class DebugConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/debug", ConfigScope.Root);

    private static readonly string[] Supported = { "failed_steps_header", Keys.Comment };

    /// <summary>Reads the namespace; returns <c>failed_steps_header</c>.</summary>
    public static bool ReadFailedStepsHeader(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } debug)
        {
            return false;
        }

        read.CheckKeys(debug, "\"gateway/debug\"", Supported, Array.Empty<string>());
        return read.ParseBool(debug.Find("failed_steps_header"));
    }
}

using System;
using Gateway.Config.Parsing;

namespace Gateway.Components.Step;

/// <summary>
/// The gateway's own <c>gateway/step</c> namespace on a backend (docs/configuration.md, required steps): how the
/// endpoint treats this step. <c>required</c>: when the step fails (or is never called because an earlier step
/// failed), the endpoint answers as if no backend had answered, instead of 200 with the other steps' data.
/// </summary>
internal static class StepConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/step", ConfigScope.Backend);

    private static readonly string[] Supported = { "required", Keys.Comment };

    /// <summary>Reads the namespace; returns <c>required</c>.</summary>
    public static bool ReadRequired(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } step)
        {
            return false;
        }

        read.CheckKeys(step, "\"gateway/step\"", Supported, Array.Empty<string>());
        return read.ParseBool(step.Find("required"));
    }
}

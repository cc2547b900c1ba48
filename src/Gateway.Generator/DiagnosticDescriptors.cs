using System.Collections.Generic;
using Gateway.Config.Diagnostics;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator;

/// <summary>
/// Roslyn descriptors for the configuration findings. The ids, severities and titles live once in
/// <see cref="DiagnosticKind"/>, shared with <c>gateway check</c>; docs/diagnostics.md explains each one.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Gateway.Configuration";

    private static readonly Dictionary<string, DiagnosticDescriptor> s_cache = new();

    public static DiagnosticDescriptor For(DiagnosticKind kind)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(kind.Id, out DiagnosticDescriptor? descriptor))
            {
                descriptor = new DiagnosticDescriptor(
                    kind.Id,
                    kind.Title,
                    "{0}",
                    Category,
                    kind.Severity == ConfigSeverity.Error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                    isEnabledByDefault: true,
                    helpLinkUri: "docs/diagnostics.md#" + kind.Id.ToLowerInvariant());
                s_cache.Add(kind.Id, descriptor);
            }

            return descriptor;
        }
    }
}

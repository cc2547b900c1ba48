using System;

namespace Gateway.Components;

/// <summary>Where in the configuration an <c>extra_config</c> namespace may appear.</summary>
[Flags]
internal enum ConfigScope
{
    Root = 1,
    Endpoint = 2,
    Backend = 4,
}

/// <summary>An <c>extra_config</c> namespace a component reads: its name, the legacy names KrakenD still accepts, and where it may appear.</summary>
internal sealed class ConfigNamespace
{
    public ConfigNamespace(string name, ConfigScope scopes, params string[] legacyNames)
    {
        Name = name;
        Scopes = scopes;
        LegacyNames = legacyNames;
    }

    public string Name { get; }

    public ConfigScope Scopes { get; }

    public string[] LegacyNames { get; }

    /// <summary>True for the name itself or a legacy name.</summary>
    public bool IsNamed(string name) => name == Name || Array.IndexOf(LegacyNames, name) >= 0;
}

/// <summary>
/// Every <c>extra_config</c> namespace the gateway understands, one line per component. A component is one folder
/// under src/Shared/Components: its configuration reader and model (<c>*.Config.cs</c>, compiled into the generator
/// and the runtime), its emitter part (<c>*.Emitter.cs</c>, generator only) and its run-time stage (<c>*.Stage.cs</c>,
/// runtime only). A namespace not listed here is refused with GW2001 wherever it appears.
/// </summary>
internal static class ComponentRegistry
{
    public static readonly ConfigNamespace[] Namespaces =
    {
        Router.RouterConfig.Namespace,
        Proxy.ProxyConfig.Namespace,
        BackendHttp.BackendHttpConfig.Namespace,
        BackendHttp.BackendHttpConfig.ClientNamespace,
        RequestTemplates.RequestTemplatesConfig.Namespace,
        ProxyChain.ProxyChainConfig.Namespace,
    };
}

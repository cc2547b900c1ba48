using Gateway.Runtime.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The host groups of the compiled configuration, with operator overrides applied. Generated handlers take their
/// groups from here when the gateway starts.
/// </summary>
public sealed class BackendRegistry : IDisposable
{
    private readonly BackendHostGroup[] _groups;
    private readonly Dictionary<string, object> _shared = new(StringComparer.Ordinal);
    private readonly IServiceDiscovery? _discovery;
    private IDisposable? _discovering;

    /// <param name="hostGroups">The configuration's host lists (for a discovered group, the service's name).</param>
    /// <param name="hostOverrides">Operator overrides of configured hosts.</param>
    /// <param name="options">The HTTP client's settings.</param>
    /// <param name="discovery">What fills the discovered groups (<c>"sd": "dns"</c>); null when the configuration has none.</param>
    public BackendRegistry(IReadOnlyList<string[]> hostGroups, IReadOnlyDictionary<string, string> hostOverrides, BackendClientOptions options, IServiceDiscovery? discovery = null)
    {
        Options = options;
        Budget = new BufferBudget(options.MaxBufferedResponseBytes);
        _groups = new BackendHostGroup[hostGroups.Count];
        var discovered = new HashSet<int>(discovery?.Groups ?? []);
        _discovery = discovered.Count == 0 ? null : discovery;
        for (int i = 0; i < _groups.Length; i++)
        {
            if (discovered.Contains(i))
            {
                // An operator's override of the service's name (--backend-host NAME=URL) replaces the discovery.
                _groups[i] = hostOverrides.TryGetValue(DiscoveredHostKey(hostGroups[i][0]), out string? instead)
                    ? new BackendHostGroup([instead.TrimEnd('/')], options, Budget)
                    : new BackendHostGroup([], options, Budget, discovered: true);
                continue;
            }

            string[] hosts = new string[hostGroups[i].Length];
            for (int h = 0; h < hosts.Length; h++)
            {
                string host = hostGroups[i][h];
                hosts[h] = hostOverrides.TryGetValue(host, out string? actual) ? actual.TrimEnd('/') : host;
            }

            _groups[i] = new BackendHostGroup(hosts, options, Budget);
        }
    }

    public BackendClientOptions Options { get; }

    /// <summary>
    /// The key an operator's <c>--backend-host</c> override has for a discovered group: the service's name as
    /// <c>--backend-host</c> normalises a host (<c>http://</c> added).
    /// </summary>
    public static string DiscoveredHostKey(string serviceName) => "http://" + serviceName;

    /// <summary>The bound on response bytes held at once, shared by every host group of this gateway.</summary>
    public BufferBudget Budget { get; }

    public BackendHostGroup Group(int index) => _groups[index];

    /// <summary>
    /// The one object of this gateway stored under <paramref name="key"/>, created by the first handler that asks:
    /// state several endpoints share, such as the keys of one JWKS (fetched once, however many endpoints use them).
    /// </summary>
    public T Shared<T>(string key, Func<T> create)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (_shared)
        {
            if (_shared.TryGetValue(key, out object? existing))
            {
                return (T)existing;
            }

            T created = create();
            _shared.Add(key, created);
            return created;
        }
    }

    /// <summary>Starts filling the discovered groups (none: nothing runs); <see cref="Dispose"/> stops it.</summary>
    public void StartDiscovery(ILogger logger)
    {
        if (_discovery is not null && _discovering is null)
        {
            _discovering = _discovery.Start(this, logger);
        }
    }

    public void Dispose()
    {
        _discovering?.Dispose();
        foreach (BackendHostGroup group in _groups)
        {
            group.Dispose();
        }
    }
}

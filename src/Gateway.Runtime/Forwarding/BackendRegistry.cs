using Gateway.Runtime.Http;
namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The host groups of the compiled configuration, with operator overrides applied. Generated handlers take their
/// groups from here when the gateway starts.
/// </summary>
public sealed class BackendRegistry : IDisposable
{
    private readonly BackendHostGroup[] _groups;
    private readonly Dictionary<string, object> _shared = new(StringComparer.Ordinal);

    public BackendRegistry(IReadOnlyList<string[]> hostGroups, IReadOnlyDictionary<string, string> hostOverrides, BackendClientOptions options)
    {
        Options = options;
        Budget = new BufferBudget(options.MaxBufferedResponseBytes);
        _groups = new BackendHostGroup[hostGroups.Count];
        for (int i = 0; i < _groups.Length; i++)
        {
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

    public void Dispose()
    {
        foreach (BackendHostGroup group in _groups)
        {
            group.Dispose();
        }
    }
}

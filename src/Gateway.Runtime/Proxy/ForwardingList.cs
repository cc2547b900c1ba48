namespace Gateway.Runtime.Proxy;

/// <summary>
/// An allow-list of query keys (exact) or header names (case-insensitive), from <c>input_query_strings</c> and
/// <c>input_headers</c>. <see cref="All"/> is the endpoint-level <c>"*"</c>.
/// </summary>
public sealed class ForwardingList
{
    private readonly string[] _names;
    private readonly StringComparer _comparer;

    private ForwardingList(bool all, string[] names, StringComparer comparer)
    {
        IsAll = all;
        _names = names;
        _comparer = comparer;
    }

    public static ForwardingList All { get; } = new(true, [], StringComparer.Ordinal);

    public bool IsAll { get; }

    public static ForwardingList QueryKeys(params string[] keys) => new(false, keys, StringComparer.Ordinal);

    public static ForwardingList HeaderNames(params string[] names) => new(false, names, StringComparer.OrdinalIgnoreCase);

    public bool Allows(string name)
    {
        if (IsAll)
        {
            return true;
        }

        foreach (string allowed in _names)
        {
            if (_comparer.Equals(allowed, name))
            {
                return true;
            }
        }

        return false;
    }
}

using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Http;

/// <summary>
/// The URL of a backend whose <c>url_pattern</c> has no placeholder and whose endpoint forwards no query: the same
/// for every request, so it is built once per host of the group when the gateway starts, and a request only picks
/// the next host's (round robin, as <see cref="BackendHostGroup.NextHost"/>).
/// </summary>
public sealed class FixedUrl
{
    private readonly BackendHostGroup _hosts;
    private readonly string?[] _urls;
    private readonly string? _discoveredPathAndQuery;

    /// <param name="hosts">The backend's host group.</param>
    /// <param name="pathAndQuery">The <c>url_pattern</c>, already in its final, encoded form.</param>
    public FixedUrl(BackendHostGroup hosts, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        _hosts = hosts;
        if (hosts.IsDiscovered)
        {
            // Its hosts change while the gateway runs: the URL is built for each call instead.
            _discoveredPathAndQuery = pathAndQuery;
            _urls = [];
            return;
        }

        _urls = new string?[hosts.Hosts.Count];
        for (int i = 0; i < _urls.Length; i++)
        {
            _urls[i] = Build(hosts.Hosts[i], pathAndQuery);
        }
    }

    /// <summary>Built by the same rules as any URL, so a pattern that could never be sent stays unsendable (null).</summary>
    private static string? Build(string host, string pathAndQuery)
    {
        var url = new UrlBuilder(stackalloc byte[256]);
        try
        {
            url.AppendLiteral(host);
            url.AppendLiteral(pathAndQuery);
            return url.ToUrl();
        }
        finally
        {
            url.Dispose();
        }
    }

    /// <summary>The URL on the next host of the group; null when the pattern can never be sent.</summary>
    public string? Next() => _discoveredPathAndQuery is null ? _urls[_hosts.NextIndex()] : Build(_hosts.NextHost(), _discoveredPathAndQuery);
}

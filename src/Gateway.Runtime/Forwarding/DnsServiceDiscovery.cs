using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Gateway.Runtime.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Forwarding;

/// <summary>A backend host group whose hosts come from DNS SRV records (<c>"sd": "dns"</c>).</summary>
/// <param name="Group">The host group's index in the definition.</param>
/// <param name="Name">The SRV record's name, as the backend's <c>host</c> wrote it (<c>_api._tcp.example.com</c>).</param>
/// <param name="Scheme"><c>sd_scheme</c>: <c>http</c> or <c>https</c>.</param>
public sealed record DnsService(int Group, string Name, string Scheme);

/// <summary>
/// Finds hosts for backends at run time. The generated definition builds one only when the configuration asks for it,
/// so a gateway without service discovery carries none of it (nor, natively, its DNS library).
/// </summary>
public interface IServiceDiscovery
{
    /// <summary>The groups it fills, by index: the registry builds them without hosts.</summary>
    IEnumerable<int> Groups { get; }

    /// <summary>Starts keeping the registry's groups up to date; disposing the result stops it.</summary>
    IDisposable Start(BackendRegistry registry, ILogger logger);
}

/// <summary>
/// <c>"sd": "dns"</c> as KrakenD resolves it (lura's <c>sd/dnssrv</c>): the SRV records of the backend's first host, the
/// targets of the lowest priority only, each repeated in proportion to its weight (weights scaled to at most 100 and
/// divided by their greatest common divisor), as <c>sd_scheme://target:port</c>; requests go round robin over that list.
/// The records are asked again when their time to live runs out, bounded to between 1 and 30 seconds (KrakenD asks every
/// 30 s), and 5 s after a failed look-up. A failure or an empty answer keeps the hosts found before; before any answer,
/// a call fails without a network attempt, as a backend that cannot be reached.
/// </summary>
public sealed class DnsServiceDiscovery : IServiceDiscovery
{
    internal static readonly TimeSpan MinimumRefresh = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaximumRefresh = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private readonly DnsService[] _services;

    public DnsServiceDiscovery(params DnsService[] services)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
    }

    public IEnumerable<int> Groups => _services.Select(s => s.Group);

    public IDisposable Start(BackendRegistry registry, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(registry);

        // A group the operator pointed elsewhere (--backend-host) is not discovered.
        DnsService[] discovered = _services.Where(s => registry.Group(s.Group).IsDiscovered).ToArray();
        var refreshers = new List<SrvRefresher>();
        if (discovered.Length == 0)
        {
            return new Stopper(refreshers);
        }

        // The system's name servers, never a public resolver in their place: the names asked are internal ones.
        IPEndPoint? server = registry.Options.DnsServer;
        NameServer[] servers = server is not null
            ? [new NameServer(server)]
            : [.. NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false)];
        if (servers.Length == 0)
        {
            throw new GatewayStartupException("\"sd\": \"dns\": this system lists no name server (/etc/resolv.conf); name one with --dns-server IP[:PORT] (GATEWAY_DNS_SERVER)");
        }

        var options = new LookupClientOptions(servers)
        {
            // Every answer is used once and asked again at its TTL; the library's cache would only delay a change.
            UseCache = false,
            Timeout = TimeSpan.FromSeconds(2),
            Retries = 1,
            ThrowDnsErrors = false,
        };
        var client = new LookupClient(options);
        foreach (DnsService service in discovered)
        {
            refreshers.Add(new SrvRefresher(client, service, registry.Group(service.Group), logger));
        }

        return new Stopper(refreshers);
    }

    /// <summary>
    /// The hosts of one SRV answer, in the order round robin visits them (krakend.md §4, lura's <c>sd/dnssrv</c>). Weights
    /// all zero count as equal (KrakenD then has no host at all); a zero weight among others is never chosen, as in KrakenD.
    /// </summary>
    internal static string[] Hosts(IEnumerable<(ushort Priority, ushort Weight, ushort Port, string Target)> records, string scheme)
    {
        var usable = records.Where(r => r.Target.Length > 0 && r.Target != ".").ToList();
        if (usable.Count == 0)
        {
            return [];
        }

        ushort priority = usable.Min(r => r.Priority);
        var chosen = usable.Where(r => r.Priority == priority)
            .OrderByDescending(r => r.Weight)
            .ThenBy(r => r.Target, StringComparer.Ordinal)
            .ThenBy(r => r.Port)
            .ToList();
        int[] weights = Compact(chosen.Select(r => (int)r.Weight).ToArray());
        var hosts = new List<string>();
        for (int i = 0; i < chosen.Count; i++)
        {
            string host = $"{scheme}://{chosen[i].Target.TrimEnd('.')}:{chosen[i].Port}";
            for (int n = 0; n < weights[i]; n++)
            {
                hosts.Add(host);
            }
        }

        return [.. hosts];
    }

    private static int[] Compact(int[] weights)
    {
        int sum = weights.Sum();
        if (sum == 0)
        {
            return weights.Select(_ => 1).ToArray();
        }

        int scale = Math.Max(100, weights.Length);
        int[] scaled = sum <= scale ? weights : weights.Select(w => (int)((long)w * scale / sum)).ToArray();
        int divisor = scaled.Aggregate(0, Gcd);
        return divisor < 2 ? scaled : scaled.Select(w => w / divisor).ToArray();

        static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    }

    /// <summary>Keeps one group's hosts: asks, applies, waits for the answer's TTL, until stopped.</summary>
    private sealed class SrvRefresher
    {
        private readonly LookupClient _client;
        private readonly DnsService _service;
        private readonly BackendHostGroup _group;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _stop = new();
        private bool _failing;

        public SrvRefresher(LookupClient client, DnsService service, BackendHostGroup group, ILogger logger)
        {
            _client = client;
            _service = service;
            _group = group;
            _logger = logger;
            Running = Task.Run(LoopAsync);
        }

        public Task Running { get; }

        public void Stop() => _stop.Cancel();

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TimeSpan wait = await RefreshAsync().ConfigureAwait(false);
                try
                {
                    await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        /// <summary>One look-up; how long to wait before the next.</summary>
        private async Task<TimeSpan> RefreshAsync()
        {
            string? problem;
            try
            {
                IDnsQueryResponse response = await _client.QueryAsync(_service.Name, QueryType.SRV, QueryClass.IN, _stop.Token).ConfigureAwait(false);
                SrvRecord[] records = response.Answers.SrvRecords().ToArray();
                string[] hosts = Hosts(records.Select(r => (r.Priority, r.Weight, r.Port, r.Target.Value)), _service.Scheme);
                if (response.HasError)
                {
                    problem = response.ErrorMessage;
                }
                else if (hosts.Length == 0)
                {
                    problem = "no usable SRV record";
                }
                else
                {
                    if ((_failing || !hosts.AsSpan().SequenceEqual(_group.Hosts.ToArray())) && _logger.IsEnabled(LogLevel.Information))
                    {
                        string[] distinct = hosts.Distinct().ToArray();
                        string listed = string.Join(", ", distinct);
                        GatewayLog.ServiceDiscovered(_logger, _service.Name, distinct.Length, listed);
                    }

                    _failing = false;
                    _group.ReplaceHosts(hosts);
                    int ttl = records.Min(r => r.TimeToLive);
                    return TimeSpan.FromSeconds(Math.Clamp(ttl, MinimumRefresh.TotalSeconds, MaximumRefresh.TotalSeconds));
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return TimeSpan.Zero;
            }
            catch (DnsResponseException e)
            {
                problem = e.Message;
            }

            if (!_failing)
            {
                // Once per streak of failures: the hosts found before (if any) stay in use.
                GatewayLog.ServiceDiscoveryFailed(_logger, _service.Name, problem ?? "no answer", _group.Hosts.Count);
                _failing = true;
            }

            return RetryAfterFailure;
        }
    }

    private sealed class Stopper(List<SrvRefresher> refreshers) : IDisposable
    {
        public void Dispose()
        {
            foreach (SrvRefresher refresher in refreshers)
            {
                refresher.Stop();
            }
        }
    }
}

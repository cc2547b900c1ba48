using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using Gateway.Components.RateLimit;

namespace Gateway.Benchmarks;

/// <summary>
/// The gateway's token buckets against System.Threading.RateLimiting's, on the two paths a request takes: a token
/// granted, and a request refused. Per client: a lookup among 10 000 known clients, and, as a client sending random
/// header values causes, a client never seen before into a full store (the least recently used bucket makes room).
/// </summary>
[MemoryDiagnoser]
public class RateLimitBenchmarks
{
    private const int Clients = 10_000;

    private readonly string[] _known = Enumerable.Range(0, Clients).Select(i => $"203.0.{i / 256}.{i % 256}").ToArray();
    private TokenBucket _bucket = null!;
    private TokenBucket _emptyBucket = null!;
    private TokenBucketRateLimiter _limiter = null!;
    private TokenBucketRateLimiter _emptyLimiter = null!;
    private ClientBuckets _clients = null!;
    private PartitionedRateLimiter<string> _partitioned = null!;
    private ClientBuckets _fullStore = null!;
    private string[] _fresh = null!;
    private int _next;
    private long _now;

    [GlobalSetup]
    public void Setup()
    {
        var plenty = new RateLimitRule(rate: 1e6, everyMilliseconds: 1, capacity: 1_000_000_000);
        _bucket = new TokenBucket(plenty);
        _emptyBucket = new TokenBucket(new RateLimitRule(rate: 1, everyMilliseconds: 3_600_000, capacity: 1));
        _emptyBucket.TryTake(0, out _);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions { TokenLimit = 1_000_000_000, TokensPerPeriod = 1_000_000_000, ReplenishmentPeriod = TimeSpan.FromMilliseconds(1), AutoReplenishment = false });
        _emptyLimiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions { TokenLimit = 1, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromHours(1), AutoReplenishment = false });
        _emptyLimiter.AttemptAcquire().Dispose();

        // Buckets that never fill up again while the benchmark runs, so none is forgotten and found anew.
        var slow = new RateLimitRule(rate: 1, everyMilliseconds: 3_600_000, capacity: 1_000_000_000);
        _clients = new ClientBuckets(slow, maxClients: 100_000);
        _partitioned = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions { TokenLimit = 1_000_000_000, TokensPerPeriod = 1, ReplenishmentPeriod = TimeSpan.FromHours(1), AutoReplenishment = false }));
        foreach (string client in _known)
        {
            _clients.TryTake(client, 0, out _);
            _partitioned.AttemptAcquire(client).Dispose();
        }

        _fullStore = new ClientBuckets(new RateLimitRule(rate: 1, everyMilliseconds: 3_600_000, capacity: 10), maxClients: Clients);
        _fresh = Enumerable.Range(0, 1_000_000).Select(i => $"198.{i >> 16}.{(i >> 8) & 255}.{i & 255}").ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _limiter.Dispose();
        _emptyLimiter.Dispose();
        _partitioned.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool Granted_TokenBucket() => _bucket.TryTake(++_now, out _);

    [Benchmark]
    public bool Granted_TokenBucketRateLimiter()
    {
        using RateLimitLease lease = _limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool Refused_TokenBucket() => _emptyBucket.TryTake(1, out _);

    [Benchmark]
    public bool Refused_TokenBucketRateLimiter()
    {
        using RateLimitLease lease = _emptyLimiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    [Benchmark]
    public bool KnownClient_ClientBuckets() => _clients.TryTake(_known[_next++ % Clients], ++_now, out _);

    [Benchmark]
    public bool KnownClient_PartitionedRateLimiter()
    {
        using RateLimitLease lease = _partitioned.AttemptAcquire(_known[_next++ % Clients]);
        return lease.IsAcquired;
    }

    /// <summary>A client not in the full store, each time (a million names cycle through 10 000 places): it evicts one.</summary>
    [Benchmark]
    public bool NewClient_FullStore_ClientBuckets() => _fullStore.TryTake(_fresh[_next++ % _fresh.Length], 1, out _);
}

using System.Security.Cryptography;
using System.Text;

namespace Gateway.Components.RateLimit;

/// <summary>
/// A token bucket for each client (an endpoint's <c>client_max_rate</c>), in memory that stays bounded whatever clients
/// send: at most <c>maxClients</c> buckets are kept. A bucket that has filled up again is forgotten on the way (it is
/// the same as a new one, so nothing changes); when the store is full anyway, the bucket used least recently makes
/// room, and that client starts again with a full bucket. A client name longer than 64 characters is kept as its
/// SHA-256, so a header value of any size costs the same.
/// </summary>
/// <remarks>
/// The buckets are split in shards by the name's hash (randomised per process, so no client can aim at one shard),
/// each a dictionary with a recency list under its own lock: finding, touching, adding and evicting are constant time.
/// </remarks>
public sealed class ClientBuckets
{
    /// <summary>Client names up to this length are kept as they are; longer ones as <c>sha256:</c> and 64 hex digits.</summary>
    public const int MaxNameLength = 64;

    private const int MinPerShard = 128;
    private const int MaxShards = 32;

    private readonly RateLimitRule _rule;
    private readonly Shard[] _shards;

    public ClientBuckets(RateLimitRule rule, int maxClients)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxClients);
        _rule = rule;
        int shards = 1;
        while (shards < MaxShards && maxClients / (shards * 2) >= MinPerShard)
        {
            shards *= 2;
        }

        _shards = new Shard[shards];
        for (int i = 0; i < shards; i++)
        {
            _shards[i] = new Shard((maxClients / shards) + (i < maxClients % shards ? 1 : 0));
        }
    }

    /// <summary>The buckets kept now.</summary>
    public int Count
    {
        get
        {
            int count = 0;
            foreach (Shard shard in _shards)
            {
                count += shard.Count;
            }

            return count;
        }
    }

    /// <summary>
    /// The name a client's bucket is kept under: <paramref name="client"/> itself up to <see cref="MaxNameLength"/>
    /// characters, else <c>sha256:</c> and its hash (longer than any name kept as it is, so the two never meet).
    /// </summary>
    public static string Name(string client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (client.Length <= MaxNameLength)
        {
            return client;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(client), hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }

    /// <summary>Takes a token from <paramref name="client"/>'s bucket at <paramref name="now"/> (ticks).</summary>
    public bool TryTake(string client, long now, out long wait)
    {
        string name = Name(client);
        Shard shard = _shards[(uint)name.GetHashCode() % (uint)_shards.Length];
        return shard.TryTake(name, _rule, now, out wait);
    }

    private sealed class Bucket
    {
        public string Name = string.Empty;
        public long Full;
        public Bucket? Newer;
        public Bucket? Older;
    }

    private sealed class Shard
    {
        private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();
        private readonly int _capacity;
        private Bucket? _newest;
        private Bucket? _oldest;

        public Shard(int capacity) => _capacity = Math.Max(capacity, 1);

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _buckets.Count;
                }
            }
        }

        public bool TryTake(string name, RateLimitRule rule, long now, out long wait)
        {
            lock (_gate)
            {
                if (_buckets.TryGetValue(name, out Bucket? bucket))
                {
                    if (bucket != _newest)
                    {
                        Unlink(bucket);
                        LinkNewest(bucket);
                    }
                }
                else
                {
                    bucket = _buckets.Count < _capacity ? new Bucket() : Evict(_oldest!);
                    bucket.Name = name;
                    bucket.Full = 0;
                    _buckets.Add(name, bucket);
                    LinkNewest(bucket);
                }

                bool taken = rule.TryTake(ref bucket.Full, now, out wait);

                // Buckets that filled up again are the same as absent ones: drop a couple per call, so memory follows
                // the clients actually active. The bucket just used is newest and not full, so it stays.
                for (int i = 0; i < 2 && _oldest is { } oldest && oldest.Full <= now; i++)
                {
                    Evict(oldest);
                }

                return taken;
            }
        }

        private Bucket Evict(Bucket bucket)
        {
            _buckets.Remove(bucket.Name);
            Unlink(bucket);
            return bucket;
        }

        private void Unlink(Bucket bucket)
        {
            if (bucket.Newer is { } newer)
            {
                newer.Older = bucket.Older;
            }
            else
            {
                _newest = bucket.Older;
            }

            if (bucket.Older is { } older)
            {
                older.Newer = bucket.Newer;
            }
            else
            {
                _oldest = bucket.Newer;
            }

            bucket.Newer = null;
            bucket.Older = null;
        }

        private void LinkNewest(Bucket bucket)
        {
            bucket.Older = _newest;
            if (_newest is not null)
            {
                _newest.Newer = bucket;
            }

            _newest = bucket;
            _oldest ??= bucket;
        }
    }
}

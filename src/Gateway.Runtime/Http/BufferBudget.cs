namespace Gateway.Runtime.Http;

/// <summary>
/// A bound on the bytes of backend response bodies the gateway holds at once, across every request it serves. Each
/// body buffer reserves its size here as it grows and gives it back when it is released; a body that would go over
/// the bound fails its step instead, so that many concurrent large answers cannot take the machine's memory
/// (docs/compatibility.md, limits).
/// </summary>
public sealed class BufferBudget
{
    private readonly long _limit;
    private long _used;

    public BufferBudget(long limitBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limitBytes);
        _limit = limitBytes;
    }

    /// <summary>The bound, in bytes.</summary>
    public long Limit => _limit;

    /// <summary>The bytes reserved right now.</summary>
    public long InUse => Volatile.Read(ref _used);

    /// <summary>Reserves <paramref name="bytes"/>; false (and nothing reserved) when that would go over the bound.</summary>
    public bool TryReserve(int bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= _limit)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Release(int bytes) => Interlocked.Add(ref _used, -bytes);
}

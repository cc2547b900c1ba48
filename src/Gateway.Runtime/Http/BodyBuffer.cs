namespace Gateway.Runtime.Http;

/// <summary>
/// Collects a backend response body while it is read. The bytes go into pooled segments that double from 4 KiB up to
/// 64 KiB and then stay at that size, so nothing is copied while reading, and a body that turns out too large (or over
/// the gateway's budget) leaves nothing behind but small arrays: segments stay under the large-object threshold
/// (85,000 bytes), so those the pool does not keep are cheap young garbage, not large-object-heap memory that the
/// collector reclaims late. A complete body is joined into one buffer at the end (no copy when it fit in one segment). Every segment
/// is reserved in the <see cref="BufferBudget"/> before it is taken, and reads stop at the body limit plus one byte.
/// </summary>
/// <remarks>A mutable struct, to cost no allocation per body: keep it in a local that is not readonly (no <c>using</c>).</remarks>
internal struct BodyBuffer : IDisposable
{
    private const int FirstSegment = 4096;
    private const int MaxSegment = 64 * 1024;

    private readonly BufferBudget _budget;
    private readonly int _maxLength;
    private Segment _last;

    // The segments before the last, all full; null for the common body that fits in one.
    private List<Segment>? _full;
    private int _lastUsed;
    private long _capacity;

    /// <param name="budget">The gateway-wide bound the segments count against.</param>
    /// <param name="maxLength">The largest body accepted; reads stop one byte past it, which shows a body is over.</param>
    public BodyBuffer(BufferBudget budget, int maxLength)
    {
        _budget = budget;
        _maxLength = maxLength;
    }

    public long Length { readonly get; private set; }

    /// <summary>
    /// Free space for the next read. <paramref name="expectedRemaining"/> (what a declared length leaves, or 0) sizes
    /// the next segment so that a body of known length is read into one array. False when the budget cannot cover more.
    /// </summary>
    public bool TryGetMemory(long expectedRemaining, out Memory<byte> memory)
    {
        if (_last.Array is null || _lastUsed == _last.Usable)
        {
            long ceiling = (long)_maxLength + 1 - _capacity;
            if (ceiling <= 0)
            {
                // Only reachable once Length > maxLength, which the reader checks first: no memory past the limit.
                memory = default;
                return true;
            }

            // A declared length gets one array (a large one is allocated once, at its size, and not pooled).
            long wanted = expectedRemaining > 0
                ? expectedRemaining + 1
                : _last.Array is null ? FirstSegment : Math.Min((long)_last.Usable * 2, MaxSegment);
            int size = (int)Math.Min(wanted, ceiling);
            if (!_budget.TryReserve(size))
            {
                memory = default;
                return false;
            }

            byte[] array = BufferPool.Rent(size);
            if (array.Length != size)
            {
                _budget.Release(size - array.Length); // the pool rounded up: the budget counts what is held
            }

            if (_last.Array is not null)
            {
                (_full ??= new List<Segment>()).Add(_last);
            }

            _last = new Segment(array, size);
            _capacity += size;
            _lastUsed = 0;
        }

        memory = _last.Array.AsMemory(_lastUsed, _last.Usable - _lastUsed);
        return true;
    }

    public void Advance(int count)
    {
        _lastUsed += count;
        Length += count;
    }

    /// <summary>
    /// The whole body in one buffer that keeps its budget reservation until disposed; this buffer is emptied. False
    /// (and nothing moved) when joining segments, which needs the body twice for a moment, would go over the budget.
    /// </summary>
    public bool TryDetach([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PooledBuffer? whole)
    {
        int length = (int)Length;
        if (_full is null)
        {
            whole = _last.Array is null ? new PooledBuffer(16) : PooledBuffer.Adopt(_last.Array, length, _budget);
            _last = default;
            Dispose();
            return true;
        }

        int size = Math.Max(length, 1);
        if (!_budget.TryReserve(size))
        {
            whole = null;
            return false;
        }

        byte[] array = BufferPool.Rent(size);
        if (array.Length != size)
        {
            _budget.Release(size - array.Length);
        }

        int offset = 0;
        foreach (Segment segment in _full)
        {
            segment.Array.AsSpan(0, segment.Usable).CopyTo(array.AsSpan(offset));
            offset += segment.Usable;
        }

        _last.Array.AsSpan(0, _lastUsed).CopyTo(array.AsSpan(offset));
        whole = PooledBuffer.Adopt(array, length, _budget);
        Dispose();
        return true;
    }

    public void Dispose()
    {
        if (_full is not null)
        {
            foreach (Segment segment in _full)
            {
                Return(segment);
            }

            _full = null;
        }

        if (_last.Array is not null)
        {
            Return(_last);
            _last = default;
        }

        _capacity = 0;
        _lastUsed = 0;
        Length = 0;
    }

    private void Return(Segment segment)
    {
        _budget.Release(segment.Array.Length);
        BufferPool.Return(segment.Array);
    }

    /// <summary>A pooled array and the part of it this body may fill (the pool may hand out a larger array).</summary>
    private readonly record struct Segment(byte[] Array, int Usable);
}

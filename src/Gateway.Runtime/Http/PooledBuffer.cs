namespace Gateway.Runtime.Http;

/// <summary>
/// A growable byte buffer from <see cref="BufferPool"/>; an <see cref="IBufferWriter{T}"/> for Utf8JsonWriter. A buffer
/// made for a backend body (<see cref="ForBody"/>) counts its size against a <see cref="BufferBudget"/> until it is
/// disposed.
/// </summary>
public sealed class PooledBuffer : System.Buffers.IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;
    private readonly BufferBudget? _budget;

    public PooledBuffer(int initialCapacity = 1024) => _buffer = BufferPool.Rent(initialCapacity);

    private PooledBuffer(BufferBudget budget)
    {
        _buffer = [];
        _budget = budget;
    }

    /// <summary>An empty buffer for a body read from a backend; it takes memory only as <see cref="TryGetReadMemory"/> grows it.</summary>
    internal static PooledBuffer ForBody(BufferBudget budget) => new(budget);

    public int Length => _length;

    /// <summary>The size of the underlying array.</summary>
    public int Capacity => _buffer.Length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Forgets what was written after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length) => _length = Math.Clamp(length, 0, _length);

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    /// <summary>
    /// Free space for the next read of a body that may hold at most <paramref name="maxLength"/> bytes. The buffer
    /// never grows past <paramref name="maxLength"/> + 1 bytes (one byte more is how an oversized body shows), and
    /// growth is reserved in the budget first. False when the budget cannot cover the growth.
    /// </summary>
    internal bool TryGetReadMemory(int sizeHint, int maxLength, out Memory<byte> memory)
    {
        int free = _buffer.Length - _length;
        int ceiling = maxLength + 1;
        if (free == 0 || (free < sizeHint && _buffer.Length < ceiling))
        {
            long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + Math.Max(sizeHint, 1));
            if (!TryResize((int)Math.Min(Math.Max(wanted, 256), ceiling)))
            {
                memory = default;
                return false;
            }
        }

        memory = _buffer.AsMemory(_length);
        return true;
    }

    /// <summary>Hands the written bytes over to a <see cref="SharedBody"/> without a copy; this buffer is left empty.</summary>
    internal SharedBody MoveToSharedBody()
    {
        if (_budget is not null)
        {
            SharedBody copy = SharedBody.Copy(WrittenSpan);
            Dispose();
            return copy;
        }

        SharedBody body = SharedBody.Create(_buffer.Length > 0 ? _buffer : BufferPool.Rent(16), _length);
        _buffer = [];
        _length = 0;
        return body;
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _length >= needed)
        {
            return;
        }

        if (!TryResize(Math.Max(_buffer.Length * 2, _length + needed)))
        {
            throw new InsufficientMemoryException("The gateway's budget for buffered response bodies is spent.");
        }
    }

    private bool TryResize(int capacity)
    {
        // Reserve before allocating: a spent budget must not cost an allocation.
        if (_budget is not null && !_budget.TryReserve(capacity))
        {
            return false;
        }

        byte[] larger = BufferPool.Rent(capacity);
        _budget?.Release(capacity - larger.Length); // the pool may round up; the budget counts what is held

        _buffer.AsSpan(0, _length).CopyTo(larger);
        ReturnArray();
        _buffer = larger;
        return true;
    }

    private void ReturnArray()
    {
        byte[] old = _buffer;
        _buffer = [];
        if (old.Length > 0)
        {
            _budget?.Release(old.Length);
            BufferPool.Return(old);
        }
    }

    public void Dispose()
    {
        _length = 0;
        ReturnArray();
    }
}

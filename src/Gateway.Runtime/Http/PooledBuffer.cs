namespace Gateway.Runtime.Http;

/// <summary>
/// A growable byte buffer from <see cref="BufferPool"/>; an <see cref="IBufferWriter{T}"/> for Utf8JsonWriter. A buffer
/// holding a backend body (<see cref="Adopt"/>) counts its size against a <see cref="BufferBudget"/> until it is
/// disposed.
/// </summary>
public sealed class PooledBuffer : System.Buffers.IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;
    private readonly BufferBudget? _budget;

    public PooledBuffer(int initialCapacity = 1024) => _buffer = BufferPool.Rent(initialCapacity);

    private PooledBuffer(byte[] array, int length, BufferBudget budget)
    {
        _buffer = array;
        _length = length;
        _budget = budget;
    }

    /// <summary>
    /// Takes ownership of <paramref name="array"/> (from <see cref="BufferPool"/>) holding <paramref name="length"/>
    /// bytes, and of the array's reservation in <paramref name="budget"/>, which disposal gives back.
    /// </summary>
    internal static PooledBuffer Adopt(byte[] array, int length, BufferBudget budget) => new(array, length, budget);

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

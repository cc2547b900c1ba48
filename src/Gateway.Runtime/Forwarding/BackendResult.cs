using System.Buffers;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// The outcome of one backend call. A successful result owns a pooled buffer holding the backend's JSON object;
/// the exchange that created it returns the buffer when the request ends.
/// </summary>
public sealed class BackendResult
{
    private static readonly BackendResult s_notCalled = new(BackendFailure.NotCalled, 0);

    private byte[]? _buffer;
    private readonly int _start;
    private readonly int _length;

    private BackendResult(BackendFailure failure, int statusCode)
    {
        Failure = failure;
        StatusCode = statusCode;
    }

    private BackendResult(int statusCode, byte[] buffer, int start, int length)
    {
        StatusCode = statusCode;
        _buffer = buffer;
        _start = start;
        _length = length;
    }

    public static BackendResult NotCalled => s_notCalled;

    public BackendFailure Failure { get; }

    public bool Succeeded => Failure == BackendFailure.None;

    /// <summary>The backend's HTTP status, or 0 when it never answered.</summary>
    public int StatusCode { get; }

    /// <summary>The backend's JSON object (exactly the object's bytes). Empty unless <see cref="Succeeded"/>.</summary>
    public ReadOnlySpan<byte> Body => _buffer is null ? default : _buffer.AsSpan(_start, _length);

    public ReadOnlyMemory<byte> BodyMemory => _buffer is null ? default : _buffer.AsMemory(_start, _length);

    public static BackendResult Failed(BackendFailure failure, int statusCode = 0) => new(failure, statusCode);

    /// <summary>Takes ownership of a buffer rented from <see cref="ArrayPool{T}.Shared"/>.</summary>
    public static BackendResult Success(int statusCode, byte[] pooledBuffer, int start, int length) => new(statusCode, pooledBuffer, start, length);

    internal void ReturnBuffer()
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

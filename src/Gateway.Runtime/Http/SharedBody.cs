using System.Net;

namespace Gateway.Runtime.Http;

/// <summary>
/// A request body that several backend calls may send at once (the client's body, a proxy-chain object, a body built
/// from templates), in a pooled array that goes back to the pool only when the last reader lets go.
/// </summary>
/// <remarks>
/// Every reader holds a reference: the owner (the client request, a template) holds one from <see cref="Create"/>,
/// and each <see cref="HttpContent"/> made by <see cref="CreateContent"/> holds its own until it is disposed <b>and</b>
/// no copy to a connection is running. So the array cannot be handed to another request while any call can still
/// read it, however a call ends: the lifetime is enforced here, not by the order in which callers dispose things.
/// </remarks>
public sealed class SharedBody
{
    private byte[] _array;
    private readonly int _length;
    private int _references = 1;

    private SharedBody(byte[] array, int length)
    {
        _array = array;
        _length = length;
    }

    /// <summary>Takes ownership of <paramref name="array"/>, from <see cref="BufferPool"/>; the caller holds the first reference.</summary>
    internal static SharedBody Create(byte[] array, int length) => new(array, length);

    /// <summary>A copy of <paramref name="bytes"/>; the caller holds the first reference.</summary>
    public static SharedBody Copy(ReadOnlySpan<byte> bytes)
    {
        byte[] array = BufferPool.Rent(Math.Max(bytes.Length, 16));
        bytes.CopyTo(array);
        return new SharedBody(array, bytes.Length);
    }

    public int Length => _length;

    /// <summary>The bytes; valid only while the caller holds a reference.</summary>
    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    /// <summary>True while at least one reference is held (for tests and assertions).</summary>
    internal bool IsAlive => Volatile.Read(ref _references) > 0;

    /// <summary>Content that sends these bytes; it holds a reference of its own for as long as it may read them.</summary>
    public HttpContent CreateContent()
    {
        AddReference();
        return new Content(this);
    }

    /// <summary>Takes a reference of the caller's own (given up with <see cref="Release"/>), for as long as it sends these bytes.</summary>
    public SharedBody Lease()
    {
        AddReference();
        return this;
    }

    /// <summary>Gives up the caller's reference; the array goes back to the pool after the last one.</summary>
    public void Release()
    {
        int left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            byte[] array = _array;
            _array = [];
            BufferPool.Return(array);
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("A shared body was released more often than it was referenced.");
        }
    }

    private void AddReference()
    {
        ObjectDisposedException.ThrowIf(!IncrementIfAlive(ref _references), this);
    }

    /// <summary>Adds one to a count that has not yet dropped to zero; false once it has (a count never comes back).</summary>
    private static bool IncrementIfAlive(ref int count)
    {
        int current = Volatile.Read(ref count);
        while (current > 0)
        {
            int seen = Interlocked.CompareExchange(ref count, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>
    /// The body as <see cref="HttpContent"/>. Its reference is dropped when the content is disposed and no copy is in
    /// flight: an HTTP client may still be writing the body when the caller disposes the request (an early answer,
    /// a cancellation), and the bytes must stay ours until that write is over.
    /// </summary>
    private sealed class Content : HttpContent
    {
        private readonly SharedBody _body;

        // One hold for the content's own life, one per running copy; the body's reference goes with the last hold.
        private int _holds = 1;

        public Content(SharedBody body)
        {
            _body = body;
            Headers.ContentLength = body.Length;
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            Hold();
            try
            {
                await stream.WriteAsync(_body.Memory, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Unhold();
            }
        }

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            Hold();
            try
            {
                stream.Write(_body.Memory.Span);
            }
            finally
            {
                Unhold();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _body.Length;
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Unhold();
            }

            base.Dispose(disposing);
        }

        private int _disposed;

        private void Hold()
        {
            ObjectDisposedException.ThrowIf(!IncrementIfAlive(ref _holds), this);
        }

        private void Unhold()
        {
            if (Interlocked.Decrement(ref _holds) == 0)
            {
                _body.Release();
            }
        }
    }
}

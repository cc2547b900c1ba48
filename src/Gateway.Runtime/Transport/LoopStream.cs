using System.Buffers;
using System.Net.Sockets;

namespace Gateway.Runtime.Transport;

/// <summary>
/// A connected <see cref="LoopSocket"/> as a <see cref="Stream"/>, for .NET's HTTP client: the connections of
/// <c>SocketsHttpHandler</c> (HTTPS backends, scripted and martian backends, redirects, <c>--backend-http sockets</c>)
/// are opened through it when the event loops serve the gateway, so their reads complete on a loop thread and the
/// request goes on there, as a call through the gateway's own client does, instead of on .NET's socket thread and the
/// thread pool. TLS, when the backend is HTTPS, is the handler's <c>SslStream</c> on top of this stream.
/// </summary>
/// <remarks>
/// One read and one write at a time, as the handler uses a connection. A zero-byte read takes no bytes: once a read has
/// drained the socket it waits for the next ones (or the peer's close), else it completes at once; the handler's check
/// of an idle pooled connection follows it with a read either way. Errors surface as
/// <see cref="IOException"/> around the <see cref="SocketException"/>, as <see cref="NetworkStream"/> reports them.
/// The synchronous methods block the calling thread on the asynchronous ones; the handler calls them only for
/// <c>HttpClient.Send</c>, which the gateway never uses, and they must never run on a loop thread.
/// </remarks>
internal sealed class LoopStream : Stream
{
    private readonly LoopSocket _socket;

    public LoopStream(LoopSocket socket) => _socket = socket;

    /// <summary>Opens a connection for <c>SocketsHttpHandler.ConnectCallback</c>.</summary>
    public static ValueTask<Stream> ConnectAsync(System.Net.Http.SocketsHttpConnectionContext context, CancellationToken cancellation) =>
        ConnectAsync(context.DnsEndPoint, cancellation);

    /// <summary>A connection to <paramref name="endpoint"/> on the caller's loop (another loop's when the caller is on none).</summary>
    public static async ValueTask<Stream> ConnectAsync(System.Net.EndPoint endpoint, CancellationToken cancellation) =>
        new LoopStream(await LoopSocket.ConnectAsync(endpoint, cancellation).ConfigureAwait(false));

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            if (buffer.IsEmpty)
            {
                await _socket.WaitReadableAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            }

            return await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"Unable to read data from the transport connection: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new IOException("Unable to read data from the transport connection: the connection was closed.", e);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                int sent = await _socket.SendAsync(new ReadOnlySequence<byte>(buffer), cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"Unable to write data to the transport connection: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new IOException("Unable to write data to the transport connection: the connection was closed.", e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
        // Every write is handed to the kernel before it completes: nothing is buffered here.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }

        base.Dispose(disposing);
    }
}

using System.Net;
using System.Net.Http.Headers;

namespace Gateway.Runtime.Forwarding.Http1;

/// <summary>
/// The body of a <c>no-op</c> answer received by the gateway's HTTP/1.1 client, as the <see cref="HttpContent"/> that
/// the pass-through renderer and its stages read (the same shape .NET's client gives them): read as it arrives, by the
/// message's framing (<see cref="Http1Response.ReadStreamedAsync"/>). Disposing it ends the exchange: the connection goes
/// back to the pool when the body was read whole, and is closed otherwise (a client that went away mid-body, a body
/// cut short).
/// </summary>
internal sealed class Http1StreamedContent : HttpContent
{
    private readonly Http1Response _response;

    private Http1StreamedContent(Http1Response response) => _response = response;

    /// <summary>
    /// The answer whose head <paramref name="response"/> has read with every header kept, as a message: its status, its
    /// headers (content headers on the content, the others on the message, each as received) and this body.
    /// </summary>
    public static HttpResponseMessage ToMessage(Http1Response response)
    {
        var content = new Http1StreamedContent(response);
        var message = new HttpResponseMessage((HttpStatusCode)response.Status) { Version = HttpVersion.Version11, Content = content };
        HttpResponseHeaders headers = message.Headers;
        HttpContentHeaders contentHeaders = content.Headers;
        foreach (KeyValuePair<string, string> header in response.Kept)
        {
            // A name a response may not carry is a content header (Content-Type, Content-Length, Expires, ...).
            if (!headers.TryAddWithoutValidation(header.Key, header.Value))
            {
                contentHeaders.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return message;
    }

    /// <summary>The body of the answer whose head <paramref name="response"/> has read, as a stream read as it arrives.</summary>
    public static Stream OpenBody(Http1Response response) => new BodyStream(response);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new BodyStream(_response));

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        new BodyStream(_response).CopyToAsync(stream, cancellationToken);

    /// <summary>Unknown here: a declared length is the <c>Content-Length</c> header, kept from the head.</summary>
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The body as a read-only stream, asynchronous only: a synchronous read would block the I/O thread it runs on.</summary>
    private sealed class BodyStream(Http1Response response) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            response.ReadStreamedAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            response.ReadStreamedAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("the body of a streamed answer is read asynchronously");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

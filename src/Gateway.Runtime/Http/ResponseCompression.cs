using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// Compression of the gateway's answers for clients that accept it (docs/configuration.md, compression), on unless
/// <c>router.disable_gzip</c>. The answers the gateway composes are compressed whole, from the buffer that holds them,
/// so they keep an exact <c>Content-Length</c>; a <c>no-op</c> backend's body is compressed as it streams through
/// (<see cref="CompressingStream"/>), without a length. Both use the fastest level of each coding (brotli quality 0,
/// gzip level 1): at a gateway's sizes it keeps most of the saving for a fraction of the CPU
/// (perf/results/2026-12-01-compression.md).
/// </summary>
/// <remarks>
/// Kestrel's ResponseCompression middleware is not used: it has no size threshold (a 60-byte answer would be
/// compressed, and grow), it always streams (no <c>Content-Length</c>), and it wraps every response's body stream.
/// </remarks>
public static class ResponseCompression
{
    /// <summary>
    /// Bodies smaller than this are sent as they are: such an answer fits in one TCP segment with its headers, so
    /// compression saves no packet, and its fixed cost per answer is the largest share there
    /// (perf/results/2026-12-01-compression.md).
    /// </summary>
    public const int MinimumBytes = 1024;

    /// <summary>
    /// brotli's quality 0, its fastest: at these sizes about what gzip's fastest level costs, with smaller output.
    /// Quality 1 (.NET's CompressionLevel.Fastest) costs twice as much (perf/results/2026-12-01-compression.md).
    /// </summary>
    internal const int BrotliQuality = 0;

    /// <summary>brotli's default window (4 MiB): larger than any answer it sees here in one piece.</summary>
    private const int BrotliWindow = 22;

    private const string VaryHeader = "Vary";

    private static readonly StringValues s_acceptEncoding = "Accept-Encoding";
    private static readonly StringValues s_brotli = "br";
    private static readonly StringValues s_gzip = "gzip";

    /// <summary>
    /// The coding an answer of <paramref name="length"/> bytes gets (null: not known in advance, a stream). Answers
    /// with no body to compress (<c>204</c>, <c>304</c>, <c>HEAD</c>), with a coding already (a no-op backend's own
    /// <c>Content-Encoding</c>), covering a range, or of a type that does not compress are left alone. Any other answer
    /// of at least <see cref="MinimumBytes"/> carries <c>Vary: Accept-Encoding</c>, compressed or not, so a cache never
    /// serves one client's coding to another; it is compressed when the client accepts brotli or gzip. A smaller one
    /// is compressed only for a client that refuses an uncompressed body (<c>identity;q=0</c>).
    /// </summary>
    public static ContentCoding Negotiate(HttpContext context, long? length)
    {
        ArgumentNullException.ThrowIfNull(context);
        StringValues accepted = context.Request.Headers.AcceptEncoding;
        bool large = length is null or >= MinimumBytes;
        if (!large && accepted.Count == 0)
        {
            // The common small answer to a client that asks for nothing: nothing to decide, nothing to add.
            return ContentCoding.Identity;
        }

        HttpResponse response = context.Response;
        if (length == 0 || response.StatusCode is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified
            || HttpMethods.IsHead(context.Request.Method) || response.Headers.ContentEncoding.Count > 0
            || response.Headers.ContentRange.Count > 0 || !IsCompressible(response.ContentType))
        {
            return ContentCoding.Identity;
        }

        if (large)
        {
            response.Headers.Append(VaryHeader, s_acceptEncoding);
        }

        if (accepted.Count == 0)
        {
            return ContentCoding.Identity;
        }

        EncodingChoice choice = AcceptEncoding.Choose(accepted);
        if (choice.Coding == ContentCoding.Identity || (!large && !choice.IdentityRefused))
        {
            return ContentCoding.Identity;
        }

        if (!large)
        {
            response.Headers.Append(VaryHeader, s_acceptEncoding);
        }

        return choice.Coding;
    }

    /// <summary>Compresses a whole body into <paramref name="output"/>, which must hold <see cref="OutputCapacity"/> bytes or grow.</summary>
    public static void Compress(ContentCoding coding, ReadOnlySpan<byte> body, PooledBuffer output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (coding == ContentCoding.Brotli)
        {
            // The capacity is brotli's bound for any input, so the one-shot encoder cannot run out of room.
            Span<byte> destination = output.GetSpan(OutputCapacity(body.Length));
            if (!BrotliEncoder.TryCompress(body, destination, out int written, BrotliQuality, BrotliWindow))
            {
                throw new InvalidOperationException("brotli could not compress within its own bound");
            }

            output.Advance(written);
            return;
        }

        using var gzip = new GZipStream(new BufferStream(output), CompressionLevel.Fastest);
        gzip.Write(body);
    }

    /// <summary>What the output buffer of <see cref="Compress"/> needs for a body of <paramref name="length"/> bytes at most.</summary>
    public static int OutputCapacity(int length) => BrotliEncoder.GetMaxCompressedLength(length);

    /// <summary>
    /// Marks the answer as compressed: its <c>Content-Encoding</c>, and a strong <c>ETag</c> made weak, since the
    /// compressed bytes are not the representation the tag names (RFC 9110 §8.8.1), as nginx does.
    /// </summary>
    public static void MarkEncoded(HttpResponse response, ContentCoding coding)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.ContentEncoding = coding == ContentCoding.Brotli ? s_brotli : s_gzip;
        StringValues tags = response.Headers.ETag;
        if (tags.Count == 1 && tags[0] is { Length: > 0 } tag && tag[0] == '"')
        {
            response.Headers.ETag = "W/" + tag;
        }
    }

    /// <summary>A stream that compresses what is written to it into <paramref name="body"/>; see <see cref="CompressingStream"/>.</summary>
    internal static CompressingStream CreateStream(ContentCoding coding, Stream body) => new(coding, body);

    /// <summary>
    /// Whether a body of this media type is worth compressing: text, JSON and XML (with their <c>+json</c>/<c>+xml</c>
    /// kinds) and JavaScript. Not event streams, which a client reads as they come and compression would hold back, nor
    /// images, archives or other binary types, which are compressed already.
    /// </summary>
    public static bool IsCompressible(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }

        ReadOnlySpan<char> media = contentType.AsSpan();
        int semicolon = media.IndexOf(';');
        media = (semicolon < 0 ? media : media[..semicolon]).Trim(" \t");
        if (media.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return media.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/javascript", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/xml", StringComparison.OrdinalIgnoreCase)
            || media.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+xml", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A write-only stream over a pooled buffer: where GZipStream writes a whole compressed body.</summary>
    private sealed class BufferStream(PooledBuffer output) : WriteOnlyStream
    {
        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer) => output.Write(buffer);
    }
}

/// <summary>
/// Compresses a streamed body (a <c>no-op</c> backend's) on its way to the client. <see cref="CompleteAsync"/> writes
/// the coding's end: only a body that arrived whole gets one. <see cref="Abandon"/> cuts the compressor off from the
/// client first, so that a body that broke off never ends as if complete (a gzip trailer after a truncated body would
/// look like a whole, shorter answer) and nothing it held back leaks into another answer.
/// </summary>
internal sealed class CompressingStream : WriteOnlyStream
{
    private static readonly BrotliCompressionOptions s_brotliOptions = new() { Quality = ResponseCompression.BrotliQuality };

    private readonly Detachable _target;
    private readonly Stream _compressor;

    internal CompressingStream(ContentCoding coding, Stream body)
    {
        _target = new Detachable(body);
        _compressor = coding == ContentCoding.Brotli
            ? new BrotliStream(_target, s_brotliOptions)
            : new GZipStream(_target, CompressionLevel.Fastest);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _compressor.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _compressor.WriteAsync(buffer, offset, count, cancellationToken);

    /// <summary>Kestrel refuses synchronous writes; the gateway never makes them.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Writes what the compressor still holds and the coding's end.</summary>
    public ValueTask CompleteAsync() => _compressor.DisposeAsync();

    /// <summary>Drops what the compressor holds: nothing more reaches the client.</summary>
    public void Abandon()
    {
        _target.Detach();
        _compressor.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Abandon();
        }

        base.Dispose(disposing);
    }

    /// <summary>Passes writes to the client's body until detached; then swallows them.</summary>
    private sealed class Detachable(Stream inner) : WriteOnlyStream
    {
        private bool _detached;

        public void Detach() => _detached = true;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            _detached ? ValueTask.CompletedTask : inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            // Only reached while the compressor is dropped (after Detach): BrotliStream and GZipStream write synchronously on Dispose.
            if (!_detached)
            {
                throw new NotSupportedException();
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (!_detached)
            {
                throw new NotSupportedException();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => _detached ? Task.CompletedTask : inner.FlushAsync(cancellationToken);
    }
}

/// <summary>What the gateway's own streams share: they are written to, never read or positioned; Flush has nothing to do.</summary>
internal abstract class WriteOnlyStream : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

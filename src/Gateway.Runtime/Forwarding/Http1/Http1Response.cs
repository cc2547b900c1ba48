using System.Runtime.CompilerServices;
using System.Text;
using Gateway.Runtime.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding.Http1;

/// <summary>
/// A backend's answer on one <see cref="Http1Connection"/> (RFC 9112): the head parsed from the connection's buffer,
/// then the body read by its framing: <c>Content-Length</c>, chunked (extensions and trailers read and dropped), or
/// until the server closes. Framing that two readers could disagree on fails the exchange: <c>Content-Length</c> with
/// <c>Transfer-Encoding</c>, a <c>Transfer-Encoding</c> other than one <c>chunked</c>, two different lengths, a length that is not digits, a head past 64 KiB, a folded or
/// malformed header line. Only the headers the configuration reads become strings. The object belongs to its
/// connection and is reused by its next exchange; disposing it returns the connection when the message was read
/// whole, and closes it otherwise. A <c>no-op</c> answer keeps every header and is read as it streams
/// (<see cref="ReadStreamedAsync"/>, <see cref="Http1StreamedContent"/>).
/// </summary>
internal sealed class Http1Response : BackendResponse
{
    /// <summary>The longest chunk-size line or trailer line accepted.</summary>
    private const int MaxLineBytes = 8 * 1024;

    private readonly Http1Connection _connection;
    private List<KeyValuePair<string, string>> _kept = [];
    private List<KeyValuePair<string, string>> _previous = []; // the lines kept from the previous answer on this connection
    private int _status;
    private string? _contentType;
    private string? _location;
    private long _contentLength;
    private Framing _framing;
    private bool _keepAlive;
    private bool _complete;
    private bool _disposed = true;
    private bool _anyByte;
    private int _scanned;
    private long _left; // streamed: the bytes left of the declared length, or of the current chunk
    private bool _afterData; // streamed, chunked: a chunk's data was read, so the CRLF after it comes before the next size

    public Http1Response(Http1Connection connection) => _connection = connection;

    private enum Framing
    {
        None,
        Length,
        Chunked,
        UntilClose,
    }

    public override int Status => _status;

    public override string? ContentType => _contentType;

    /// <summary>The <c>Location</c> of a redirect (301, 302, 303, 307, 308), else null.</summary>
    public string? Location => _location;

    public override string Origin => _connection.Pool.Origin;

    public override bool TryGetLines(string name, out StringValues lines)
    {
        lines = default;
        foreach (KeyValuePair<string, string> header in _kept)
        {
            if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                lines = StringValues.Concat(lines, header.Value);
            }
        }

        return lines.Count > 0;
    }

    /// <summary>Starts reading the answer to a new request on this connection (<see cref="TryReadHead"/>).</summary>
    public void BeginHead()
    {
        _disposed = false;
        _complete = false;
        _anyByte = false;
        _scanned = 0;
    }

    /// <summary>
    /// Parses the head of the final answer from the bytes received so far (1xx answers other than 101 are skipped): true
    /// once it is read, false while more bytes are needed (the caller awaits <see cref="Http1Connection.ReceiveAsync"/>
    /// and hands the count to <see cref="Received"/>). The caller's own await, so that reading a head adds no async layer.
    /// Throws <see cref="Http1ProtocolException"/> for a head the gateway does not accept.
    /// </summary>
    /// <param name="head">True for a <c>HEAD</c> request: the answer has no body whatever its headers say.</param>
    /// <param name="wanted">The header names whose values later stages read; null when none.</param>
    /// <param name="contentType">Keep the <c>Content-Type</c> of a success too (a later step reads the raw body); a failure's is always kept.</param>
    /// <param name="all">Keep every header, as received (a <c>no-op</c> answer relayed to the client); <paramref name="wanted"/> is then ignored.</param>
    public bool TryReadHead(bool head, string[]? wanted, bool contentType, bool all = false)
    {
        while (true)
        {
            int end = IndexOfHeadEnd(_connection.Buffered, _scanned);
            if (end < 0)
            {
                if (_connection.BufferedLength >= Http1Connection.MaxHeadBytes)
                {
                    throw new Http1ProtocolException("the response head is larger than 64 KiB");
                }

                _scanned = Math.Max(0, _connection.BufferedLength - 3);
                return false;
            }

            if (end > Http1Connection.MaxHeadBytes)
            {
                throw new Http1ProtocolException("the response head is larger than 64 KiB");
            }

            ParseHead(_connection.Buffered[..end], head, wanted, contentType, all);
            _connection.Consume(end);
            _anyByte = true;
            _scanned = 0;
            // 100 Continue, 102, 103 Early Hints: interim answers before the final one (101 is final, and refused later).
            if (_status is >= 100 and < 200 && _status != 101)
            {
                continue;
            }

            return true;
        }
    }

    /// <summary>
    /// Takes the count of a receive made while the head was incomplete. A connection closed before any byte of an answer
    /// throws <see cref="IOException"/> (on a reused connection the server may have closed it as idle, and a request
    /// nothing was done with can be sent again); one closed inside a head, <see cref="Http1ProtocolException"/>.
    /// </summary>
    public void Received(int count)
    {
        _connection.Received(count);
        if (count > 0)
        {
            _anyByte = true;
            return;
        }

        if (!_anyByte && _connection.BufferedLength == 0)
        {
            throw new IOException("the connection closed before any byte of an answer");
        }

        throw new Http1ProtocolException("the connection closed inside the response head");
    }

    /// <summary>Where the head ends (after its empty line), or -1 when it has not all arrived.</summary>
    private static int IndexOfHeadEnd(ReadOnlySpan<byte> buffered, int from)
    {
        int at = buffered[from..].IndexOf("\r\n\r\n"u8);
        return at < 0 ? -1 : from + at + 4;
    }

    /// <summary>The headers kept from the head (<see cref="TryReadHead"/>): the wanted ones, or every one, in order.</summary>
    internal IReadOnlyList<KeyValuePair<string, string>> Kept => _kept;

    /// <summary>
    /// Keeps a header line as the next of this answer, named <paramref name="name"/> (null: as received). A connection
    /// mostly answers with the same lines in the same order (Server, Content-Type, Cache-Control): a line whose bytes
    /// equal the previous answer's line at the same place takes its strings, so only what changed, such as Date, is
    /// made again. Bytes beyond ASCII never compare equal, and are made again.
    /// </summary>
    private void Keep(string? name, ReadOnlySpan<byte> rawName, ReadOnlySpan<byte> value)
    {
        int index = _kept.Count;
        if (index < _previous.Count)
        {
            KeyValuePair<string, string> previous = _previous[index];
            bool sameName = name is null ? Ascii.Equals(rawName, previous.Key) : name == previous.Key;
            if (sameName)
            {
                _kept.Add(Ascii.Equals(value, previous.Value) ? previous : new(previous.Key, Encoding.Latin1.GetString(value)));
                return;
            }
        }

        _kept.Add(new(name ?? Encoding.Latin1.GetString(rawName), Encoding.Latin1.GetString(value)));
    }

    /// <summary>
    /// The lines kept so far become the ones the next head compares with (<see cref="Keep"/>), and none stay readable:
    /// when an answer ends, and when a head is read again before it did (after an interim 1xx answer).
    /// </summary>
    private void RetireLines()
    {
        if (_kept.Count > 0)
        {
            (_previous, _kept) = (_kept, _previous);
            _kept.Clear();
        }
    }

    /// <summary>The body's length as its <c>Content-Length</c> declares it; null for a body framed otherwise.</summary>
    internal long? DeclaredLength => _framing == Framing.Length ? _contentLength : null;

    internal void ParseHead(ReadOnlySpan<byte> head, bool headRequest, string[]? wanted, bool contentType, bool all = false)
    {
        RetireLines();
        _contentType = null;
        _location = null;
        _contentLength = -1;
        _framing = Framing.None;
        bool transferEncoding = false;

        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> statusLine = head[..lineEnd];
        // HTTP/1.x SP 3DIGIT [SP reason]
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[7] is not ((byte)'0' or (byte)'1') || statusLine[8] != ' '
            || !IsDigit(statusLine[9]) || !IsDigit(statusLine[10]) || !IsDigit(statusLine[11]) || (statusLine.Length > 12 && statusLine[12] != ' '))
        {
            throw new Http1ProtocolException("the status line is malformed");
        }

        bool http10 = statusLine[7] == '0';
        _status = ((statusLine[9] - '0') * 100) + ((statusLine[10] - '0') * 10) + (statusLine[11] - '0');
        _keepAlive = !http10;
        bool redirect = _status is 301 or 302 or 303 or 307 or 308;
        contentType |= _status is not (200 or 201);

        ReadOnlySpan<byte> rest = head[(lineEnd + 2)..^2];
        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = rest[..end];
            rest = rest[(end + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || line.ContainsAny((byte)'\r', (byte)'\n', (byte)0))
            {
                // Also an obsolete folded line (it starts with a space: no name before its colon).
                throw new Http1ProtocolException("a response header line is malformed");
            }

            ReadOnlySpan<byte> name = line[..colon];
            if (!Gateway.Http.HttpRules.IsToken(name))
            {
                throw new Http1ProtocolException("a response header name is not a token");
            }

            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (value.IsEmpty || value.Length > 15 || !IsDigits(value))
                {
                    throw new Http1ProtocolException("Content-Length is not a number");
                }

                // At most 15 digits: no overflow.
                long length = 0;
                foreach (byte digit in value)
                {
                    length = (length * 10) + (digit - '0');
                }

                if (_contentLength >= 0 && _contentLength != length)
                {
                    throw new Http1ProtocolException("two different Content-Length values");
                }

                _contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                // Only one "chunked": the gateway decodes no other coding (gzip, say), and a list or a second line
                // ("chunked, chunked") is a framing two readers may disagree on.
                if (transferEncoding || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                {
                    throw new Http1ProtocolException("a Transfer-Encoding other than one chunked");
                }

                transferEncoding = true;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                if (HasToken(value, "close"u8))
                {
                    _keepAlive = false;
                }
                else if (http10 && HasToken(value, "keep-alive"u8))
                {
                    _keepAlive = true;
                }
            }
            else if (contentType && Ascii.EqualsIgnoreCase(name, "Content-Type"u8))
            {
                _contentType = Encoding.Latin1.GetString(value);
            }
            else if (redirect && Ascii.EqualsIgnoreCase(name, "Location"u8))
            {
                _location = Encoding.Latin1.GetString(value);
            }

            if (all)
            {
                Keep(null, name, value);
            }
            else if (wanted is not null)
            {
                foreach (string want in wanted)
                {
                    if (want.Length == name.Length && Ascii.EqualsIgnoreCase(name, want))
                    {
                        Keep(want, name, value);
                        break;
                    }
                }
            }
        }

        if (transferEncoding && _contentLength >= 0)
        {
            // RFC 9112 §6.1: a request-smuggling shape; the two framings could be read differently by another hop.
            throw new Http1ProtocolException("both Content-Length and Transfer-Encoding");
        }

        if (headRequest || _status is 204 or 304 || (_status is >= 100 and < 200))
        {
            _framing = Framing.None;
            // A HEAD's or a 304's length is the one a GET's 200 would have (RFC 9110 §8.6); a 204 must not have one, and
            // bytes it announces would be read as the next answer: that connection is not used again.
            if ((_contentLength > 0 && _status == 204) || transferEncoding)
            {
                _keepAlive = false;
            }
        }
        else if (transferEncoding)
        {
            _framing = Framing.Chunked;
        }
        else if (_contentLength >= 0)
        {
            _framing = Framing.Length;
        }
        else
        {
            _framing = Framing.UntilClose;
        }

        if (_framing == Framing.UntilClose)
        {
            _keepAlive = false;
        }

        // A final message without body bytes is read whole once its head is (never a 101: that connection is no longer
        // HTTP's); a streamed one counts down from its length.
        _complete = _status >= 200 && (_framing == Framing.None || (_framing == Framing.Length && _contentLength == 0));
        _left = _framing == Framing.Length ? _contentLength : 0;
        _afterData = false;
    }

    /// <summary>
    /// Reads the next bytes of the body as they arrive (a streamed <c>no-op</c> answer), at most
    /// <paramref name="destination"/>'s length, by the message's framing: 0 once the message is read whole (the
    /// connection can then go back to the pool). Throws <see cref="Http1ProtocolException"/> for a body that ends early
    /// or a malformed chunk, <see cref="OperationCanceledException"/> when <paramref name="cancellation"/> ends the wait.
    /// </summary>
    public async ValueTask<int> ReadStreamedAsync(Memory<byte> destination, CancellationToken cancellation)
    {
        if (_complete || destination.IsEmpty)
        {
            return 0;
        }

        int read;
        switch (_framing)
        {
            case Framing.Length:
                read = await _connection.ReadAsync(destination, _left, cancellation).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new Http1ProtocolException("the connection closed before the body's declared length");
                }

                _left -= read;
                _complete = _left == 0;
                return read;
            case Framing.UntilClose:
                read = await _connection.ReadAsync(destination, long.MaxValue, cancellation).ConfigureAwait(false);
                _complete = read == 0;
                return read;
            default: // chunked
                if (_left == 0)
                {
                    _left = await NextChunkAsync(_afterData, cancellation).ConfigureAwait(false);
                    if (_left == 0)
                    {
                        _complete = true;
                        return 0;
                    }
                }

                read = await _connection.ReadAsync(destination, _left, cancellation).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new Http1ProtocolException("the connection closed inside a chunk");
                }

                _left -= read;
                _afterData = _left == 0;
                return read;
        }
    }

    public override ValueTask<(BackendFailure Failure, PooledBuffer? Body)> ReadBodyAsync(BufferBudget budget, int maxBodyBytes, CancellationToken cancellation)
    {
        if (_framing == Framing.Length && _contentLength > maxBodyBytes)
        {
            return ValueTask.FromResult<(BackendFailure, PooledBuffer?)>((BackendFailure.BodyTooLarge, null));
        }

        return ReadBodyCoreAsync(budget, maxBodyBytes, cancellation);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(BackendFailure Failure, PooledBuffer? Body)> ReadBodyCoreAsync(BufferBudget budget, int maxBodyBytes, CancellationToken cancellation)
    {
        var body = new BodyBuffer(budget, maxBodyBytes);
        try
        {
            if (_framing is Framing.Length or Framing.UntilClose)
            {
                bool declared = _framing == Framing.Length;
                long remaining = declared ? _contentLength : long.MaxValue;
                while (remaining > 0)
                {
                    // A declared length sizes the buffer once; the bytes already received are taken first.
                    if (!body.TryGetMemory(declared ? remaining : 0, out Memory<byte> memory))
                    {
                        return (BackendFailure.BufferLimit, null);
                    }

                    int read = await _connection.ReadAsync(memory, remaining, cancellation).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (!declared)
                        {
                            break;
                        }

                        throw new Http1ProtocolException("the connection closed before the body's declared length");
                    }

                    body.Advance(read);
                    remaining -= read;
                    if (body.Length > maxBodyBytes)
                    {
                        return (BackendFailure.BodyTooLarge, null);
                    }
                }
            }
            else if (_framing == Framing.Chunked)
            {
                long size;
                bool afterData = false;
                while ((size = await NextChunkAsync(afterData, cancellation).ConfigureAwait(false)) > 0)
                {
                    if (body.Length + size > maxBodyBytes)
                    {
                        return (BackendFailure.BodyTooLarge, null);
                    }

                    long remaining = size;
                    while (remaining > 0)
                    {
                        if (!body.TryGetMemory(0, out Memory<byte> memory))
                        {
                            return (BackendFailure.BufferLimit, null);
                        }

                        int read = await _connection.ReadAsync(memory, remaining, cancellation).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw new Http1ProtocolException("the connection closed inside a chunk");
                        }

                        body.Advance(read);
                        remaining -= read;
                    }

                    afterData = true;
                }
            }

            _complete = true;
            return body.TryDetach(out PooledBuffer? whole) ? (BackendFailure.None, whole) : (BackendFailure.BufferLimit, null);
        }
        catch (OperationCanceledException)
        {
            return (BackendFailure.Timeout, null);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return (BackendFailure.Transport, null);
        }
        finally
        {
            // After TryDetach this returns nothing: the body's arrays moved to the result.
            body.Dispose();
        }
    }

    /// <summary>
    /// The chunked framing of both readers (RFC 9112 §7.1): the CRLF that ends the previous chunk's data when
    /// <paramref name="afterData"/>, then the next chunk's size line, consumed. 0 for the last chunk, whose trailer
    /// section is then read and dropped; the caller reads that many bytes of data before asking again.
    /// </summary>
    private async ValueTask<long> NextChunkAsync(bool afterData, CancellationToken cancellation)
    {
        if (afterData)
        {
            if (await ReadLineAsync(cancellation).ConfigureAwait(false) != 0)
            {
                throw new Http1ProtocolException("a chunk is longer than its size");
            }

            _connection.Consume(2);
        }

        int lineEnd = await ReadLineAsync(cancellation).ConfigureAwait(false);
        long size = ParseChunkSize(_connection.Buffered[..lineEnd]);
        _connection.Consume(lineEnd + 2);
        if (size == 0)
        {
            await SkipTrailersAsync(cancellation).ConfigureAwait(false);
        }

        return size;
    }

    /// <summary>Waits until a whole line (up to CRLF) is buffered: its length without the CRLF.</summary>
    private async ValueTask<int> ReadLineAsync(CancellationToken cancellation)
    {
        while (true)
        {
            int end = _connection.Buffered.IndexOf("\r\n"u8);
            if (end >= 0)
            {
                return end;
            }

            if (_connection.BufferedLength > MaxLineBytes)
            {
                throw new Http1ProtocolException("a chunk-size or trailer line is longer than 8 KiB");
            }

            int read = await _connection.ReceiveAsync(cancellation).ConfigureAwait(false);
            _connection.Received(read);
            if (read == 0)
            {
                throw new Http1ProtocolException("the connection closed inside a chunked body");
            }
        }
    }

    /// <summary>The trailer section after the last chunk: read and dropped (no stage reads trailers), within a head's limit.</summary>
    private async ValueTask SkipTrailersAsync(CancellationToken cancellation)
    {
        int total = 0;
        while (true)
        {
            int end = await ReadLineAsync(cancellation).ConfigureAwait(false);
            if (_connection.Buffered[..end].ContainsAny((byte)'\r', (byte)'\n', (byte)0))
            {
                throw new Http1ProtocolException("a trailer line is malformed");
            }

            _connection.Consume(end + 2);
            if (end == 0)
            {
                return;
            }

            total += end + 2;
            if (total > Http1Connection.MaxHeadBytes)
            {
                throw new Http1ProtocolException("the trailer section is larger than 64 KiB");
            }
        }
    }

    /// <summary>chunk-size [ chunk-ext ] (RFC 9112 §7.1): one to fifteen hex digits; extensions are ignored.</summary>
    private static long ParseChunkSize(ReadOnlySpan<byte> line)
    {
        int digits = 0;
        long size = 0;
        while (digits < line.Length && HexValue(line[digits]) is int value and >= 0)
        {
            if (++digits > 15)
            {
                throw new Http1ProtocolException("a chunk size is too large");
            }

            size = (size << 4) | (uint)value;
        }

        ReadOnlySpan<byte> extension = line[digits..].TrimStart(" \t"u8);
        if (digits == 0 || (!extension.IsEmpty && extension[0] != ';') || line.ContainsAny((byte)'\r', (byte)'\n', (byte)0))
        {
            throw new Http1ProtocolException("a chunk size is malformed");
        }

        return size;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        RetireLines();
        if (_complete && _keepAlive && _connection.BufferedLength == 0)
        {
            _connection.Pool.Return(_connection);
        }
        else
        {
            _connection.Pool.Discard(_connection);
        }
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static bool IsDigits(ReadOnlySpan<byte> value) => !value.ContainsAnyExceptInRange((byte)'0', (byte)'9');

    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (Range part in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[part].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A backend answer the gateway's HTTP/1.1 client does not accept (malformed or ambiguous framing): the step fails as a transport failure.</summary>
internal sealed class Http1ProtocolException(string message) : IOException(message);

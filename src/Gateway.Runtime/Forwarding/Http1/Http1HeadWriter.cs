using System.Text;
using Gateway.Runtime.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding.Http1;

/// <summary>
/// Writes a request head into its connection's buffer: the request line, <c>Host</c>, the forwarded headers as
/// <see cref="BackendCaller.ForwardHeaders"/> lists them, the body's headers and the empty line. A value a header line cannot carry
/// (CR, LF, NUL, or text outside ASCII) marks the head invalid, and the call fails before anything is sent, as .NET's
/// client fails it.
/// </summary>
internal struct Http1HeadWriter : BackendCaller.IHeaderSink
{
    private readonly Http1Connection _connection;
    private byte[] _buffer;
    private int _length;
    private string? _traceparent;
    private string? _tracestate;

    public Http1HeadWriter(Http1Connection connection)
    {
        _connection = connection;
        _buffer = connection.WriteBuffer(1024, 0);
    }

    /// <summary>False once a name or value held a character a head cannot carry.</summary>
    public bool IsValid { get; private set; } = true;

    public readonly int Length => _length;

    public readonly byte[] Buffer => _buffer;

    /// <summary>The request line: <c>METHOD target HTTP/1.1</c>, then the origin's <c>Host</c> line.</summary>
    public void RequestLine(string method, string url, int targetStart, Http1Pool pool)
    {
        Ascii(method);
        Write(" "u8);
        // "http://host" and "http://host?x" ask for "/" and "/?x", as .NET's client asks.
        if (targetStart == url.Length || url[targetStart] == '?')
        {
            Write("/"u8);
        }

        Ascii(url.AsSpan(targetStart));
        Write(" HTTP/1.1\r\n"u8);
        Write(pool.HostLine);
    }

    /// <summary>
    /// The call's W3C trace context (its span's <c>traceparent</c>, and <c>tracestate</c> when the trace has one), written
    /// after the other headers as .NET's client path appends it. From here on those two names are dropped from what is
    /// added: a client's own trace headers, forwarded or templated, never reach the backend beside the gateway's.
    /// </summary>
    public void TraceContext(string traceparent, string? tracestate)
    {
        _traceparent = traceparent;
        _tracestate = tracestate;
    }

    public void Add(string name, string value)
    {
        if (_traceparent is not null && IsTraceContext(name))
        {
            return;
        }

        Line(name, value);
    }

    private void Line(string name, string value)
    {
        Ascii(name);
        Write(": "u8);
        Ascii(value);
        Write("\r\n"u8);
    }

    public void Add(string name, StringValues values, string separator)
    {
        if (_traceparent is not null && IsTraceContext(name))
        {
            return;
        }

        Ascii(name);
        Write(": "u8);
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                Ascii(separator);
            }

            Ascii(values[i]);
        }

        Write("\r\n"u8);
    }

    /// <summary>The trace context, the body's headers (its type, its length) and the empty line that ends the head.</summary>
    public void End(BackendCaller.OutgoingBody body)
    {
        if (_traceparent is not null)
        {
            Line("traceparent", _traceparent);
            if (_tracestate is not null)
            {
                Line("tracestate", _tracestate);
            }
        }

        if (body.HasContent)
        {
            if ((body.TypeTemplate ?? body.Type) is { } type)
            {
                Add("Content-Type", type);
            }

            Write("Content-Length: "u8);
            Span<byte> digits = stackalloc byte[11];
            (body.Body?.Length ?? 0).TryFormat(digits, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
            Write(digits[..written]);
            Write("\r\n"u8);
        }

        Write("\r\n"u8);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Ascii(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        Span<byte> target = _buffer.AsSpan(_length, text.Length);
        if (System.Text.Ascii.FromUtf16(text, target, out int written) != System.Buffers.OperationStatus.Done
            || target.ContainsAny((byte)'\r', (byte)'\n', (byte)0))
        {
            IsValid = false;
        }

        _length += text.Length;
    }

    private static bool IsTraceContext(string name) =>
        name.Equals("traceparent", StringComparison.OrdinalIgnoreCase) || name.Equals("tracestate", StringComparison.OrdinalIgnoreCase);

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            _buffer = _connection.WriteBuffer(_length + more, _length);
        }
    }
}

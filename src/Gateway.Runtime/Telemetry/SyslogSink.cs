using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.Runtime.Telemetry;

/// <summary>
/// <c>telemetry/logging.syslog</c>: each log entry as one RFC 5424 message (<c>&lt;PRI&gt;1 TIMESTAMP HOST gateway PID - -
/// MSG</c>) in one datagram to the local syslog socket (<c>/dev/log</c>), the entry's level as the severity and
/// <c>syslog_facility</c> (<c>local0</c> to <c>local7</c>) as the facility. The socket never blocks a request: when the
/// syslog daemon falls behind, an entry is dropped and counted, and the count is sent with the next entry that fits.
/// </summary>
public sealed class SyslogSink : IDisposable
{
    /// <summary>Where the local syslog daemon listens, in the order Go's log/syslog (KrakenD's) tries them.</summary>
    public static readonly string[] DefaultPaths = ["/dev/log", "/var/run/syslog", "/var/run/log"];

    /// <summary>The facility <c>local0</c> (16); <c>localN</c> is 16 + N (RFC 5424 §6.2.1).</summary>
    private const int Local0 = 16;

    private readonly Socket _socket;
    private readonly int _facility;
    private readonly byte[] _header;
    private long _dropped;

    private SyslogSink(Socket socket, int facility)
    {
        _socket = socket;
        _facility = facility;
        string host = Environment.MachineName is { Length: > 0 } name ? name : "-";
        _header = Encoding.ASCII.GetBytes($" {Printable(host, 255)} gateway {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)} - - ");
    }

    /// <summary>Entries dropped because the syslog daemon did not take them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Connects to the syslog socket at <paramref name="path"/> (the first of <see cref="DefaultPaths"/> that accepts
    /// when null). A socket that cannot be reached stops the start with a sentence saying so.
    /// </summary>
    /// <param name="facility"><c>local0</c> to <c>local7</c>.</param>
    public static SyslogSink Connect(string? path, string facility)
    {
        ArgumentNullException.ThrowIfNull(facility);
        int number = facility.Length == 6 && facility.StartsWith("local", StringComparison.Ordinal) && facility[5] is >= '0' and <= '7'
            ? Local0 + (facility[5] - '0')
            : throw new ArgumentException($"'{facility}' is not a facility from local0 to local7", nameof(facility));
        var problems = new List<string>();
        foreach (string candidate in path is null ? DefaultPaths : [path])
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(candidate));
                socket.Blocking = false;
                return new SyslogSink(socket, number);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                problems.Add($"{candidate}: {e.Message}");
            }
        }

        throw new GatewayStartupException($"telemetry/logging: syslog: no syslog socket accepts messages ({string.Join("; ", problems)}); run a syslog daemon, mount its socket into the container, or set \"syslog\": false");
    }

    /// <summary>Sends one entry (without its final line break). Never blocks and never throws.</summary>
    public void Write(LogLevel level, ReadOnlySpan<byte> entry)
    {
        long dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped > 0 && !Send(LogLevel.Warning, Encoding.ASCII.GetBytes($"gateway: {dropped} log entries dropped: the syslog daemon did not keep up")))
        {
            Interlocked.Add(ref _dropped, dropped);
        }

        if (!Send(level, entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private bool Send(LogLevel level, ReadOnlySpan<byte> entry)
    {
        // <PRI>1 TIMESTAMP, then the header made once (host, app, process), then the message (RFC 5424 §6).
        Span<byte> start = stackalloc byte[48];
        int priority = (_facility * 8) + Severity(level);
        int length = 0;
        start[length++] = (byte)'<';
        priority.TryFormat(start[length..], out int written, default, CultureInfo.InvariantCulture);
        length += written;
        ">1 "u8.CopyTo(start[length..]);
        length += 3;
        DateTime.UtcNow.TryFormat(start[length..], out written, "yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
        length += written;

        byte[] message = System.Buffers.ArrayPool<byte>.Shared.Rent(length + _header.Length + entry.Length);
        try
        {
            start[..length].CopyTo(message);
            _header.CopyTo(message, length);
            entry.CopyTo(message.AsSpan(length + _header.Length));
            _socket.Send(message, 0, length + _header.Length + entry.Length, SocketFlags.None, out SocketError error);
            return error == SocketError.Success;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(message);
        }
    }

    /// <summary>RFC 5424 §6.2.1 severities: debug 7, informational 6, warning 4, error 3, critical 2.</summary>
    private static int Severity(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        LogLevel.Error => 3,
        _ => 2,
    };

    /// <summary>A header field as RFC 5424 allows it: printable ASCII without spaces, at most <paramref name="max"/> characters.</summary>
    private static string Printable(string value, int max)
    {
        var field = new StringBuilder(Math.Min(value.Length, max));
        foreach (char c in value)
        {
            if (field.Length == max)
            {
                break;
            }

            field.Append(c is > ' ' and < (char)0x7F ? c : '_');
        }

        return field.ToString();
    }

    public void Dispose() => _socket.Dispose();
}

using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>One SRV record as a name server answers it.</summary>
public sealed record SrvAnswer(ushort Priority, ushort Weight, ushort Port, string Target, uint Ttl = 1);

/// <summary>
/// A name server on 127.0.0.1 (UDP, a random port) that answers SRV questions from a table the test changes while it
/// runs (RFC 1035 §4 message format, RFC 2782 SRV data); a name not in the table is NXDOMAIN. It counts the questions.
/// </summary>
public sealed class FakeDnsServer : IDisposable
{
    private const ushort SrvType = 33;
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly ConcurrentDictionary<string, SrvAnswer[]> _records = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();
    private int _questions;

    public FakeDnsServer() => _ = ServeAsync();

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    /// <summary>How many questions were asked so far.</summary>
    public int Questions => Volatile.Read(ref _questions);

    /// <summary>Sets (or, with no records, removes) the SRV records of <paramref name="name"/>.</summary>
    public void Set(string name, params SrvAnswer[] records)
    {
        if (records.Length == 0)
        {
            _records.TryRemove(name, out _);
        }
        else
        {
            _records[name] = records;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _questions);
            if (Answer(received.Buffer) is { } answer)
            {
                await _socket.SendAsync(answer, received.RemoteEndPoint);
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
        {
            return null;
        }

        // The question: the name's labels, then its type and class.
        int end = 12;
        var labels = new List<string>();
        while (end < query.Length && query[end] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, end + 1, query[end]));
            end += query[end] + 1;
        }

        end += 5; // the root label, type and class
        if (end > query.Length)
        {
            return null;
        }

        string name = string.Join('.', labels);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(end - 4));
        SrvAnswer[] records = type == SrvType && _records.TryGetValue(name, out SrvAnswer[]? found) ? found : [];
        bool known = _records.ContainsKey(name);

        var message = new List<byte>();
        message.AddRange(query.AsSpan(0, 2).ToArray()); // the question's id
        message.AddRange(new byte[] { 0x81, (byte)(known ? 0x80 : 0x83) }); // a response, recursion available; NXDOMAIN when unknown
        message.AddRange(new byte[] { 0, 1 });
        AddUInt16(message, (ushort)records.Length);
        message.AddRange(new byte[] { 0, 0, 0, 0 });
        message.AddRange(query.AsSpan(12, end - 12).ToArray());
        foreach (SrvAnswer record in records)
        {
            message.AddRange(new byte[] { 0xC0, 12 }); // the question's name
            AddUInt16(message, SrvType);
            AddUInt16(message, 1);
            message.AddRange(new[] { (byte)(record.Ttl >> 24), (byte)(record.Ttl >> 16), (byte)(record.Ttl >> 8), (byte)record.Ttl });
            byte[] target = EncodeName(record.Target);
            AddUInt16(message, (ushort)(6 + target.Length));
            AddUInt16(message, record.Priority);
            AddUInt16(message, record.Weight);
            AddUInt16(message, record.Port);
            message.AddRange(target);
        }

        return [.. message];
    }

    private static void AddUInt16(List<byte> message, ushort value)
    {
        message.Add((byte)(value >> 8));
        message.Add((byte)value);
    }

    private static byte[] EncodeName(string name)
    {
        var encoded = new List<byte>();
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            encoded.Add((byte)label.Length);
            encoded.AddRange(Encoding.ASCII.GetBytes(label));
        }

        encoded.Add(0);
        return [.. encoded];
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// A backend that speaks HTTP by hand on a loopback socket, for answers a real server would never send: 101 to a
/// request that asked for no upgrade, a 204 with a length, header values with non-ASCII text, a connection closed
/// without an answer, an endless chunked body. Each connection reads one request head and hands the stream to the
/// handler set for the path's first segment, with the head as read. A handler set with <see cref="OnKeepAlive"/> may
/// keep the connection for the next request; every head is recorded with the connection it came on.
/// </summary>
public sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Func<NetworkStream, string, Task<bool>>> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<RawRequest> _received = new();
    private readonly Task _accepting;
    private int _connections;
    private int _open;

    private RawBackend()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public string BaseUrl { get; }

    /// <summary>The request heads received, in order.</summary>
    public IReadOnlyCollection<string> Requests => _requests;

    /// <summary>The request heads received, in order, each with the number of the connection it came on (1 for the first accepted).</summary>
    public IReadOnlyCollection<RawRequest> Received => _received;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections accepted and not yet closed: a handler that holds its connection ends when the gateway closes it.</summary>
    public int Open => Volatile.Read(ref _open);

    public static RawBackend Start() => new();

    /// <summary>Sets the handler of <paramref name="firstSegment"/>; the connection closes when it returns.</summary>
    public void On(string firstSegment, Func<NetworkStream, string, Task> handler) => _handlers[firstSegment] = async (stream, head) =>
    {
        await handler(stream, head);
        return false;
    };

    /// <summary>
    /// Sets a handler that decides how its connection goes on: true reads the next request head from the same connection
    /// (keep-alive), false closes it. The handler reads the request body itself, if any, before it returns true.
    /// </summary>
    public void OnKeepAlive(string firstSegment, Func<NetworkStream, string, Task<bool>> handler) => _handlers[firstSegment] = handler;

    /// <summary>Writes <paramref name="text"/> as Latin-1 bytes (so that a test can put any byte in a header).</summary>
    public static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.Latin1.GetBytes(text)).AsTask();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            int connection = Interlocked.Increment(ref _connections);
            Interlocked.Increment(ref _open);
            _ = ServeAsync(client, connection);
        }
    }

    private async Task ServeAsync(TcpClient client, int connection)
    {
        // Counted as open until the socket is closed, not merely until its handler returned.
        try
        {
            using (client)
            {
                NetworkStream stream = client.GetStream();
                while (await ReadHeadAsync(stream) is { } head)
                {
                    _requests.Enqueue(head);
                    _received.Enqueue(new RawRequest(connection, head));
                    string target = head.Split(' ')[1];
                    string first = target.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Split('?')[0] ?? string.Empty;
                    if (!_handlers.TryGetValue(first, out Func<NetworkStream, string, Task<bool>>? handler))
                    {
                        await WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                        continue;
                    }

                    if (!await handler(stream, head))
                    {
                        return; // one request per connection unless the handler keeps it: handlers decide how it ends
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The gateway closed the connection: expected in most fault scenarios.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>Reads up to the blank line after the headers (request bodies are not read); null at end of stream.</summary>
    private async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!EndsWithBlankLine(head))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Append((char)one[0]);
            if (head.Length > 64 * 1024)
            {
                return null;
            }
        }

        return head.ToString();
    }

    private static bool EndsWithBlankLine(StringBuilder head) =>
        head.Length >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}

/// <summary>A request head as <see cref="RawBackend"/> read it, with the number of the connection it came on.</summary>
public sealed record RawRequest(int Connection, string Head);

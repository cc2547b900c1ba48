using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Forwarding.Http1;

namespace Gateway.Runtime.Tests.Forwarding;

/// <summary>
/// The header lines the gateway's own HTTP/1.1 client keeps for a <c>no-op</c> answer (<see cref="Http1Response.Kept"/>):
/// each exactly as received, and on a connection that answers with the same lines again, the previous answer's strings
/// taken instead of new ones. What changed must be read anew, and an answer that ended leaves nothing readable.
/// </summary>
public sealed class Http1ResponseLinesTests : IAsyncLifetime
{
    private const string First = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Wed, 02 Dec 2026 13:42:23 GMT\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Text: caf\u00e9\r\nContent-Length: 2\r\n\r\n";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Http1Pool _pool = null!;
    private Http1Connection _connection = null!;

    public async Task InitializeAsync()
    {
        _listener.Start();
        int port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _pool = new Http1Pool($"http://127.0.0.1:{port}", "127.0.0.1", port, new BackendClientOptions());
        Task<TcpClient> accepted = _listener.AcceptTcpClientAsync();
        _connection = await _pool.RentAsync(fresh: true, CancellationToken.None);
        (await accepted).Dispose();
    }

    public Task DisposeAsync()
    {
        _listener.Stop();
        _listener.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void SameLinesAgain_PreviousStringsTaken_ChangedOnesReadAnew()
    {
        Http1Response response = _connection.Response;
        KeyValuePair<string, string>[] first = Parse(response, First);
        KeyValuePair<string, string>[] second = Parse(response, First.Replace("13:42:23", "13:42:24", StringComparison.Ordinal));

        Assert.Equal(Lines(First.Replace("13:42:23", "13:42:24", StringComparison.Ordinal)), second);
        for (int i = 0; i < second.Length; i++)
        {
            Assert.Same(first[i].Key, second[i].Key);
            bool changed = second[i].Key == "Date";
            bool beyondAscii = second[i].Key == "X-Text";
            Assert.True(ReferenceEquals(first[i].Value, second[i].Value) == !(changed || beyondAscii), second[i].Key);
        }
    }

    [Fact]
    public void OtherLines_EachAsReceived_NoneOfThePreviousAnswerLeft()
    {
        Http1Response response = _connection.Response;
        Parse(response, First);
        const string Other = "HTTP/1.1 200 OK\r\nserver: nginx\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n";
        KeyValuePair<string, string>[] other = Parse(response, Other);

        // "server" keeps its case (relayed as it came); "Content-Type" moved to another place; nothing else remains.
        Assert.Equal(Lines(Other), other);
        Assert.False(response.TryGetLines("Set-Cookie", out _));
    }

    [Fact]
    public void AnswerEnded_NothingReadable_ItsLinesStillCompared()
    {
        Http1Response response = _connection.Response;
        KeyValuePair<string, string>[] first = Parse(response, First);
        response.Dispose();

        Assert.Empty(response.Kept);
        Assert.False(response.TryGetLines("Server", out _));

        KeyValuePair<string, string>[] next = Parse(response, First);
        Assert.Equal(Lines(First), next);
        Assert.Same(first[0].Value, next[0].Value);
    }

    private static KeyValuePair<string, string>[] Parse(Http1Response response, string head)
    {
        response.BeginHead();
        response.ParseHead(Encoding.Latin1.GetBytes(head), headRequest: false, wanted: null, contentType: false, all: true);
        return [.. response.Kept];
    }

    private static KeyValuePair<string, string>[] Lines(string head) =>
        [.. head.Split("\r\n").Skip(1).TakeWhile(line => line.Length > 0).Select(line => new KeyValuePair<string, string>(line[..line.IndexOf(':')], line[(line.IndexOf(':') + 1)..].Trim()))];
}

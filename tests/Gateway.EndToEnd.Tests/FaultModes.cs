using System.Net.Sockets;
using System.Text;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// One row of the fault matrix (docs/reliability.md): how the faulty backend answers, and what the client sees in
/// each shape of endpoint. <see cref="ChainStatus"/> 200 means the proxy-chain service counts as answered and the
/// endpoint's backend is called; otherwise the client gets that status and <c>{"error": ChainError}</c>.
/// </summary>
/// <param name="Mode">The path segment that selects the fault (<c>/m/{mode}</c>).</param>
/// <param name="Fault">What the backend does, in words (the matrix's first column).</param>
/// <param name="Fails">Whether the step fails; when it does not, <paramref name="Faulty"/> is the data it gives.</param>
/// <param name="Faulty">The faulty backend's group when it succeeds, as JSON (null when it fails).</param>
/// <param name="ChainStatus">The client's status when the same backend is a proxy-chain service.</param>
/// <param name="ChainError">The proxy-chain error text (null when the service counts as answered).</param>
public sealed record FaultRow(string Mode, string Fault, bool Fails, string? Faulty, int ChainStatus, string? ChainError)
{
    public override string ToString() => Mode;
}

/// <summary>The faulty backend's behaviours, one per mode, served by a <see cref="RawBackend"/> under <c>/m/{mode}</c>.</summary>
public static class FaultModes
{
    /// <summary>A body larger than the gateway's 16 MiB default for one response, sent in 64 KiB chunks.</summary>
    private const int OversizedChunks = 17 * 16;

    private const int BigStringBytes = 10 * 1024 * 1024;

    public static readonly FaultRow[] Rows =
    [
        new("reset-before-headers", "connection reset before the status line", true, null, 502, "could not be reached"),
        new("reset-mid-body", "connection reset in the middle of the body", true, null, 502, "could not be read"),
        new("truncated-chunked", "chunked body closed before its last chunk", true, null, 502, "could not be read"),
        new("silence", "headers, then nothing past the timeout", true, null, 504, "did not answer in time"),
        new("drip", "body at 1 byte per second", true, null, 504, "did not answer in time"),
        new("oversized", "chunked body past the 16 MiB response limit", true, null, 502, "answered with a body that is too large"),
        new("declared-oversized", "Content-Length of 1 GiB, no body sent", true, null, 502, "answered with a body that is too large"),
        new("invalid-utf8", "a string with bytes that are not UTF-8", true, null, 502, "did not answer with a JSON object"),
        new("deep-nesting", "100,000 nested arrays", true, null, 502, "did not answer with a JSON object"),
        new("big-string", "one 10 MB string", false, BigStringShape, 200, null),
        new("duplicate-keys", "the same key twice", false, """{"k": 1, "k": 2}""", 200, null),
        new("array", "a JSON array where an object is expected", true, null, 502, "did not answer with a JSON object"),
        new("wrong-content-type", "JSON sent as text/html", false, """{"html": false}""", 200, null),
        new("no-content-with-body", "204 with a Content-Length and a body", true, null, 200, null),
        new("redirect-loop", "a redirect to itself, forever", true, null, 502, "answered 302"),
        new("redirect-away", "a redirect to another host", true, null, 502, "answered 302"),
        new("switching-protocols", "101 to a request that asked for no upgrade", true, null, 502, "answered 101"),
        new("early-hints", "103 Early Hints, then the answer", false, """{"hinted": true}""", 200, null),
        new("continue", "100 Continue, then the answer", false, """{"continued": true}""", 200, null),
    ];

    /// <summary>The rows whose fault does not wait for a timeout (the leak check repeats them).</summary>
    public static IEnumerable<FaultRow> Quick => Rows.Where(r => r.Mode is not ("silence" or "drip"));

    /// <summary>Marks the big string's group in expectations; the test compares its length, not 10 MB of text.</summary>
    public const string BigStringShape = "big-string";

    public static int BigStringLength => BigStringBytes;

    /// <summary>Serves the mode named in the request target (<c>/m/{mode}</c>). Every answer ends its connection.</summary>
    public static async Task ServeAsync(NetworkStream stream, string head)
    {
        string target = head.Split(' ')[1];
        string mode = target.Split('/')[2].Split('?')[0];
        await FaultFixture.ReadBodyAsync(stream, FaultFixture.ContentLength(head));
        switch (mode)
        {
            case "reset-before-headers":
                Reset(stream);
                break;
            case "reset-mid-body":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\": \"");
                await stream.FlushAsync();
                // Blocking, not Task.Delay: under the full suite's load a timer's continuation can come later than the
                // endpoint's timeout, and the row would read as a silence (504) instead of a reset.
                Thread.Sleep(50);
                Reset(stream);
                break;
            case "truncated-chunked":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{\"a\": \r\n");
                break;
            case "silence":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n");
                await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
                break;
            case "drip":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n");
                for (int i = 0; i < 60; i++)
                {
                    await RawBackend.WriteAsync(stream, " ");
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }

                break;
            case "oversized":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n");
                byte[] chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string(' ', 0x10000)}\r\n");
                for (int i = 0; i < OversizedChunks; i++)
                {
                    await stream.WriteAsync(chunk);
                }

                await RawBackend.WriteAsync(stream, "1\r\n]\r\n0\r\n\r\n");
                break;
            case "declared-oversized":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n");
                await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
                break;
            case "invalid-utf8":
                await WriteBytesAsync(stream, "200 OK", "application/json", [.. "{\"bad\": \""u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\"}"u8]);
                break;
            case "deep-nesting":
                await WriteJsonAsync(stream, "{\"deep\": " + new string('[', 100_000) + new string(']', 100_000) + "}");
                break;
            case "big-string":
                await WriteJsonAsync(stream, "{\"s\": \"" + new string('x', BigStringBytes) + "\"}");
                break;
            case "duplicate-keys":
                await WriteJsonAsync(stream, """{"k": 1, "k": 2}""");
                break;
            case "array":
                await WriteJsonAsync(stream, "[1, 2, 3]");
                break;
            case "wrong-content-type":
                await WriteBytesAsync(stream, "200 OK", "text/html", """{"html": false}"""u8.ToArray());
                break;
            case "no-content-with-body":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 204 No Content\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"x\": true}");
                break;
            case "redirect-loop":
                await RawBackend.WriteAsync(stream, $"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
            case "redirect-away":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
            case "switching-protocols":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
                await FaultFixture.HoldUntilClosedAsync(stream, TimeSpan.FromSeconds(30));
                break;
            case "early-hints":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n");
                await WriteJsonAsync(stream, """{"hinted": true}""");
                break;
            case "continue":
                await RawBackend.WriteAsync(stream, "HTTP/1.1 100 Continue\r\n\r\n");
                await WriteJsonAsync(stream, """{"continued": true}""");
                break;
            default:
                await RawBackend.WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                break;
        }
    }

    /// <summary>Closes with a TCP reset (linger 0) instead of an orderly end.</summary>
    private static void Reset(NetworkStream stream)
    {
        stream.Socket.LingerState = new LingerOption(true, 0);
        stream.Socket.Close();
    }

    private static Task WriteJsonAsync(NetworkStream stream, string json) =>
        WriteBytesAsync(stream, "200 OK", "application/json", Encoding.UTF8.GetBytes(json));

    private static async Task WriteBytesAsync(NetworkStream stream, string status, string contentType, byte[] body)
    {
        await RawBackend.WriteAsync(stream, $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(body);
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// Debian's <c>redis-server</c>, started by a test on a free loopback port with nothing saved to disk, and stopped by
/// its process id. <c>scripts/test.sh</c> and <c>.ci/run</c> install the package when it is missing.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private bool _stopped;

    private RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, as <c>GATEWAY_RATELIMIT_REDIS</c> takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The server's path, or null when it is not installed (the caller skips, saying why).</summary>
    public static string? Find()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            string candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<RedisServer> StartAsync(string executable)
    {
        int port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, port);
        for (int attempt = 0; attempt < 200; attempt++)
        {
            if (await server.AnswersAsync())
            {
                return server;
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(25);
        }

        await server.DisposeAsync();
        throw new InvalidOperationException($"redis-server did not start on port {port}");
    }

    /// <summary>A PING answered with PONG.</summary>
    public async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            byte[] buffer = new byte[16];
            int read = await stream.ReadAsync(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read) == "+PONG\r\n";
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Stops the server (a test may stop it early to see Redis go away).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

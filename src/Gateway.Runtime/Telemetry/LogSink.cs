namespace Gateway.Runtime.Telemetry;

/// <summary>
/// Where formatted log lines go: a stream (standard output by default) written by one background thread, in batches.
/// A request thread only copies its line into the pending batch under a short lock; it never waits for the stream.
/// Writing each line with its own system call would cost more than the request it describes (the access log runs
/// once per request), and a stalled stream (a full pipe) must slow nobody down: past <see cref="MaxPendingBytes"/>
/// lines are dropped and counted, and the count is written once the stream drains.
/// </summary>
public sealed class LogSink : IDisposable
{
    /// <summary>The most bytes waiting for the stream before new lines are dropped.</summary>
    public const int MaxPendingBytes = 4 * 1024 * 1024;

    /// <summary>How long a line may wait for companions before the batch is written.</summary>
    private static readonly TimeSpan s_flushInterval = TimeSpan.FromMilliseconds(50);

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly object _gate = new();
    private readonly Thread _writer;
    private readonly ManualResetEventSlim _wake = new(false);
    private MemoryStream _pending = new();
    private MemoryStream _spare = new();
    private long _dropped;
    private bool _stopping;

    /// <param name="stream">The destination; standard output when null.</param>
    /// <param name="ownsStream">Dispose the stream with the sink (always, for standard output).</param>
    public LogSink(Stream? stream = null, bool ownsStream = false)
    {
        _ownsStream = stream is null || ownsStream;
        _stream = stream ?? Console.OpenStandardOutput();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "gateway log writer" };
        _writer.Start();
    }

    /// <summary>Lines dropped so far because the stream did not keep up.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Queues one formatted line (with its line break). <paramref name="urgent"/> wakes the writer at once.</summary>
    public void Write(ReadOnlySpan<byte> line, bool urgent = false)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            if (_pending.Length + line.Length > MaxPendingBytes)
            {
                _dropped++;
                return;
            }

            _pending.Write(line);
        }

        if (urgent)
        {
            _wake.Set();
        }
    }

    /// <summary>Writes every queued line now and waits until the stream has them.</summary>
    public void Flush()
    {
        lock (_writer)
        {
            WriteBatch();
        }
    }

    private void WriteLoop()
    {
        while (!Volatile.Read(ref _stopping))
        {
            _wake.Wait(s_flushInterval);
            _wake.Reset();
            lock (_writer)
            {
                WriteBatch();
            }
        }
    }

    /// <summary>Swaps the pending batch for the empty spare and writes it; callers hold the writer lock.</summary>
    private void WriteBatch()
    {
        MemoryStream batch;
        long dropped;
        lock (_gate)
        {
            if (_pending.Length == 0 && _dropped == 0)
            {
                return;
            }

            batch = _pending;
            _pending = _spare;
            _spare = batch;
            dropped = _dropped;
            _dropped = 0;
        }

        try
        {
            if (batch.Length > 0)
            {
                _stream.Write(batch.GetBuffer(), 0, (int)batch.Length);
            }

            if (dropped > 0)
            {
                _stream.Write(System.Text.Encoding.UTF8.GetBytes($"gateway: {dropped} log line(s) dropped: the log output did not keep up{Environment.NewLine}"));
            }

            _stream.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            // Nowhere left to report it: the log output itself is gone.
        }
        finally
        {
            batch.SetLength(0);
            if (batch.Capacity > MaxPendingBytes)
            {
                batch.Capacity = 64 * 1024;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
        }

        _wake.Set();
        _writer.Join();
        Flush();
        if (_ownsStream)
        {
            _stream.Dispose();
        }

        _wake.Dispose();
    }
}

using System.Text;
using Gateway.Runtime.Telemetry;

namespace Gateway.Runtime.Tests.Telemetry;

public class LogSinkTests
{
    [Fact]
    public void Write_ManyThreads_EveryLineWholeAndOnceAfterDispose()
    {
        var stream = new MemoryStream();
        var sink = new LogSink(stream);
        Parallel.For(0, 8, thread =>
        {
            for (int i = 0; i < 500; i++)
            {
                sink.Write(Encoding.UTF8.GetBytes($"thread {thread} line {i}\n"));
            }
        });
        sink.Dispose();

        string[] lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8 * 500, lines.Length);
        Assert.Equal(8 * 500, lines.Distinct().Count());
        Assert.All(lines, l => Assert.Matches(@"^thread \d line \d+$", l));
    }

    [Fact]
    public void Write_StreamStalled_LinesPastTheBoundDroppedAndCounted()
    {
        using var stalled = new StalledStream();
        var sink = new LogSink(stalled);
        byte[] line = new byte[64 * 1024];
        line[^1] = (byte)'\n';

        // The writer takes the first batch and blocks on it; the rest must stop at the bound instead of growing.
        sink.Write(line, urgent: true);
        Assert.True(stalled.Entered.Wait(TimeSpan.FromSeconds(10)));
        for (int i = 0; i < (LogSink.MaxPendingBytes / line.Length) + 10; i++)
        {
            sink.Write(line);
        }

        Assert.Equal(10, sink.Dropped);
        stalled.Release.Set();
        sink.Dispose();
        Assert.Contains("10 log line(s) dropped", Encoding.UTF8.GetString(stalled.Tail), StringComparison.Ordinal);
    }

    private sealed class StalledStream : Stream
    {
        private readonly MemoryStream _written = new();

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public byte[] Tail => _written.ToArray()[^200..];

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written.Length;

        public override long Position { get => _written.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Entered.Set();
            Release.Wait();
            _written.Write(buffer, offset, count);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

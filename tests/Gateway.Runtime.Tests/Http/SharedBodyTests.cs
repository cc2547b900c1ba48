using Gateway.Runtime.Http;

namespace Gateway.Runtime.Tests.Http;

public class SharedBodyTests
{
    [Fact]
    public async Task Release_WhileContentIsBeingSent_BytesStayUntilTheSendEnds()
    {
        SharedBody body = SharedBody.Copy("hello, backend"u8);
        HttpContent content = body.CreateContent();
        var stalled = new StalledStream();

        Task sending = content.CopyToAsync(stalled);
        await stalled.WriteStarted;

        // The request ended: the owner lets go and the request message (with its content) is disposed mid-send.
        body.Release();
        content.Dispose();
        Assert.True(body.IsAlive);

        stalled.Resume();
        await sending;
        Assert.Equal("hello, backend"u8.ToArray(), stalled.Written);
        Assert.False(body.IsAlive);
    }

    [Fact]
    public void Release_OwnerAfterContentDisposed_ReturnedOnce()
    {
        SharedBody body = SharedBody.Copy("x"u8);
        HttpContent first = body.CreateContent();
        HttpContent second = body.CreateContent();
        first.Dispose();
        first.Dispose();
        body.Release();
        Assert.True(body.IsAlive);
        second.Dispose();
        Assert.False(body.IsAlive);
        Assert.Throws<InvalidOperationException>(body.Release);
    }

    [Fact]
    public void CreateContent_AfterLastRelease_Refused()
    {
        SharedBody body = SharedBody.Copy("x"u8);
        body.Release();
        Assert.Throws<ObjectDisposedException>(() => body.CreateContent());
    }

    [Fact]
    public async Task CreateContent_DeclaresLengthAndSendsBytes()
    {
        SharedBody body = SharedBody.Copy("{\"a\":1}"u8);
        using HttpContent content = body.CreateContent();
        body.Release();
        Assert.Equal(7, content.Headers.ContentLength);
        Assert.Equal("{\"a\":1}", await content.ReadAsStringAsync());
    }

    /// <summary>A stream whose first write waits until the test resumes it, as a socket to a slow reader does.</summary>
    private sealed class StalledStream : Stream
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly MemoryStream _written = new();

        public Task WriteStarted => _started.Task;

        public byte[] Written => _written.ToArray();

        public void Resume() => _resume.SetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _started.TrySetResult();
            await _resume.Task;
            _written.Write(buffer.Span); // read only now, after the owner released the body
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written.Length;

        public override long Position { get => _written.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

using Gateway.Runtime.Http;

namespace Gateway.Runtime.Tests.Http;

public class BufferTests
{
    [Fact]
    public void Rent_LargerThanPooled_NeverReused()
    {
        byte[] large = BufferPool.Rent(BufferPool.MaxPooledLength + 1);
        BufferPool.Return(large);
        for (int i = 0; i < 16; i++)
        {
            byte[] again = BufferPool.Rent(BufferPool.MaxPooledLength + 1);
            Assert.NotSame(large, again);
        }
    }

    [Fact]
    public void Rent_Small_ComesFromThePool()
    {
        byte[] small = BufferPool.Rent(4096);
        BufferPool.Return(small);
        Assert.Same(small, BufferPool.Rent(4096));
    }

    [Fact]
    public void BodyBuffer_UnknownLength_NeverHoldsMoreThanLimitPlusOne()
    {
        var budget = new BufferBudget(long.MaxValue);
        const int limit = 3 * 1024 * 1024;
        var body = new BodyBuffer(budget, limit);
        {
            while (body.Length <= limit)
            {
                Assert.True(body.TryGetMemory(0, out Memory<byte> memory));
                Assert.False(memory.IsEmpty);
                body.Advance(memory.Length);
            }

            // Reads stop one byte past the limit; the budget holds the arrays, which the pool may round up a little.
            Assert.Equal(limit + 1, body.Length);
            Assert.InRange(budget.InUse, limit + 1, limit + 1 + (64 * 1024));
            body.Dispose();
        }

        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void BodyBuffer_Segments_JoinedInOrder()
    {
        var budget = new BufferBudget(long.MaxValue);
        var expected = new byte[100_000];
        new Random(7).NextBytes(expected);
        var body = new BodyBuffer(budget, 1 << 20);
        int offset = 0;
        while (offset < expected.Length)
        {
            Assert.True(body.TryGetMemory(0, out Memory<byte> memory));
            int take = Math.Min(memory.Length, Math.Min(3000, expected.Length - offset));
            expected.AsSpan(offset, take).CopyTo(memory.Span);
            body.Advance(take);
            offset += take;
        }

        Assert.True(body.TryDetach(out PooledBuffer? joined));
        Assert.True(expected.AsSpan().SequenceEqual(joined.WrittenSpan));
        Assert.Equal(joined.Capacity, budget.InUse);
        joined.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void BodyBuffer_DeclaredLength_OneArrayNoCopy()
    {
        var budget = new BufferBudget(long.MaxValue);
        var body = new BodyBuffer(budget, 1 << 20);
        Assert.True(body.TryGetMemory(5000, out Memory<byte> memory));
        Assert.True(memory.Length >= 5001);
        body.Advance(5000);
        Assert.True(body.TryDetach(out PooledBuffer? joined));
        Assert.Equal(5000, joined.Length);
        joined.Dispose();
    }

    [Fact]
    public void BodyBuffer_OverBudget_FailsAndDisposeReturnsEverything()
    {
        var budget = new BufferBudget(64 * 1024);
        var body = new BodyBuffer(budget, int.MaxValue - 1);
        {
            while (body.TryGetMemory(0, out Memory<byte> memory))
            {
                body.Advance(memory.Length);
            }

            Assert.InRange(budget.InUse, 1, 64 * 1024);
            body.Dispose();
        }

        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void TryReserve_PastTheLimit_NothingReserved()
    {
        var budget = new BufferBudget(100);
        Assert.True(budget.TryReserve(60));
        Assert.False(budget.TryReserve(41));
        Assert.Equal(60, budget.InUse);
        budget.Release(60);
        Assert.True(budget.TryReserve(100));
    }

    [Theory]
    [InlineData("plain value", true)]
    [InlineData("tab\tinside", true)]
    [InlineData("caf\u00e9", false)]
    [InlineData("line\r\nbreak", false)]
    [InlineData("nul\0", false)]
    [InlineData("del\u007f", false)]
    public void HttpRules_IsHeaderValue(string value, bool valid)
    {
        Assert.Equal(valid, Gateway.Http.HttpRules.IsHeaderValue(value));
        Assert.Equal(valid, Gateway.Http.HttpRules.IsHeaderValue(System.Text.Encoding.Latin1.GetBytes(value)));
    }

    [Fact]
    public void HttpRules_IsToken_EveryByte_AsRfc9110Tchar()
    {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        for (int b = 0; b < 256; b++)
        {
            bool tchar = char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~".Contains((char)b, StringComparison.Ordinal);
            byte[] name = [(byte)'X', (byte)b, (byte)'y'];
            Assert.True(tchar == Gateway.Http.HttpRules.IsToken(name), $"byte 0x{b:X2}");
            Assert.True(tchar == Gateway.Http.HttpRules.IsToken(System.Text.Encoding.Latin1.GetString(name)), $"char 0x{b:X2}");
        }

        Assert.False(Gateway.Http.HttpRules.IsToken(ReadOnlySpan<byte>.Empty));
        Assert.True(Gateway.Http.HttpRules.IsToken("Content-Type"u8));
    }
}

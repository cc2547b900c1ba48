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
    public void TryGetReadMemory_NeverGrowsPastLimitPlusOne()
    {
        var budget = new BufferBudget(long.MaxValue);
        using PooledBuffer body = PooledBuffer.ForBody(budget);
        const int limit = 3 * 1024 * 1024;
        while (body.Length <= limit)
        {
            Assert.True(body.TryGetReadMemory(4096, limit, out Memory<byte> memory));
            body.Advance(memory.Length);
        }

        Assert.Equal(limit + 1, body.Length);
        Assert.Equal(limit + 1, body.Capacity);
        Assert.Equal(body.Capacity, budget.InUse);
    }

    [Fact]
    public void TryGetReadMemory_OverBudget_FailsAndDisposeReturnsEverything()
    {
        var budget = new BufferBudget(64 * 1024);
        using (PooledBuffer body = PooledBuffer.ForBody(budget))
        {
            bool grew = true;
            while (grew)
            {
                grew = body.TryGetReadMemory(4096, int.MaxValue - 1, out Memory<byte> memory);
                body.Advance(memory.Length);
            }

            Assert.InRange(budget.InUse, 1, 64 * 1024);
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
    public void HeaderRules_IsValidValue(string value, bool valid)
    {
        Assert.Equal(valid, HeaderRules.IsValidValue(value));
        Assert.Equal(valid, HeaderRules.IsValidValue(System.Text.Encoding.Latin1.GetBytes(value)));
    }
}

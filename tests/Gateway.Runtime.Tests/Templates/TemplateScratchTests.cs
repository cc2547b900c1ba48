using Gateway.Runtime.Templates;

namespace Gateway.Runtime.Tests.Templates;

/// <summary>
/// The thread-static template buffer is handed out only through a lease (a <c>ref struct</c>, which the compiler does
/// not let live across an <c>await</c>); these tests hold the run-time half: no second holder on the same thread.
/// </summary>
public sealed class TemplateScratchTests
{
    [Fact]
    public void Rent_WhileLeasedOnTheSameThread_Throws()
    {
        using TemplateScratch.Lease first = TemplateScratch.Rent();
        first.Values.Write("[1]"u8);

        Assert.Throws<InvalidOperationException>(() =>
        {
            using TemplateScratch.Lease second = TemplateScratch.Rent();
        });
        Assert.Equal("[1]"u8.ToArray(), first.Values.WrittenSpan.ToArray());
    }

    [Fact]
    public void Rent_AfterTheLeaseEnded_EmptyBufferAgain()
    {
        using (TemplateScratch.Lease first = TemplateScratch.Rent())
        {
            first.Values.Write("[1]"u8);
        }

        using TemplateScratch.Lease again = TemplateScratch.Rent();
        Assert.Equal(0, again.Values.Length);
    }

    [Fact]
    public void Lease_GrewPastSixtyFourKilobytes_NotKeptByTheThread()
    {
        int grown;
        using (TemplateScratch.Lease lease = TemplateScratch.Rent())
        {
            lease.Values.Write(new byte[100 * 1024]);
            grown = lease.Values.Capacity;
        }

        using TemplateScratch.Lease next = TemplateScratch.Rent();
        Assert.True(next.Values.Capacity < grown, $"{next.Values.Capacity} of {grown} kept");
    }
}

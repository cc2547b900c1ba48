using System.Collections.Concurrent;
using Gateway.Runtime.Telemetry;

namespace Gateway.Runtime.Tests.Telemetry;

public class LogThrottleTests
{
    private const long Second = LogThrottle.IntervalMilliseconds;

    [Fact]
    public void Count_OneThread_FirstEventAtOnceThenOneLineASecondWithTheCountSince()
    {
        var throttle = new LogThrottle();
        const long start = 5_000;

        Assert.Equal((true, 1), Count(throttle, start));
        Assert.Equal((false, 0), Count(throttle, start + 1));
        Assert.Equal((false, 0), Count(throttle, start + Second - 1));
        Assert.Equal((true, 3), Count(throttle, start + Second));
        Assert.Equal((false, 0), Count(throttle, start + (2 * Second) - 1));

        // A quiet spell longer than a second: the next event writes at once, counting the one held since the last line.
        Assert.Equal((true, 2), Count(throttle, start + (10 * Second)));
        Assert.Equal((true, 1), Count(throttle, start + (11 * Second)));
    }

    [Fact]
    public void Count_ManyThreadsWithinOneSecond_OneLineAndEveryEventCountedOnce()
    {
        var throttle = new LogThrottle();
        const long start = 5_000;
        const int events = 20_000;
        var lines = new ConcurrentQueue<(long At, int Count)>();

        Parallel.For(0, events, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            long at = start + (i % Second);
            if (throttle.Count(at, out int count))
            {
                lines.Enqueue((at, count));
            }
        });

        (long At, int Count) first = Assert.Single(lines);
        Assert.InRange(first.Count, 1, events);

        // The events the first line did not count are counted by the next one, a second after it.
        Assert.Equal((true, events - first.Count + 1), Count(throttle, first.At + Second));
    }

    [Fact]
    public void Count_ManyThreadsOverSeveralSeconds_AtMostOneLineASecondAndTheCountsAddUpToTheEvents()
    {
        var throttle = new LogThrottle();
        const long start = 5_000;
        const int events = 40_000;
        const int seconds = 4;
        var lines = new ConcurrentQueue<(long At, int Count)>();
        int next = -1;

        // Each thread takes the next event, at a time that only moves forward, as a clock would.
        Parallel.For(0, 8, _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < events)
            {
                long at = start + ((long)i * seconds * Second / events);
                if (throttle.Count(at, out int count))
                {
                    lines.Enqueue((at, count));
                }
            }
        });
        Assert.True(throttle.Count(start + (seconds * Second) + Second, out int last));

        long[] times = [.. lines.Select(line => line.At).Order()];
        Assert.InRange(times.Length, 1, seconds);
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.True(pair.Second - pair.First >= Second, $"{pair.First} -> {pair.Second}"));
        Assert.Equal(events + 1, lines.Sum(line => line.Count) + last);
    }

    private static (bool Line, int Count) Count(LogThrottle throttle, long at) => (throttle.Count(at, out int count), count);
}

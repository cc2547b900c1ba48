using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Proxy;

namespace Gateway.Runtime.Tests.Proxy;

public class StepOutcomeTests
{
    [Fact]
    public void Awaiters_ContinueInTheOrderTheyWaited_OnTheThreadThatEndedTheCall()
    {
        var call = new TaskCompletionSource<BackendResult>();
        var step = new StepOutcome(call.Task);
        var continued = new List<(int Awaiter, int Thread)>();
        Task[] awaiters = [AwaitAsync(step, 1, continued), AwaitAsync(step, 2, continued), AwaitAsync(step, 3, continued)];
        Assert.False(step.IsCompleted);

        int ending = EndOnThreadOfItsOwn(call, BackendResult.NotCalled);

        // Every awaiter ran before SetResult returned, on that thread: none was queued to the thread pool.
        Assert.Equal([(1, ending), (2, ending), (3, ending)], continued);
        Assert.All(awaiters, awaiter => Assert.True(awaiter.IsCompletedSuccessfully));
        Assert.True(step.IsCompleted);
    }

    [Fact]
    public async Task ATaskAwaitedThrice_ContinuesOnlyItsFirstAwaiterOnTheEndingThread()
    {
        // Why StepOutcome exists: .NET sends every await continuation of a task but the first to the thread pool.
        var call = new TaskCompletionSource<BackendResult>();
        var continued = new List<(int Awaiter, int Thread)>();
        Task[] awaiters = [AwaitTaskAsync(call.Task, 1, continued), AwaitTaskAsync(call.Task, 2, continued), AwaitTaskAsync(call.Task, 3, continued)];

        int ending = EndOnThreadOfItsOwn(call, BackendResult.NotCalled);
        await Task.WhenAll(awaiters);

        Assert.Equal(ending, continued.Single(c => c.Awaiter == 1).Thread);
        Assert.All(continued.Where(c => c.Awaiter != 1), c => Assert.NotEqual(ending, c.Thread));
    }

    [Fact]
    public async Task EndedCall_IsCompletedAtOnce_AndAwaitingItDoesNotWait()
    {
        var step = new StepOutcome(Task.FromResult(BackendResult.SkippedStep));

        Assert.True(step.IsCompleted);
        int before = Environment.CurrentManagedThreadId;
        BackendResult result = await step;
        Assert.Same(BackendResult.SkippedStep, result);
        Assert.Equal(before, Environment.CurrentManagedThreadId);
    }

    [Fact]
    public async Task FailedCall_EveryAwaiterGetsItsException()
    {
        var call = new TaskCompletionSource<BackendResult>();
        var step = new StepOutcome(call.Task);
        var continued = new List<(int Awaiter, int Thread)>();
        Task first = AwaitAsync(step, 1, continued);
        Task second = AwaitAsync(step, 2, continued);

        call.SetException(new InvalidOperationException("stage threw"));

        Assert.Equal("stage threw", (await Assert.ThrowsAsync<InvalidOperationException>(() => first)).Message);
        Assert.Equal("stage threw", (await Assert.ThrowsAsync<InvalidOperationException>(() => second)).Message);
        Assert.Empty(continued);
    }

    [Fact]
    public void OnCompleted_RunsTheContinuationInTheExecutionContextOfTheAwaiter()
    {
        var call = new TaskCompletionSource<BackendResult>();
        var step = new StepOutcome(call.Task);
        var flowing = new AsyncLocal<string>();
        string? seen = null;
        flowing.Value = "awaiter's";
        step.OnCompleted(() => seen = flowing.Value);
        flowing.Value = "changed after";

        EndOnThreadOfItsOwn(call, BackendResult.NotCalled);

        Assert.Equal("awaiter's", seen);
    }

    [Fact]
    public void AwaitersRegisteringWhileTheCallEnds_EachContinuesExactlyOnce()
    {
        for (int round = 0; round < 100; round++)
        {
            var call = new TaskCompletionSource<BackendResult>();
            var step = new StepOutcome(call.Task);
            int continued = 0;
            using var start = new Barrier(5);
            Thread[] registering = new Thread[4];
            for (int t = 0; t < registering.Length; t++)
            {
                registering[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    for (int i = 0; i < 25; i++)
                    {
                        step.UnsafeOnCompleted(() => Interlocked.Increment(ref continued));
                    }
                });
                registering[t].Start();
            }

            start.SignalAndWait();
            call.SetResult(BackendResult.NotCalled);
            foreach (Thread thread in registering)
            {
                thread.Join();
            }

            // Those that registered after the end went to the thread pool: every one runs, none twice.
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref continued) >= 100, TimeSpan.FromSeconds(10)), $"round {round}: {continued} of 100");
            Thread.Sleep(1);
            Assert.Equal(100, Volatile.Read(ref continued));
            Assert.True(step.IsCompleted);
        }
    }

    private static async Task AwaitAsync(StepOutcome step, int awaiter, List<(int, int)> continued)
    {
        _ = await step;
        continued.Add((awaiter, Environment.CurrentManagedThreadId));
    }

    private static async Task AwaitTaskAsync(Task<BackendResult> call, int awaiter, List<(int, int)> continued)
    {
        _ = await call.ConfigureAwait(false);
        lock (continued)
        {
            continued.Add((awaiter, Environment.CurrentManagedThreadId));
        }
    }

    /// <summary>Ends the call on a new thread (as a loop thread would) and returns that thread's id once it is done.</summary>
    private static int EndOnThreadOfItsOwn(TaskCompletionSource<BackendResult> call, BackendResult result)
    {
        int id = 0;
        var thread = new Thread(() =>
        {
            id = Environment.CurrentManagedThreadId;
            call.SetResult(result);
        });
        thread.Start();
        thread.Join();
        return id;
    }
}

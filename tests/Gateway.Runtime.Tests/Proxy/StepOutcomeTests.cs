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

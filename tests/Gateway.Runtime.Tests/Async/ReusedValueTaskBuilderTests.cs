using System.Reflection;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Gateway.Runtime.Async;

// These tests look at a ValueTask's box, and read one result twice on purpose.
#pragma warning disable CA2012

namespace Gateway.Runtime.Tests.Async;

/// <summary>
/// <see cref="ReusedValueTaskBuilder{TResult}"/>: an async method built with it behaves as one built by .NET's builder
/// (results, exceptions, execution context), and its box serves call after call without keeping anything of the calls.
/// </summary>
public class ReusedValueTaskBuilderTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task AMethodThatNeverWaits_ReturnsItsResultWithoutABox()
    {
        ValueTask<int> call = Immediate(41);

        Assert.True(call.IsCompletedSuccessfully);
        Assert.Null(SourceOf(call));
        Assert.Equal(42, await call);
    }

    [Fact]
    public async Task AMethodThatWaits_ReturnsItsResultWhenTheGateOpens()
    {
        var gate = new Gate();
        ValueTask<int> call = AfterGate(gate, 1);

        Assert.False(call.IsCompleted);
        gate.Open(10);
        Assert.Equal(11, await call);
    }

    [Fact]
    public async Task AnException_ReachesTheCaller_BeforeOrAfterTheFirstWait()
    {
        var gate = new Gate();
        ValueTask<int> early = Throwing(gate, beforeWait: true);
        ValueTask<int> late = Throwing(gate, beforeWait: false);
        gate.Open(0);

        Assert.Equal("before", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await early)).Message);
        Assert.Equal("after", (await Assert.ThrowsAsync<InvalidOperationException>(async () => await late)).Message);
    }

    [Fact]
    public async Task OneCallAfterAnother_UsesTheSameBox()
    {
        var gate = new Gate();
        ValueTask<int> first = AfterGate(gate, 0);
        object? box = SourceOf(first);
        gate.Open(1);
        Assert.Equal(1, await first);

        // The same thread, nothing else in flight: the box the first call gave back is the next call's.
        ValueTask<int> second = AfterGate(gate, 0);
        Assert.Same(box, SourceOf(second));
        gate.Open(2);
        Assert.Equal(2, await second);
    }

    [Fact]
    public async Task CallsInFlightTogether_EachHaveABoxAndTheirOwnResult()
    {
        const int Calls = 200; // more than a thread's pool holds: the rest are new boxes, dropped or kept in reserve
        var gates = new Gate[Calls];
        var calls = new ValueTask<int>[Calls];
        for (int i = 0; i < Calls; i++)
        {
            gates[i] = new Gate();
            calls[i] = AfterGate(gates[i], i * 1000);
        }

        Assert.Equal(Calls, calls.Select(SourceOf).Distinct(ReferenceEqualityComparer.Instance).Count());

        // Opened in reverse order, from other threads: each result is its own call's.
        await Task.WhenAll(Enumerable.Range(0, Calls).Reverse().Select(i => Task.Run(() => gates[i].Open(i))));
        for (int i = 0; i < Calls; i++)
        {
            Assert.Equal((i * 1000) + i, await calls[i]);
        }
    }

    [Fact]
    public async Task AResultReadTwice_FailsInsteadOfReadingAnotherCallsResult()
    {
        var gate = new Gate();
        ValueTask<int> call = AfterGate(gate, 0);
        gate.Open(5);
        Assert.Equal(5, await call);

        // The box went back to the pool: the old token no longer reads it, and the failed read did not give the box
        // back a second time (two calls in flight would then share it).
        Assert.Throws<InvalidOperationException>(() => call.Result);
        Gate one = new(), two = new();
        ValueTask<int> first = AfterGate(one, 100), second = AfterGate(two, 200);
        Assert.NotSame(SourceOf(first), SourceOf(second));
        two.Open(2);
        one.Open(1);
        Assert.Equal(101, await first);
        Assert.Equal(202, await second);
    }

    [Fact]
    public async Task TheExecutionContext_FlowsIntoTheMethod_AndItsChangesStayInIt()
    {
        var gate = new Gate();
        Ambient.Value = "caller";
        ValueTask<string?> call = SeenAfterGate(gate);
        Assert.Equal("caller", Ambient.Value);

        // Opened where the ambient value is different: the method continues under the context it waited in.
        await Task.Run(() =>
        {
            Ambient.Value = "opener";
            gate.Open(0);
        });
        Assert.Equal("caller|inside", await call);
        Assert.Equal("caller", Ambient.Value);
    }

    [Fact]
    public async Task ABoxBackInThePool_KeepsNothingOfTheCallItServed()
    {
        var gate = new Gate();
        WeakReference argument = await CallWithGarbage(gate);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(argument.IsAlive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> CallWithGarbage(Gate gate)
    {
        var payload = new byte[1024];
        ValueTask<int> call = Holding(gate, payload);
        gate.Open(1);
        Assert.Equal(1024 + 1, await call);
        return new WeakReference(payload);
    }

    [AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<int> Immediate(int value)
    {
        await Task.CompletedTask;
        return value + 1;
    }

    [AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<int> AfterGate(Gate gate, int offset) => offset + await gate.WaitAsync();

    [AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<int> Holding(Gate gate, byte[] payload) => payload.Length + await gate.WaitAsync();

    [AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<int> Throwing(Gate gate, bool beforeWait)
    {
        if (beforeWait)
        {
            throw new InvalidOperationException("before");
        }

        await gate.WaitAsync();
        throw new InvalidOperationException("after");
    }

    [AsyncMethodBuilder(typeof(ReusedValueTaskBuilder<>))]
    private static async ValueTask<string?> SeenAfterGate(Gate gate)
    {
        string? before = Ambient.Value;
        Ambient.Value = "inside";
        await gate.WaitAsync();
        return before + "|" + Ambient.Value;
    }

    /// <summary>The object behind a ValueTask: null for a result, the box for a call that waited.</summary>
    private static object? SourceOf<T>(ValueTask<T> task) =>
        typeof(ValueTask<T>).GetField("_obj", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(task);

    /// <summary>A wait the test ends, one value at a time.</summary>
    private sealed class Gate : IValueTaskSource<int>
    {
        private ManualResetValueTaskSourceCore<int> _core;

        public ValueTask<int> WaitAsync() => new(this, _core.Version);

        public void Open(int value) => _core.SetResult(value);

        public int GetResult(short token)
        {
            int value = _core.GetResult(token);
            _core.Reset();
            return value;
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}

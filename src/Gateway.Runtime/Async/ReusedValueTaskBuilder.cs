using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Gateway.Runtime.Async;

/// <summary>
/// The builder of an <c>async ValueTask&lt;T&gt;</c> method that waits on almost every call (a backend call waits for
/// its answer), put on the method with <c>[AsyncMethodBuilder(typeof(ReusedValueTaskBuilder&lt;&gt;))]</c>. When the
/// method first waits, the object that holds it while it waits (its box) comes from a pool, and goes back to the pool
/// as soon as the caller has read the result; a method that never waits uses no box at all.
/// </summary>
/// <remarks>
/// .NET's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> keeps one box per thread and one per core, which
/// serves a method that is rarely in flight more than once per core. A backend call is in flight once per request being
/// served (32 connections: 32 boxes), so that pool misses almost every time. This one keeps up to
/// <see cref="ReusedBox{TResult, TStateMachine}.ThreadDepth"/> boxes per thread, and a shared reserve for the boxes that
/// end on another thread than the one that started them.
/// <para>The contract is <see cref="ValueTask{TResult}"/>'s: the task is awaited (or read) exactly once. After that
/// its box belongs to another call.</para>
/// </remarks>
[StructLayout(LayoutKind.Auto)]
internal struct ReusedValueTaskBuilder<TResult>
{
    private ReusedBox<TResult>? _box;
    private Exception? _exception;
    private TResult _result;

#pragma warning disable CA1000 // The compiler calls the builder's static Create.
    public static ReusedValueTaskBuilder<TResult> Create() => default;
#pragma warning restore CA1000

    public readonly ValueTask<TResult> Task =>
        _box is { } box ? new ValueTask<TResult>(box, box.Version)
        : _exception is { } exception ? ValueTask.FromException<TResult>(exception)
        : new ValueTask<TResult>(_result);

    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine =>
        // AsyncTaskMethodBuilder.Start keeps no state of its own: it runs the method up to its first wait and puts back
        // the caller's execution context, whatever the method changed in it.
        AsyncTaskMethodBuilder.Create().Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Not called for a builder whose box holds the state machine itself.
    }

    public void SetResult(TResult result)
    {
        if (_box is null)
        {
            _result = result;
        }
        else
        {
            _box.SetResult(result);
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is null)
        {
            _exception = exception;
        }
        else
        {
            _box.SetException(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(Box(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(Box(ref stateMachine).MoveNextAction);

    /// <summary>The box the method continues in, with the execution context it continues under.</summary>
    private ReusedBox<TResult, TStateMachine> Box<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        ExecutionContext? context = ExecutionContext.Capture();
        if (_box is ReusedBox<TResult, TStateMachine> waiting)
        {
            // A later wait: the method already runs from its box.
            waiting.Context = context;
            return waiting;
        }

        ReusedBox<TResult, TStateMachine> box = ReusedBox<TResult, TStateMachine>.Rent();
        // Before the copy, so that both the box's copy and the caller's (which reads Task) know the box.
        _box = box;
        box.StateMachine = stateMachine;
        box.Context = context;
        return box;
    }
}

/// <summary>What a caller awaits: the result of a method that waited, signalled from its box.</summary>
internal abstract class ReusedBox<TResult> : IValueTaskSource<TResult>
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    internal short Version => _core.Version;

    internal void SetResult(TResult result) => _core.SetResult(result);

    internal void SetException(Exception exception) => _core.SetException(exception);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public TResult GetResult(short token)
    {
        // A stale token (the result read twice) or a call still running throws here, before the box is touched: it
        // stays the call's it is.
        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("The call has not ended: its result cannot be read yet.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Read once: the next use of the token fails, and the box serves another call.
            _core.Reset();
            Return();
        }
    }

    /// <summary>Forgets the method and goes back to the pool.</summary>
    private protected abstract void Return();
}

/// <summary>The box of one async method: its state machine, kept between calls in a pool of its own.</summary>
internal sealed class ReusedBox<TResult, TStateMachine> : ReusedBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    /// <summary>Boxes kept per thread: more than the calls one thread has in flight under heavy load.</summary>
    internal const int ThreadDepth = 64;

    /// <summary>Boxes kept for all threads together, for calls that start on one thread and end on another.</summary>
    internal const int SharedDepth = 256;

    [ThreadStatic]
    private static ReusedBox<TResult, TStateMachine>?[]? t_pool;

    [ThreadStatic]
    private static int t_count;

    private static readonly ReusedBox<TResult, TStateMachine>?[] s_shared = new ReusedBox<TResult, TStateMachine>?[SharedDepth];
    private static readonly Lock s_sharedLock = new();
    private static int s_sharedCount;

    private static readonly ContextCallback s_moveNext = static box => ((ReusedBox<TResult, TStateMachine>)box!).StateMachine.MoveNext();

    internal ReusedBox() => MoveNextAction = MoveNext;

#pragma warning disable SA1401 // The builder copies the state machine in and the continuation runs it in place.
    internal TStateMachine StateMachine = default!;

    internal ExecutionContext? Context;
#pragma warning restore SA1401

    /// <summary>The continuation the awaited operation calls: made once per box, not once per wait.</summary>
    internal Action MoveNextAction { get; }

    internal static ReusedBox<TResult, TStateMachine> Rent()
    {
        ReusedBox<TResult, TStateMachine>?[]? pool = t_pool;
        if (pool is not null && t_count > 0)
        {
            int last = --t_count;
            ReusedBox<TResult, TStateMachine> box = pool[last]!;
            pool[last] = null;
            return box;
        }

        if (Volatile.Read(ref s_sharedCount) > 0)
        {
            lock (s_sharedLock)
            {
                if (s_sharedCount > 0)
                {
                    int last = --s_sharedCount;
                    ReusedBox<TResult, TStateMachine> box = s_shared[last]!;
                    s_shared[last] = null;
                    return box;
                }
            }
        }

        return new ReusedBox<TResult, TStateMachine>();
    }

    private protected override void Return()
    {
        StateMachine = default!;
        Context = null;
        ReusedBox<TResult, TStateMachine>?[] pool = t_pool ??= new ReusedBox<TResult, TStateMachine>?[ThreadDepth];
        if (t_count < pool.Length)
        {
            pool[t_count++] = this;
            return;
        }

        lock (s_sharedLock)
        {
            if (s_sharedCount < s_shared.Length)
            {
                s_shared[s_sharedCount++] = this;
            }
        }
    }

    private void MoveNext()
    {
        ExecutionContext? context = Context;
        if (context is null)
        {
            StateMachine.MoveNext();
        }
        else
        {
            ExecutionContext.Run(context, s_moveNext, this);
        }
    }
}

using System.Runtime.CompilerServices;
using Gateway.Runtime.Forwarding;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// A step of a dependency graph (<c>gateway/step.depends_on</c>) as the steps that depend on it and the handler await
/// it: the step's result once its call has ended, every awaiter continued in turn, in the order they started waiting, on
/// the thread that ended the call.
/// </summary>
/// <remarks>
/// A <see cref="Task"/> awaited more than once continues its first awaiter on the thread that completes it and queues
/// every other one to the thread pool. In a graph most steps have several awaiters (each step that depends on them,
/// and the handler), so the rest of the request (later calls, merging, writing the answer) moved off the event loop
/// that read it onto thread-pool threads: a quarter of the diamond's CPU per request ran there, with a thread switch
/// each way (docs/architecture.md, "What runs when"). Here the step's task has one awaiter, this object.
/// <para>Continuing awaiters on the completing thread is what an await with <c>ConfigureAwait(false)</c> does for a
/// single awaiter; a stack too deep to continue on, or an awaiter that registers after the call ended but before it
/// saw it end, goes to the thread pool as a <see cref="Task"/> would send it.</para>
/// </remarks>
public sealed class StepOutcome : ICriticalNotifyCompletion
{
    /// <summary>What <see cref="_awaiters"/> holds once the call ended.</summary>
    private static readonly object s_ended = new();

    private readonly Task<BackendResult> _call;

    /// <summary>
    /// The awaiters so far, changed only by compare-and-swap: none (null), one (an <see cref="Action"/>), several (an
    /// array, in the order they started waiting), or <see cref="s_ended"/>. No lock, no list: a step costs this object,
    /// the continuation it gives its call and, past one awaiter, a small array per added one.
    /// </summary>
    private object? _awaiters;

    /// <summary>Awaits <paramref name="call"/>, the step's only awaiter.</summary>
    public StepOutcome(Task<BackendResult> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _call = call;
        if (call.IsCompleted)
        {
            _awaiters = s_ended;
        }
        else
        {
            call.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(End);
        }
    }

    /// <summary>True once the step's call has ended and its awaiters have been (or are being) continued.</summary>
    public bool IsCompleted => ReferenceEquals(Volatile.Read(ref _awaiters), s_ended);

    /// <summary>The awaiter of <c>await step</c>: this object.</summary>
    public StepOutcome GetAwaiter() => this;

    /// <summary>The step's result; rethrows what its call threw.</summary>
    public BackendResult GetResult() => _call.GetAwaiter().GetResult();

    /// <inheritdoc/>
    public void OnCompleted(Action continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ExecutionContext? context = ExecutionContext.Capture();
        UnsafeOnCompleted(context is null ? continuation : () => ExecutionContext.Run(context, static state => ((Action)state!)(), continuation));
    }

    /// <inheritdoc/>
    public void UnsafeOnCompleted(Action continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        object? current = Volatile.Read(ref _awaiters);
        while (!ReferenceEquals(current, s_ended))
        {
            object added = current switch
            {
                null => continuation,
                Action one => new[] { one, continuation },
                _ => Append((Action[])current, continuation),
            };
            object? seen = Interlocked.CompareExchange(ref _awaiters, added, current);
            if (ReferenceEquals(seen, current))
            {
                return;
            }

            current = seen;
        }

        // The call ended between the awaiter's IsCompleted and this registration (it ran on another loop).
        Queue(continuation);
    }

    private static Action[] Append(Action[] awaiters, Action continuation)
    {
        var more = new Action[awaiters.Length + 1];
        awaiters.CopyTo(more, 0);
        more[^1] = continuation;
        return more;
    }

    private void End()
    {
        switch (Interlocked.Exchange(ref _awaiters, s_ended))
        {
            case Action one:
                Continue(one);
                break;
            case Action[] several:
                foreach (Action continuation in several)
                {
                    Continue(continuation);
                }

                break;
        }
    }

    private static void Continue(Action continuation)
    {
        if (RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            continuation();
        }
        else
        {
            Queue(continuation);
        }
    }

    private static void Queue(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static action => action(), continuation, preferLocal: true);
}

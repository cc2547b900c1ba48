using Gateway.Components.RequestTemplates;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Gateway.Runtime.Telemetry;
using Gateway.Runtime.Templates;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// The state of one client request while its backends run: route values, what the client forwards, the time budget
/// and each backend's result.
/// </summary>
/// <remarks>
/// The exchange owns every call it starts. It is disposed only asynchronously, and disposal first waits for every
/// call to end (cancelled or not), so no buffer a call reads or writes (the request body, earlier results) can be
/// released, and handed to another request by the pool, while that call still runs. A call never throws: whatever a
/// step throws becomes that step's failure (<see cref="BackendFailure.Internal"/>), logged, and the others go on.
/// </remarks>
public sealed class ProxyExchange : IAsyncDisposable
{
    /// <summary>Share of the endpoint timeout given to the backends of a multi-backend endpoint, leaving time to answer (docs/compatibility.md, 85 % merge budget).</summary>
    private const double MergeBudgetShare = 0.85;

    /// <summary>Share of the endpoint timeout given to <c>concurrent_calls</c> (docs/compatibility.md, 85 % merge budget).</summary>
    private const double ConcurrentBudgetShare = 0.75;

    private readonly BackendResult[] _results;

    /// <summary>Each step's duration, for <c>Server-Timing</c>; null unless the endpoint asks for it.</summary>
    private readonly double[]? _stepMilliseconds;
    private Exception?[]? _renderFaults;

    // Calls started and not yet ended; disposal waits for zero (signalled through _drained when it must wait).
    private int _inFlight;
    private TaskCompletionSource? _drained;
    private readonly CancellationTokenSource _budget;
    private readonly CancellationTokenRegistration _aborted;
    private readonly int _maxResponseBodyBytes;

    internal ProxyExchange(HttpContext context, string[] routeValues, ForwardedRequest forwarded, EndpointDefinition endpoint, BackendDefinition[] backends, int maxResponseBodyBytes, bool chained = false, string template = GatewayTelemetry.Unmatched, RequestRecord? record = null, TimeSpan spent = default)
    {
        Template = template;
        Record = record;
        Context = context;
        RouteValues = routeValues;
        Forwarded = forwarded;
        Endpoint = endpoint;
        Backends = backends;
        _maxResponseBodyBytes = maxResponseBodyBytes;
        _results = new BackendResult[backends.Length];
        Array.Fill(_results, BackendResult.NotCalled);
        _stepMilliseconds = endpoint.ServerTiming ? new double[backends.Length] : null;
        double share = endpoint.ConcurrentCalls > 1 ? ConcurrentBudgetShare : backends.Length > 1 || chained ? MergeBudgetShare : 1.0;
        // The budget ends when the client goes away or the time is up: a reused source (BudgetSources), cancelled by
        // the client's abort, instead of a new linked source and timer per request.
        _budget = BudgetSources.Rent();
        _aborted = context.RequestAborted.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _budget);
        // The time the client's body took to arrive is already spent: the timeout bounds the whole request.
        TimeSpan left = (endpoint.Timeout * share) - spent;
        _budget.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    public HttpContext Context { get; }

    /// <summary>Decoded route parameter values, in path order.</summary>
    public string[] RouteValues { get; }

    /// <summary>The query, headers and body the client's request passes on.</summary>
    public ForwardedRequest Forwarded { get; }

    public EndpointDefinition Endpoint { get; }

    public BackendDefinition[] Backends { get; }

    public IReadOnlyList<BackendResult> Results => _results;

    /// <summary>The endpoint's path template, as logs, metrics and spans name it.</summary>
    internal string Template { get; }

    /// <summary>The request's telemetry record; null when telemetry is off.</summary>
    internal RequestRecord? Record { get; }

    /// <summary>
    /// Calls <paramref name="backend"/> at <paramref name="url"/>. A null URL means a value could not be put in it:
    /// the backend is not called and counts as failed (docs/compatibility.md, unresolvable placeholder).
    /// </summary>
    public Task<BackendResult> SendAsync(BackendDefinition backend, string? url) => Start(backend, url, null, templated: false);

    /// <summary>
    /// Calls a backend whose configuration builds its body or headers (<c>"gateway/request"</c>). A null
    /// <paramref name="request"/> means a value could not be put in them: the backend is not called and counts as failed.
    /// </summary>
    public Task<BackendResult> SendAsync(BackendDefinition backend, string? url, BackendRequest? request) => Start(backend, url, request, templated: true);

    /// <summary>
    /// Called by a generated URL or request builder that threw: the step fails (<see cref="BackendFailure.Internal"/>)
    /// instead of the request, and the builder returns the null this returns.
    /// </summary>
    public T? RenderFailed<T>(BackendDefinition backend, Exception exception)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(backend);
        (_renderFaults ??= new Exception?[_results.Length])[backend.Index] = exception;
        return null;
    }

    /// <summary>Starts a call and counts it, so that disposal can wait for it.</summary>
    private Task<BackendResult> Start(BackendDefinition backend, string? url, BackendRequest? request, bool templated)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Interlocked.Increment(ref _inFlight);
        return SendCoreAsync(backend, url, request, templated);
    }

    private Task<BackendResult> SendCoreAsync(BackendDefinition backend, string? url, BackendRequest? request, bool templated) =>
        AttemptAsync(backend, url, request, templated, _renderFaults?[backend.Index], step: true);

    /// <summary>A call ended: disposal waits for none to be running.</summary>
    private void CallEnded()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>
    /// One call of a step, with its retries: logged and counted when it fails (or always, with telemetry), replaced by
    /// the step's fallback when it failed and has one. Owns <paramref name="request"/>. <paramref name="fault"/>: what the
    /// request's builder threw, if it did (the call is not made). <paramref name="step"/>: the call is the step's, not one
    /// element's of a for_each: its result becomes the step's, and the call counts as ended when this ends (one async
    /// layer for both).
    /// </summary>
    private async Task<BackendResult> AttemptAsync(BackendDefinition backend, string? url, BackendRequest? request, bool templated, Exception? fault, bool step)
    {
        try
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            // The span is current for the call, so the request it sends carries its traceparent (tracing only).
            System.Diagnostics.Activity? span = Record?.Telemetry.StartBackendSpan(Template, backend.Index, backend.Method);
            using BackendRequest? owned = request;
            BackendResult result;
            if (fault is not null)
            {
                result = BackendResult.Faulted(fault);
            }
            else if (url is null || (templated && request is null))
            {
                result = BackendResult.Failed(BackendFailure.UnresolvedPlaceholder);
            }
            else if (backend.Policy is { } policy)
            {
                result = await CallWithPolicyAsync(backend, policy, url, request).ConfigureAwait(false);
            }
            else
            {
                result = await CallAsync(backend, url, request, _budget.Token).ConfigureAwait(false);
            }

            if (!result.Succeeded || Record is not null)
            {
                Ended(backend, result, System.Diagnostics.Stopwatch.GetElapsedTime(started), span);
            }

            if (!result.Succeeded && backend.Fallback is { } fallback && result.Failure is not (BackendFailure.Canceled or BackendFailure.NotCalled))
            {
                // Logged and counted as what it was; the step's data is the fallback from here on.
                BackendFailure replaced = result.Failure;
                result.Dispose();
                result = BackendResult.Fallback(fallback, replaced);
            }

            if (step)
            {
                _results[backend.Index] = result;
            }

            return result;
        }
        finally
        {
            if (step)
            {
                CallEnded();
            }
        }
    }

    /// <summary>
    /// Runs a <c>for_each</c> step (docs/configuration.md, fan-out): one call per distinct element of the array
    /// <paramref name="plan"/> names in <paramref name="source"/>'s data, at most <see cref="ForEachPlan.Concurrency"/>
    /// at a time, each with the step's retries, timeout and fallback. The step's data is the array of the calls' data
    /// in the order of the elements; it is complete when every call was. An array with more than
    /// <see cref="ForEachPlan.MaxItems"/> elements fails the step (<see cref="BackendFailure.TooManyItems"/>) before any
    /// call; a missing array fails it as a missing value would; an empty one is an empty result.
    /// </summary>
    public Task<BackendResult> ForEachAsync(BackendDefinition backend, BackendResult source, StepCallBuilder build)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(build);
        Interlocked.Increment(ref _inFlight);
        return ForEachCoreAsync(backend, backend.ForEach ?? throw new ArgumentException("not a for_each step", nameof(backend)), source, build);
    }

    private async Task<BackendResult> ForEachCoreAsync(BackendDefinition backend, ForEachPlan plan, BackendResult source, StepCallBuilder build)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            BackendResult result;
            ForEachCalls? calls = null;
            try
            {
                calls = PrepareForEach(backend, plan, source, build, out BackendFailure refused);
                if (calls is null)
                {
                    result = BackendResult.Failed(refused);
                    Ended(backend, result, System.Diagnostics.Stopwatch.GetElapsedTime(started), null);
                }
                else
                {
                    int next = -1;
                    var workers = new Task[Math.Min(plan.Concurrency, calls.Count)];
                    for (int w = 0; w < workers.Length; w++)
                    {
                        workers[w] = RunCallsAsync();
                    }

                    await Task.WhenAll(workers).ConfigureAwait(false);
                    result = calls.Collect(plan);

                    async Task RunCallsAsync()
                    {
                        int u;
                        while ((u = Interlocked.Increment(ref next)) < calls.Count)
                        {
                            StepCall call = calls.Calls[u];
                            calls.Results[u] = await AttemptAsync(backend, call.Url, call.Request, call.Templated, calls.Faults[u], step: false).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (Exception e)
            {
                // A defect here fails the step, as a builder's would; the calls already made end with the exchange.
                result = BackendResult.Faulted(e);
                Ended(backend, result, System.Diagnostics.Stopwatch.GetElapsedTime(started), null);
            }
            finally
            {
                calls?.Dispose();
            }

            if (_stepMilliseconds is { } durations)
            {
                durations[backend.Index] = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            _results[backend.Index] = result;
            return result;
        }
        finally
        {
            CallEnded();
        }
    }

    /// <summary>
    /// The calls of a <c>for_each</c> step, one per distinct key, built in element order before any is sent; null (and
    /// why) when the array is missing or too long.
    /// </summary>
    private ForEachCalls? PrepareForEach(BackendDefinition backend, ForEachPlan plan, BackendResult source, StepCallBuilder build, out BackendFailure refused)
    {
        refused = BackendFailure.None;
        ReadOnlySpan<byte> body = source.Body;
        if (!Json.JsonValueLocator.TryLocate(body, plan.Array, out Json.JsonValueRange array) || array.Kind != System.Text.Json.JsonTokenType.StartArray)
        {
            refused = BackendFailure.UnresolvedPlaceholder;
            return null;
        }

        var elements = new List<Json.JsonValueRange>();
        if (!Json.JsonArrays.TryListElements(body.Slice(array.Start, array.Length), array.Start, plan.MaxItems, elements))
        {
            refused = BackendFailure.TooManyItems;
            return null;
        }

        var calls = new ForEachCalls(elements.Count);
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < elements.Count; k++)
        {
            ReadOnlySpan<byte> element = body.Slice(elements[k].Start, elements[k].Length);
            string? key = null;
            if (plan.Key is null)
            {
                key = System.Text.Encoding.UTF8.GetString(element);
            }
            else if (Json.JsonValueLocator.TryLocate(element, plan.Key, out Json.JsonValueRange found))
            {
                key = System.Text.Encoding.UTF8.GetString(element.Slice(found.Start, found.Length));
            }

            // Equal keys (as raw JSON: "1" is not 1) share one call; an element without its key gets a call of its own.
            if (key is not null && keys.TryGetValue(key, out int same))
            {
                calls.ElementCall[k] = same;
                continue;
            }

            int u = calls.Add(build(element));
            calls.ElementCall[k] = u;
            if (_renderFaults?[backend.Index] is { } fault)
            {
                calls.Faults[u] = fault;
                _renderFaults[backend.Index] = null;
            }

            if (key is not null)
            {
                keys.Add(key, u);
            }
        }

        return calls;
    }

    private ValueTask<BackendResult> CallAsync(BackendDefinition backend, string url, BackendRequest? request, CancellationToken budget) =>
        Endpoint.ConcurrentCalls == 1
            ? RequestPipeline.CallBackendAsync(Forwarded, backend, url, request, _maxResponseBodyBytes, Endpoint.Output == OutputEncoding.NoOp, Context.RequestAborted, budget, this)
            : new ValueTask<BackendResult>(SendConcurrentlyAsync(backend, url, request, budget));

    /// <summary>
    /// A step with its own time limit or retries (<see cref="StepPolicy"/>): each attempt under the step's timeout and
    /// the endpoint's budget; a retryable failure is tried again after the backoff while attempts and budget remain.
    /// </summary>
    private async Task<BackendResult> CallWithPolicyAsync(BackendDefinition backend, StepPolicy policy, string url, BackendRequest? request)
    {
        for (int attempt = 0; ; attempt++)
        {
            BackendResult result;
            if (policy.Timeout is { } timeout)
            {
                using var step = CancellationTokenSource.CreateLinkedTokenSource(_budget.Token);
                step.CancelAfter(timeout);
                result = await CallAsync(backend, url, request, step.Token).ConfigureAwait(false);
            }
            else
            {
                result = await CallAsync(backend, url, request, _budget.Token).ConfigureAwait(false);
            }

            if (result.Succeeded || attempt >= policy.Retries || !StepPolicy.Retryable(result) || _budget.IsCancellationRequested || Context.RequestAborted.IsCancellationRequested)
            {
                return result;
            }

            result.Dispose();
            try
            {
                await Task.Delay(policy.Delay(attempt), _budget.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return BackendResult.Failed(BackendFailure.Timeout);
            }
        }
    }

    /// <summary>
    /// The claims of the client's token, as the JSON object its payload holds, once the endpoint's <c>auth/validator</c>
    /// accepted it (<c>{JWT.claim}</c> placeholders read them); empty on an endpoint without one.
    /// </summary>
    public ReadOnlySpan<byte> Claims => _claims;

    private byte[]? _claims;

    internal void SetClaims(byte[] claims) => _claims = claims;
    /// <summary>Records that <paramref name="backend"/>'s step is skipped (its condition is false), and returns that result.</summary>
    public BackendResult Skip(BackendDefinition backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        _results[backend.Index] = BackendResult.SkippedStep;
        return BackendResult.SkippedStep;
    }

    /// <summary>How long step <paramref name="index"/> took, in milliseconds; null when not recorded (or not called).</summary>
    internal double? StepMilliseconds(int index) => _stepMilliseconds is { } durations && _results[index].Failure != BackendFailure.NotCalled && !_results[index].Skipped ? durations[index] : null;

    /// <summary>Logs a failed call (docs/operations.md: template, backend index, failure kind, status, duration) and records the call.</summary>

    private void Ended(BackendDefinition backend, BackendResult result, TimeSpan elapsed, System.Diagnostics.Activity? span)
    {
        if (_stepMilliseconds is { } durations)
        {
            durations[backend.Index] = elapsed.TotalMilliseconds;
        }

        if (result.Failure == BackendFailure.Internal)
        {
            GatewayLog.StepFailed(GatewayLog.For(Context), GatewayTelemetry.MethodName(Context.Request.Method), Template, backend.Index, result.Exception!);
        }
        else if (result.Failure is not (BackendFailure.None or BackendFailure.Canceled))
        {
            GatewayLog.BackendFailed(GatewayLog.For(Context), GatewayTelemetry.MethodName(Context.Request.Method), Template, backend.Index, BackendOutcome.Name(result.Failure), result.StatusCode, Math.Round(elapsed.TotalMilliseconds, 3));
        }

        Record?.Telemetry.BackendEnded(Record, Template, backend.Index, result, elapsed.TotalSeconds, span);
    }

    /// <summary>A header of the client's request (<c>{input_headers.Name}</c>), comma-joined when repeated; null when absent.</summary>
    public string? ClientHeader(string name) =>
        Context.Request.Headers.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues values) ? values.ToString() : null;

    /// <summary>The first value of a query parameter of the client's request (<c>{input_query.name}</c>); null when absent.</summary>
    public string? ClientQuery(string name) =>
        Context.Request.Query.TryGetValue(name, out Microsoft.Extensions.Primitives.StringValues values) && values.Count > 0 ? values[0] : null;

    /// <summary>
    /// What an endpoint stage keeps from before the backend calls to the answer (<c>modifier/lua-proxy</c>: its VM and
    /// the script's environment); disposed with the exchange, after every call ended.
    /// </summary>
    internal IDisposable? StageState { get; set; }

    /// <summary>A stage decided that the backends are not called (<c>modifier/lua-proxy</c>'s <c>skip_next</c>): the answer is composed from no data.</summary>
    internal bool BackendsSkipped { get; set; }

    /// <summary>The largest body accepted from a backend or a service.</summary>
    internal int MaxResponseBodyBytes => _maxResponseBodyBytes;

    /// <summary>The time budget of the backend calls (and of proxy-chain services).</summary>
    internal CancellationToken Budget => _budget.Token;

    /// <summary><c>concurrent_calls</c>: the same request several times; the first successful answer wins, the rest are cancelled.</summary>
    private async Task<BackendResult> SendConcurrentlyAsync(BackendDefinition backend, string url, BackendRequest? request, CancellationToken budget)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(budget);
        var calls = new List<Task<BackendResult>>(Endpoint.ConcurrentCalls);
        for (int i = 0; i < Endpoint.ConcurrentCalls; i++)
        {
            calls.Add(RequestPipeline.CallBackendAsync(Forwarded, backend, url, request, _maxResponseBodyBytes, Endpoint.Output == OutputEncoding.NoOp, Context.RequestAborted, race.Token, this).AsTask());
        }

        BackendResult? winner = null;
        BackendResult? last = null;
        while (calls.Count > 0)
        {
            Task<BackendResult> done = await Task.WhenAny(calls).ConfigureAwait(false);
            calls.Remove(done);
            BackendResult result = await done.ConfigureAwait(false);
            if (winner is null && result.Succeeded && result.Complete)
            {
                winner = result;
                await race.CancelAsync().ConfigureAwait(false);
                continue;
            }

            if (winner is null)
            {
                last?.Dispose();
                last = result;
            }
            else
            {
                result.Dispose();
            }
        }

        if (winner is not null)
        {
            last?.Dispose();
            return winner;
        }

        return last!;
    }

    /// <summary>
    /// The endpoint failed as a whole (a defect outside any step): its calls still running are cancelled. They are
    /// still waited for by <see cref="DisposeAsync"/> before anything is released.
    /// </summary>
    internal void Abandon() => _budget.Cancel();

    /// <summary>Waits for every call this exchange started to end, then releases their results and the time budget.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _inFlight) > 0)
        {
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _drained, drained);
            // Checked again after publishing: the last call may have ended in between, without seeing _drained.
            if (Volatile.Read(ref _inFlight) > 0)
            {
                await drained.Task.ConfigureAwait(false);
            }
        }

        // Every call has ended: nothing holds the budget's token any more, and the source can serve another request.
        _aborted.Dispose();
        BudgetSources.Return(_budget);
        StageState?.Dispose();
        foreach (BackendResult result in _results)
        {
            result.Dispose();
        }
    }
}

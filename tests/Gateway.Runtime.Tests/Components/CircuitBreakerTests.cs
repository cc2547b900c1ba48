using Gateway.Components.CircuitBreaker;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;

namespace Gateway.Runtime.Tests.Components;

public class CircuitBreakerTests
{
    private readonly ManualTime _time = new();
    private int _calls;

    [Fact]
    public async Task InvokeAsync_MoreThanMaxErrorsInARow_OpensAndStopsCalling()
    {
        var breaker = new CircuitBreaker(intervalSeconds: 0, timeoutSeconds: 10, maxErrors: 2, time: _time);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(BackendFailure.Status, (await breaker.InvokeAsync(Fail)).Failure);
        }

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.Equal(BackendFailure.CircuitOpen, (await breaker.InvokeAsync(Succeed)).Failure);
        Assert.Equal(3, _calls);
    }

    [Fact]
    public async Task InvokeAsync_SuccessBetweenFailures_CountStartsAgain()
    {
        var breaker = new CircuitBreaker(0, 10, maxErrors: 1, time: _time);
        await breaker.InvokeAsync(Fail);
        await breaker.InvokeAsync(Succeed);
        await breaker.InvokeAsync(Fail);
        Assert.Equal(CircuitState.Closed, breaker.State);
        await breaker.InvokeAsync(Fail);
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task InvokeAsync_AfterTimeout_OneProbeThenClosedOnSuccess()
    {
        var breaker = new CircuitBreaker(0, timeoutSeconds: 10, maxErrors: 0, time: _time);
        await breaker.InvokeAsync(Fail);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CircuitState.HalfOpen, breaker.State);

        // While the probe runs, other calls are refused.
        var probe = new TaskCompletionSource<BackendResult>();
        Task<BackendResult> probing = breaker.InvokeAsync(() => probe.Task);
        Assert.Equal(BackendFailure.CircuitOpen, (await breaker.InvokeAsync(Succeed)).Failure);
        probe.SetResult(Success());
        Assert.True((await probing).Succeeded);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task InvokeAsync_ProbeFails_OpenAgainForAnotherTimeout()
    {
        var breaker = new CircuitBreaker(0, timeoutSeconds: 5, maxErrors: 0, time: _time);
        await breaker.InvokeAsync(Fail);
        _time.Advance(TimeSpan.FromSeconds(5));
        await breaker.InvokeAsync(Fail);
        Assert.Equal(CircuitState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public async Task InvokeAsync_IntervalPasses_ClosedCountCleared()
    {
        var breaker = new CircuitBreaker(intervalSeconds: 60, timeoutSeconds: 10, maxErrors: 1, time: _time);
        await breaker.InvokeAsync(Fail);
        _time.Advance(TimeSpan.FromSeconds(61));
        await breaker.InvokeAsync(Fail);
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Theory]
    [InlineData(BackendFailure.Canceled)]
    [InlineData(BackendFailure.UnresolvedPlaceholder)]
    [InlineData(BackendFailure.RateLimited)]
    public async Task InvokeAsync_NotTheBackendsFault_NotCounted(BackendFailure failure)
    {
        var breaker = new CircuitBreaker(0, 10, maxErrors: 0, time: _time);
        await breaker.InvokeAsync(() => Task.FromResult(BackendResult.Failed(failure)));
        Assert.Equal(CircuitState.Closed, breaker.State);
    }

    [Fact]
    public async Task InvokeAsync_ErrorDetailsData_CountsAsFailure()
    {
        var breaker = new CircuitBreaker(0, 10, maxErrors: 0, time: _time);
        await breaker.InvokeAsync(() => Task.FromResult(BackendResult.Success(503, Json("{\"error_x\":{}}"), complete: false)));
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    private Task<BackendResult> Fail()
    {
        _calls++;
        return Task.FromResult(BackendResult.Failed(BackendFailure.Status, 503));
    }

    private Task<BackendResult> Succeed()
    {
        _calls++;
        return Task.FromResult(Success());
    }

    private static BackendResult Success() => BackendResult.Success(200, Json("{}"));

    private static PooledBuffer Json(string json)
    {
        var buffer = new PooledBuffer(64);
        buffer.Write(System.Text.Encoding.UTF8.GetBytes(json));
        return buffer;
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

using System.Net;
using System.Text.Json;

namespace Gateway.EndToEnd.Tests;

/// <summary>The dependency-graph gateway (Configs/flow.json): steps that wait for the steps they depend on, and no longer.</summary>
public sealed class FlowFixture : IAsyncLifetime
{
    public static readonly TimeSpan SlowStep = TimeSpan.FromMilliseconds(400);

    public TestBackend Services { get; private set; } = null!;

    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Attempts { get; } = new();

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Services = await TestBackend.StartAsync();
        Services.Answer("/user/1").WithJson("""{"id": 7, "name": "Ana"}""");
        Services.Answer("/user/2").WithJson("""{"id": 8, "name": "Bo"}""");
        Services.Answer("/orders").After(SlowStep).WithJson("""{"count": 3}""");
        Services.Answer("/profile/8").After(SlowStep).WithStatus(500).WithJson("""{"error": "down"}""");
        Services.Answer("/profile").After(SlowStep).WithJson("""{"tier": "gold"}""");
        Services.Answer("/summary").WithJson("""{"ok": true}""");
        Services.Answer("/loyalty").WithJson("""{"points": 120}""");
        Services.Answer("/count").WithJson("""{"n": 5}""");
        // /created/{id} for gateway/flow.pass_through: a 201 with headers, a 404 with headers, a 204, a 500.
        Services.Answer("/created/new").WithStatus(201).WithHeader("ETag", "\"v1\"").WithHeader("Location", "/items/9").WithHeader("X-Other", "no").WithJson("""{"id": 9}""");
        Services.Answer("/created/gone").WithStatus(404).WithHeader("ETag", "\"v0\"").WithJson("""{"error": "no such item"}""");
        Services.Answer("/created/empty").WithStatus(204);
        Services.Answer("/created/down").WithStatus(503).WithJson("""{"error": "down"}""");
        Services.Answer("/created/ok").WithHeader("ETag", "\"v2\"").WithJson("""{"id": 2}""");
        Services.Answer("/slow").After(TimeSpan.FromSeconds(2)).WithJson("""{"late": true}""");
        // /flaky/{n}-{key}: fails with 503 n times for each key, then answers.
        Services.On("flaky", context =>
        {
            string[] parts = context.Request.Path.Value!.Split('/')[2].Split('-');
            int attempt = Attempts.AddOrUpdate(parts[1], 1, (_, n) => n + 1);
            return attempt <= int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)
                ? TestBackend.Json(context, """{"error": "busy"}""", 503)
                : TestBackend.Json(context, $$"""{"attempt": {{attempt}}}""");
        });
        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Flow.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://svc.test:8080"] = Services.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Services.DisposeAsync();
    }
}

public sealed class FlowTests : IClassFixture<FlowFixture>, IDisposable
{
    private readonly FlowFixture _fixture;

    public FlowTests(FlowFixture fixture)
    {
        _fixture = fixture;
        _fixture.Services.ClearReceived();
    }

    public void Dispose() => _fixture.Services.ClearReceived();

    [Fact]
    public async Task PassThrough_TheChosenStepsStatusAndHeaders_OnAnAnswerWithData()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/passed/new");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal("\"v1\"", response.Headers.GetValues("ETag").Single()); // once, though gateway/response relays it too
        Assert.Equal("/items/9", response.Headers.Location!.OriginalString);
        Assert.False(response.Headers.Contains("X-Other"));
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(9, body.RootElement.GetProperty("item").GetProperty("id").GetInt32());
        Assert.Equal(5, body.RootElement.GetProperty("count").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task PassThrough_TheChosenStepFailedWithAStatus_ThatStatusAndItsHeaders_WithTheOthersData()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/passed/gone");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal("\"v0\"", response.Headers.GetValues("ETag").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(body.RootElement.TryGetProperty("item", out _));
        Assert.Equal(5, body.RootElement.GetProperty("count").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task PassThrough_ABodylessStatus_OrAStepThatWasNotReached_KeepsTheGatewaysStatus()
    {
        using HttpResponseMessage empty = await _fixture.Gateway.Client.GetAsync("/passed/empty");
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode); // 204 never passes: the answer has a body
        Assert.Equal("false", empty.Headers.GetValues("X-KrakenD-Completed").Single());

        using HttpResponseMessage down = await _fixture.Gateway.Client.GetAsync("/passed/down");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
    }

    [Fact]
    public async Task PassThrough_NoData_TheStepsErrorStatusInsteadOf500_SuccessStatusNeverOnAnError()
    {
        using HttpResponseMessage gone = await _fixture.Gateway.Client.GetAsync("/passed-alone/gone");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("false", gone.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal("\"v0\"", gone.Headers.GetValues("ETag").Single());
        Assert.Equal(string.Empty, await gone.Content.ReadAsStringAsync()); // the backend's error body is not relayed

        using HttpResponseMessage created = await _fixture.Gateway.Client.GetAsync("/passed-alone/new");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task PassThrough_HeadersOnly_StatusStaysTheGateways()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/passed-headers/ok");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\"v2\"", response.Headers.GetValues("ETag").Single());

        using HttpResponseMessage created = await _fixture.Gateway.Client.GetAsync("/passed-headers/new");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal("\"v1\"", created.Headers.GetValues("ETag").Single());
    }

    [Fact]
    public async Task Diamond_BothMiddleStepsOverlap_LastStepReadsBothAndStartsAfterBoth()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/diamond/1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(7, body.RootElement.GetProperty("user").GetProperty("id").GetInt32());
        Assert.Equal(3, body.RootElement.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.Equal("gold", body.RootElement.GetProperty("profile").GetProperty("tier").GetString());
        Assert.True(body.RootElement.GetProperty("summary").GetProperty("ok").GetBoolean());

        ReceivedRequest user = Assert.Single(_fixture.Services.ReceivedWith("/user/"));
        ReceivedRequest orders = Assert.Single(_fixture.Services.ReceivedWith("/orders/"));
        ReceivedRequest profile = Assert.Single(_fixture.Services.ReceivedWith("/profile/"));
        ReceivedRequest summary = Assert.Single(_fixture.Services.ReceivedWith("/summary/"));
        Assert.Equal("/orders/7", orders.RawTarget);
        Assert.Equal("/profile/7", profile.RawTarget);
        Assert.Equal("/summary/7?orders=3&tier=gold", summary.RawTarget);

        // Both middle steps wait for the first, then run at the same time: each starts before the other finishes.
        Assert.True(orders.Started >= user.Finished && profile.Started >= user.Finished, $"user {user.Finished}, orders {orders.Started}, profile {profile.Started}");
        Assert.True(orders.Started < profile.Finished && profile.Started < orders.Finished, $"orders {orders.Started}-{orders.Finished}, profile {profile.Started}-{profile.Finished}");

        // The last one waits for both.
        Assert.True(summary.Started >= orders.Finished && summary.Started >= profile.Finished, $"summary {summary.Started}, orders {orders.Finished}, profile {profile.Finished}");

        // gateway/flow.server_timing: one entry per step, by id (or index), with its duration and outcome.
        string timing = response.Headers.GetValues("Server-Timing").Single();
        var entries = timing.Split(", ").Select(e => e.Split(';')).ToDictionary(e => e[0]);
        Assert.Equal(["user", "orders", "profile", "backend3"], entries.Keys.ToArray());
        Assert.All(entries.Values, e => Assert.Equal("desc=\"ok\"", e[2]));
        double Duration(string step) => double.Parse(entries[step][1]["dur=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(Duration("orders"), FlowFixture.SlowStep.TotalMilliseconds * 0.9, 60_000);
        Assert.InRange(Duration("user"), 0, FlowFixture.SlowStep.TotalMilliseconds);
    }

    [Fact]
    public async Task Diamond_OneMiddleStepFails_TheStepThatNeedsItIsNotCalled_PartialAnswer()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/diamond/2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(8, body.RootElement.GetProperty("user").GetProperty("id").GetInt32());
        Assert.Equal(3, body.RootElement.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("profile", out _));
        Assert.False(body.RootElement.TryGetProperty("summary", out _));
        Assert.Single(_fixture.Services.ReceivedWith("/profile/8"));
        Assert.Empty(_fixture.Services.ReceivedWith("/summary/"));
        string timing = response.Headers.GetValues("Server-Timing").Single();
        Assert.Contains("profile;dur=", timing, StringComparison.Ordinal);
        Assert.Contains(";desc=\"status\"", timing, StringComparison.Ordinal);
        Assert.EndsWith("backend3;desc=\"not_called\"", timing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerTiming_NotAskedFor_NoHeader()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/declared-later/4");

        Assert.False(response.Headers.Contains("Server-Timing"));
    }

    [Fact]
    public async Task DependencyDeclaredOnALaterBackend_TheLaterBackendRunsFirst()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/declared-later/4");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        ReceivedRequest count = Assert.Single(_fixture.Services.ReceivedWith("/count/"));
        ReceivedRequest summary = Assert.Single(_fixture.Services.ReceivedWith("/summary/"));
        Assert.Equal("/summary/4?orders=5", summary.RawTarget);
        Assert.True(summary.Started >= count.Finished);
    }

    [Fact]
    public async Task Retry_FailsTwiceThenAnswers_ThirdAttemptIsTheAnswer()
    {
        string key = Guid.NewGuid().ToString("N");
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync($"/retry/2-{key}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("attempt").GetInt32());
        Assert.Equal(3, _fixture.Attempts[key]);
    }

    [Fact]
    public async Task Retry_AlwaysFailing_OneAttemptPlusMaxRetriesThenTheFailure()
    {
        string key = Guid.NewGuid().ToString("N");
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync($"/retry/99-{key}");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(3, _fixture.Attempts[key]);
    }

    [Fact]
    public async Task StepTimeout_SlowStepCutAtItsOwnLimit_LongBeforeTheEndpointsBudget()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/step-timeout");
        clock.Stop();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(5, body.RootElement.GetProperty("fast").GetProperty("n").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("slow", out _));
        // The slow backend answers after 2 s and the endpoint allows 5 s: only the step's 150 ms cut it.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"answered after {clock.Elapsed}");
    }

    [Fact]
    public async Task Fallback_FailedStepsDataIsTheFallback_DependantsReadIt_AnswerIncomplete()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/fallback/2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("basic", body.RootElement.GetProperty("profile").GetProperty("tier").GetString());
        Assert.True(body.RootElement.GetProperty("summary").GetProperty("ok").GetBoolean());
        Assert.Single(_fixture.Services.ReceivedWith("/profile/8"));
        Assert.Equal("/summary/8?tier=basic", Assert.Single(_fixture.Services.ReceivedWith("/summary/")).RawTarget);
    }

    [Fact]
    public async Task Fallback_StepSucceeds_ItsOwnDataAndComplete()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/fallback/1");

        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal("/summary/7?tier=gold", Assert.Single(_fixture.Services.ReceivedWith("/summary/")).RawTarget);
    }

    [Fact]
    public async Task Continue_FailedStepDoesNotHoldBackItsDependants()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/continue/2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(body.RootElement.TryGetProperty("profile", out _));
        Assert.True(body.RootElement.GetProperty("summary").GetProperty("ok").GetBoolean());
        Assert.Equal("/summary/8", Assert.Single(_fixture.Services.ReceivedWith("/summary/")).RawTarget);
    }

    [Fact]
    public async Task When_AllConditionsTrue_EveryStepRuns_Complete()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/when/1");

        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(120, body.RootElement.GetProperty("loyalty").GetProperty("points").GetInt32());
        Assert.Equal(3, body.RootElement.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.True(body.RootElement.GetProperty("summary").GetProperty("ok").GetBoolean());

        // The user's id is the number 7; the condition compares with the string "7": typed, so not equal.
        Assert.False(body.RootElement.TryGetProperty("typed", out _));
        Assert.Empty(_fixture.Services.ReceivedWith("/count/"));
        Assert.Contains("backend4;desc=\"skipped\"", response.Headers.GetValues("Server-Timing").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_GuestAndAnotherName_SkippedStepsAndTheirDependantsNotCalled_StillComplete()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/when/2");
        request.Headers.Add("X-Guest", "yes");
        using HttpResponseMessage response = await _fixture.Gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Skipped is not failed: the answer is complete with what ran.
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Bo", body.RootElement.GetProperty("user").GetProperty("name").GetString());
        Assert.False(body.RootElement.TryGetProperty("loyalty", out _));
        Assert.False(body.RootElement.TryGetProperty("orders", out _));
        Assert.False(body.RootElement.TryGetProperty("summary", out _));
        Assert.Empty(_fixture.Services.ReceivedWith("/loyalty/"));
        Assert.Empty(_fixture.Services.ReceivedWith("/orders/"));
        Assert.Empty(_fixture.Services.ReceivedWith("/summary/"));
        string timing = response.Headers.GetValues("Server-Timing").Single();
        Assert.Contains("loyalty;desc=\"skipped\"", timing, StringComparison.Ordinal);
        Assert.Contains("backend3;desc=\"skipped\"", timing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_EveryStepSkipped_EmptyObject_200_Complete_NoBackendCalled()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/optional");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Empty(_fixture.Services.ReceivedWith("/loyalty/"));
        Assert.Empty(_fixture.Services.ReceivedWith("/count/"));

        using var one = new HttpRequestMessage(HttpMethod.Get, "/optional");
        one.Headers.Add("X-Want", "count");
        using HttpResponseMessage counted = await _fixture.Gateway.Client.SendAsync(one);
        Assert.Equal("""{"count":{"n": 5}}""", await counted.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DeadlineStatus_BudgetRunsOut_ConfiguredStatusWithoutData_DefaultStaysPartial()
    {
        using HttpResponseMessage deadline = await _fixture.Gateway.Client.GetAsync("/deadline");
        using HttpResponseMessage partial = await _fixture.Gateway.Client.GetAsync("/deadline-default");

        Assert.Equal(HttpStatusCode.GatewayTimeout, deadline.StatusCode);
        Assert.Equal("false", deadline.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Empty(await deadline.Content.ReadAsByteArrayAsync());

        // KrakenD's answer without the opt-in: what arrived in time, marked incomplete.
        Assert.Equal(HttpStatusCode.OK, partial.StatusCode);
        Assert.Equal("false", partial.Headers.GetValues("X-KrakenD-Completed").Single());
        using JsonDocument body = JsonDocument.Parse(await partial.Content.ReadAsStringAsync());
        Assert.Equal(5, body.RootElement.GetProperty("fast").GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task DeadlineStatus_EveryStepInTime_NormalAnswer()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync("/count-only");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
    }
}

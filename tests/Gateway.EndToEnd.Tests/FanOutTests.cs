using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The fan-out gateway (Configs/fanout.json): steps that run once per element of an array another step returned
/// (<c>gateway/step.for_each</c>), against a backend that counts the calls it has at once.
/// </summary>
public sealed class FanOutFixture : IAsyncLifetime
{
    public static readonly TimeSpan ShipmentDelay = TimeSpan.FromMilliseconds(40);

    private int _inFlight;
    private int _mostAtOnce;

    public TestBackend Services { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    /// <summary>The most <c>/shipment/</c> calls the backend had at once since <see cref="ResetConcurrency"/>.</summary>
    public int MostAtOnce => Volatile.Read(ref _mostAtOnce);

    public void ResetConcurrency() => Volatile.Write(ref _mostAtOnce, 0);

    public async Task InitializeAsync()
    {
        Services = await TestBackend.StartAsync();
        // /orders/{case}: the array the fan-out steps run over.
        Services.On("orders", context =>
        {
            string id = context.Request.Path.Value!.Split('/')[2];
            string[] shipments = id switch
            {
                "dup" => ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5"],
                "bad" => ["1", "2", "\"fail\"", "4"],
                "empty" => [],
                "none" => [],
                "3" => ["1", "2", "3"],
                _ => Enumerable.Range(1, int.Parse(id, CultureInfo.InvariantCulture)).Select(n => n.ToString(CultureInfo.InvariantCulture)).ToArray(),
            };
            string items = string.Join(", ", shipments.Select((s, i) => $$"""{"line": {{i}}, "shipment_id": {{s}}, "invoice": "inv-{{i % 2}}"}"""));
            return TestBackend.Json(context, id == "none" ? """{"id": "o-none"}""" : $$"""{"id": "o-{{id}}", "items": [{{items}}]}""");
        });
        Services.On("shipment", async context =>
        {
            int now = Interlocked.Increment(ref _inFlight);
            int most;
            while (now > (most = Volatile.Read(ref _mostAtOnce)) && Interlocked.CompareExchange(ref _mostAtOnce, now, most) != most)
            {
            }

            try
            {
                await Task.Delay(ShipmentDelay);
                string id = context.Request.Path.Value!.Split('/')[2];
                await (id == "fail"
                    ? TestBackend.Json(context, """{"error": "down"}""", 500)
                    : TestBackend.Json(context, $$"""{"id": {{id}}, "carrier": "post"}"""));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        });
        Services.On("invoice", context => TestBackend.Json(context, $$"""{"number": "{{context.Request.Path.Value!.Split('/')[2]}}"}"""));
        Services.Answer("/summary").WithJson("""{"ok": true}""");
        Services.Answer("/notify").WithJson("""{"queued": true}""");
        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.FanOut.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://svc.test:8080"] = Services.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Services.DisposeAsync();
    }
}

public sealed class FanOutTests : IClassFixture<FanOutFixture>, IDisposable
{
    private readonly FanOutFixture _fixture;

    public FanOutTests(FanOutFixture fixture)
    {
        _fixture = fixture;
        _fixture.Services.ClearReceived();
        _fixture.ResetConcurrency();
    }

    public void Dispose() => _fixture.Services.ClearReceived();

    private async Task<(HttpResponseMessage Response, JsonElement Body)> GetAsync(string path)
    {
        HttpResponseMessage response = await _fixture.Gateway.Client.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Collect_FiftyElements_OneCallEach_AtMostEightAtOnce_InElementOrder()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/collect/50");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        ReceivedRequest[] calls = _fixture.Services.ReceivedWith("/shipment/");
        Assert.Equal(50, calls.Length);
        Assert.Equal(Enumerable.Range(1, 50).Select(n => $"/shipment/{n}").Order(), calls.Select(c => c.RawTarget).Order());
        // The default cap: 8 at a time, and the cap is used (50 calls of 40 ms overlap).
        Assert.InRange(_fixture.MostAtOnce, 2, 8);
        int[] ids = body.GetProperty("shipments").EnumerateArray().Select(s => s.GetProperty("id").GetInt32()).ToArray();
        Assert.Equal(Enumerable.Range(1, 50), ids);
        Assert.Equal(50, body.GetProperty("orders").GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Collect_DuplicateKeys_CalledOnce()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/collect/dup");

        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal(["/shipment/1", "/shipment/2", "/shipment/3", "/shipment/4", "/shipment/5"], _fixture.Services.ReceivedWith("/shipment/").Select(c => c.RawTarget).Order());
        Assert.Equal([1, 2, 3, 4, 5], body.GetProperty("shipments").EnumerateArray().Select(s => s.GetProperty("id").GetInt32()));
    }

    [Fact]
    public async Task Join_EachElementGetsItsResult_DuplicatesShareOneCall_TwoJoinsIntoOneArray()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/join/dup");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal(5, _fixture.Services.ReceivedWith("/shipment/").Length);
        Assert.Equal(["/invoice/inv-0", "/invoice/inv-1"], _fixture.Services.ReceivedWith("/invoice/").Select(c => c.RawTarget).Order());
        Assert.InRange(_fixture.MostAtOnce, 1, 3);

        // The join steps add no member of their own: their results are inside the orders' items.
        Assert.Equal(["orders"], body.EnumerateObject().Select(p => p.Name));
        JsonElement[] items = body.GetProperty("orders").GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(10, items.Length);
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal(i, items[i].GetProperty("line").GetInt32());
            Assert.Equal(items[i].GetProperty("shipment_id").GetInt32(), items[i].GetProperty("shipment").GetProperty("id").GetInt32());
            Assert.Equal("post", items[i].GetProperty("shipment").GetProperty("carrier").GetString());
            Assert.Equal($"inv-{i % 2}", items[i].GetProperty("invoice").GetProperty("number").GetString());
        }
    }

    [Fact]
    public async Task Join_OneElementFails_OthersJoined_AnswerIncomplete()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/join/bad");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        JsonElement[] items = body.GetProperty("orders").GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal([1, 2, 4], items.Where(i => i.TryGetProperty("shipment", out _)).Select(i => i.GetProperty("shipment").GetProperty("id").GetInt32()));
        Assert.False(items[2].TryGetProperty("shipment", out _));
        Assert.Equal("fail", items[2].GetProperty("shipment_id").GetString());
    }

    [Fact]
    public async Task Fallback_PerElement_TheFailedElementGetsTheFallback()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/fallback/bad");

        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        JsonElement[] items = body.GetProperty("orders").GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal("unknown", items[2].GetProperty("shipment").GetProperty("status").GetString());
        Assert.Equal("post", items[3].GetProperty("shipment").GetProperty("carrier").GetString());
    }

    [Fact]
    public async Task MoreElementsThanMaxItems_StepFailsBeforeAnyCall_DependantNotCalled()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/then/6");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Empty(_fixture.Services.ReceivedWith("/shipment/"));
        Assert.Empty(_fixture.Services.ReceivedWith("/summary/"));
        Assert.Equal(6, body.GetProperty("orders").GetProperty("items").GetArrayLength());
        Assert.False(body.TryGetProperty("shipments", out _));
    }

    [Fact]
    public async Task AtMaxItems_AllCalled_DependantReadsTheCollectedArray()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/then/5");

        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Equal(5, _fixture.Services.ReceivedWith("/shipment/").Length);
        Assert.Equal("/summary/1", Assert.Single(_fixture.Services.ReceivedWith("/summary/")).RawTarget);
        Assert.True(body.GetProperty("summary").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task EmptyArray_NoCall_EmptyCollection_Complete()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/collect/empty");

        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Empty(_fixture.Services.ReceivedWith("/shipment/"));
        Assert.Equal(0, body.GetProperty("shipments").GetArrayLength());
    }

    [Fact]
    public async Task MissingArray_StepFails_AsAMissingValue()
    {
        (HttpResponseMessage response, JsonElement body) = await GetAsync("/collect/none");

        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.Empty(_fixture.Services.ReceivedWith("/shipment/"));
        Assert.Equal("o-none", body.GetProperty("orders").GetProperty("id").GetString());
        Assert.False(body.TryGetProperty("shipments", out _));
    }

    [Fact]
    public async Task BodyTemplate_ReadsTheElement_AndEarlierSteps_OneCallPerDistinctElement()
    {
        using HttpResponseMessage response = await _fixture.Gateway.Client.PostAsync("/notify/3", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-KrakenD-Completed").Single());
        ReceivedRequest[] calls = _fixture.Services.ReceivedWith("/notify");
        Assert.Equal(3, calls.Length);
        var bodies = calls.Select(c => JsonDocument.Parse(c.Body).RootElement).OrderBy(b => b.GetProperty("shipment").GetInt32()).ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("o-3", bodies[i].GetProperty("order").GetString());
            Assert.Equal(i + 1, bodies[i].GetProperty("shipment").GetInt32());
            Assert.Equal(i, bodies[i].GetProperty("line").GetProperty("line").GetInt32());
        }

        using JsonDocument answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, answer.RootElement.GetProperty("notified").GetArrayLength());
    }
}

using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>The scenarios gateway (Configs/scenarios.json) and its loopback backends, shared by one test class.</summary>
public sealed class ScenarioFixture : IAsyncLifetime
{
    public TestBackend Backend { get; private set; } = null!;

    public TestBackend ReplicaB { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    /// <summary>The body /inject/source returns; set by the injection tests.</summary>
    public string InjectSource { get; set; } = "{}";

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        ReplicaB = await TestBackend.StartAsync();
        ConfigureBackends();
        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Scenarios.CompiledGateway.Definition,
            new Dictionary<string, string>
            {
                ["http://backend.test:8080"] = Backend.BaseUrl,
                ["http://replica-a.test:8080"] = Backend.BaseUrl,
                ["http://replica-b.test:8080"] = ReplicaB.BaseUrl,
                ["http://unreachable.test:8080"] = GatewayUnderTest.ClosedPortUrl(),
            },
            options => options.Backend.MaxResponseBodyBytes = 64 * 1024);
    }

    private void ConfigureBackends()
    {
        // Slow answers; the timeout endpoints call /slow/forever.
        Backend.Answer("/slow").After(TimeSpan.FromMilliseconds(1000)).WithJson("""{"slow": true}""");
        Backend.Answer("/slow/forever").After(TimeSpan.FromSeconds(10)).WithJson("""{"slow": true}""");

        Backend.Answer("/merge/first").WithJson("""{"id": 1, "name": "first", "price": 1.50, "only_first": "kept"}""");
        Backend.Answer("/merge/second").WithJson("""{"name": "second", "big": 12345678901234567890123, "exp": 1e3}""");
        Backend.Answer("/merge").WithJson("""{"nested": {"a": [1, 2, {"b": null}]}}""");

        // /step/N/...: answers after 150 ms with the token the next step must use.
        foreach (string step in new[] { "0", "1", "2" })
        {
            Backend.Answer("/step/" + step).After(TimeSpan.FromMilliseconds(150)).WithJson($$"""{"step{{step}}": true, "next": "from-{{step}}"}""");
        }

        Backend.Answer("/profile").WithJson("""{"user": {"id": "u 1/2", "tags": ["a", "b c", 3]}, "items": [{"id": 10}, {"id": 11}], "price": 1.50}""");
        Backend.Answer("/detail").WithJson("""{"ok": true}""");
        Backend.Answer("/legacy").WithJson("""{"code": "L-1"}""");
        Backend.Answer("/inject/source").WithJson(() => InjectSource);
        Backend.Answer("/inject").WithJson("""{"reached": true}""");
        Backend.Answer("/route-echo").WithJson("""{"echo": true}""");

        // /fail/N/{which}: step N fails when {which} names it.
        foreach (string step in new[] { "0", "1", "2" })
        {
            Backend.Answer("/fail/" + step).WithJson($$"""{"step{{step}}": "ok"}""");
        }

        Backend.Answer("/fail/0/first").WithStatus(StatusCodes.Status503ServiceUnavailable).WithJson("""{"error": "boom"}""");
        Backend.Answer("/fail/1/second").WithStatus(StatusCodes.Status503ServiceUnavailable).WithJson("""{"error": "boom"}""");
        Backend.Answer("/fail/2/third").WithStatus(StatusCodes.Status503ServiceUnavailable).WithJson("""{"error": "boom"}""");

        // /body/{kind}: bodies that are and are not one JSON object, all sent as application/json.
        Backend.Answer("/body/object").WithJson("""  {"ok": true, "text": "caf\u00e9 \u00e9"}  trailing""");
        Backend.Answer("/body/text").WithJson("hello, not json");
        Backend.Answer("/body/array").WithJson("[1, 2, 3]");
        Backend.Answer("/body/empty").WithJson(string.Empty);
        Backend.Answer("/body/null").WithJson("null");
        Backend.Answer("/body/truncated").WithJson("""{"a": [1, 2""");
        Backend.Answer("/body/deep").WithJson(new string('[', 5000) + new string(']', 5000));
        Backend.Answer("/body/huge").WithJson("{\"blob\": \"" + new string('x', 200_000) + "\"}");
        Backend.Answer("/body/accepted").WithStatus(StatusCodes.Status202Accepted).WithJson("""{"queued": true}""");
        Backend.Answer("/body/created").WithStatus(StatusCodes.Status201Created).WithJson("""{"created": true}""");
        Backend.Answer("/body/emptyobject").WithJson("{}");
        Backend.Answer("/body").WithStatus(StatusCodes.Status404NotFound).WithJson("{}");

        Backend.Answer("/whoami").WithJson("""{"replica": "a"}""");
        ReplicaB.Answer("/whoami").WithJson("""{"replica": "b"}""");
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
        await ReplicaB.DisposeAsync();
    }
}

internal static class JsonAssert
{
    /// <summary>Compares two JSON documents by value (key order ignored).</summary>
    public static void Equivalent(string expected, string actual)
    {
        JsonNode? e = JsonNode.Parse(expected);
        JsonNode? a = JsonNode.Parse(actual);
        Assert.True(JsonNode.DeepEquals(e, a), $"expected {e?.ToJsonString()}\nactual   {a?.ToJsonString()}");
    }
}

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
        Backend.On("slow", async context =>
        {
            bool forever = context.Request.Path.Value!.EndsWith("/forever", StringComparison.Ordinal);
            try
            {
                await Task.Delay(forever ? TimeSpan.FromSeconds(10) : TimeSpan.FromMilliseconds(1000), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await TestBackend.Json(context, """{"slow": true}""");
        });

        Backend.On("merge", context => context.Request.Path.Value switch
        {
            "/merge/first" => TestBackend.Json(context, """{"id": 1, "name": "first", "price": 1.50, "only_first": "kept"}"""),
            "/merge/second" => TestBackend.Json(context, """{"name": "second", "big": 12345678901234567890123, "exp": 1e3}"""),
            _ => TestBackend.Json(context, """{"nested": {"a": [1, 2, {"b": null}]}}"""),
        });

        // /step/N answers after 150 ms with the token the next step must use.
        Backend.On("step", async context =>
        {
            await Task.Delay(150);
            string step = context.Request.Path.Value!.Split('/')[2];
            await TestBackend.Json(context, $$"""{"step{{step}}": true, "next": "from-{{step}}"}""");
        });

        Backend.OnJson("profile", """{"user": {"id": "u 1/2", "tags": ["a", "b c", 3]}, "items": [{"id": 10}, {"id": 11}], "price": 1.50}""");
        Backend.OnJson("detail", """{"ok": true}""");
        Backend.OnJson("legacy", """{"code": "L-1"}""");
        Backend.On("inject", context => context.Request.Path.Value == "/inject/source"
            ? TestBackend.Json(context, InjectSource)
            : TestBackend.Json(context, """{"reached": true}"""));
        Backend.OnJson("route-echo", """{"echo": true}""");

        // /fail/N/{which}: step N fails when {which} names it.
        Backend.On("fail", context =>
        {
            string[] parts = context.Request.Path.Value!.Split('/');
            string step = parts[2];
            string which = parts[3];
            bool fail = (step, which) is ("0", "first") or ("1", "second") or ("2", "third");
            return fail
                ? TestBackend.Json(context, """{"error": "boom"}""", StatusCodes.Status503ServiceUnavailable)
                : TestBackend.Json(context, $$"""{"step{{step}}": "ok"}""");
        });

        Backend.On("body", context =>
        {
            string kind = context.Request.Path.Value!["/body/".Length..];
            context.Response.ContentType = "application/json";
            return kind switch
            {
                "object" => context.Response.WriteAsync("""  {"ok": true, "text": "caf\u00e9 \u00e9"}  trailing"""),
                "text" => context.Response.WriteAsync("hello, not json"),
                "array" => context.Response.WriteAsync("[1, 2, 3]"),
                "empty" => Task.CompletedTask,
                "null" => context.Response.WriteAsync("null"),
                "truncated" => context.Response.WriteAsync("""{"a": [1, 2"""),
                "deep" => context.Response.WriteAsync(new string('[', 5000) + new string(']', 5000)),
                "huge" => context.Response.WriteAsync("{\"blob\": \"" + new string('x', 200_000) + "\"}"),
                "accepted" => TestBackend.Json(context, """{"queued": true}""", StatusCodes.Status202Accepted),
                "created" => TestBackend.Json(context, """{"created": true}""", StatusCodes.Status201Created),
                "emptyobject" => context.Response.WriteAsync("{}"),
                _ => TestBackend.Json(context, "{}", StatusCodes.Status404NotFound),
            };
        });

        Backend.OnJson("whoami", """{"replica": "a"}""");
        ReplicaB.OnJson("whoami", """{"replica": "b"}""");
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

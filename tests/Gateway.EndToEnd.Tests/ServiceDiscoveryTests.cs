using System.Diagnostics;
using System.Net;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>"sd": "dns"</c> (Configs/sd.json): the hosts of a backend are the targets of SRV records, which a name server on
/// loopback answers from a table the test changes. KrakenD's rules: the lowest priority only, round robin weighted by
/// the records' weights, asked again when the records' time to live runs out.
/// </summary>
public sealed class ServiceDiscoveryTests : IAsyncLifetime
{
    private const string Service = "_items._tcp.gateway.test";

    private readonly FakeDnsServer _dns = new();
    private TestBackend _first = null!;
    private TestBackend _second = null!;
    private TestBackend _static = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _first = await Backend("first");
        _second = await Backend("second");
        _static = await Backend("static");
        _dns.Set(Service, Record(_first, weight: 5), Record(_second, weight: 5));
        _gateway = await GatewayUnderTest.StartAsync(
            Gateway.EndToEnd.ServiceDiscovery.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://static.test:8080"] = _static.BaseUrl },
            o => o.Backend.DnsServer = _dns.EndPoint);
        await WaitForHostsAsync(2);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        await _static.DisposeAsync();
        _dns.Dispose();
    }

    [Fact]
    public async Task EqualWeights_RequestsGoRoundRobinOverTheTargets()
    {
        string[] served = await ServedByAsync("/items/1", 6);

        Assert.Equal(3, served.Count(s => s == "first"));
        Assert.Equal(3, served.Count(s => s == "second"));
    }

    [Fact]
    public async Task FixedUrl_OnDiscoveredHosts_BuiltForTheHostOfEachCall()
    {
        string[] served = await ServedByAsync("/fixed", 4);

        Assert.Equal(["first", "second"], served.Distinct().Order());
    }

    [Fact]
    public async Task RecordsChange_TheNextAnswerIsUsedOnceTheTtlRunsOut()
    {
        _dns.Set(Service, Record(_second, weight: 1));
        await WaitForHostsAsync(1);
        Assert.Equal(["second"], (await ServedByAsync("/items/2", 4)).Distinct());

        // A lower-priority record is ignored while one of the lowest priority exists; weights repeat a target.
        _dns.Set(Service, Record(_first, weight: 3, priority: 10), Record(_second, weight: 1, priority: 10), Record(_static, weight: 100, priority: 20));
        await WaitForHostsAsync(4);
        string[] served = await ServedByAsync("/items/3", 8);
        Assert.Equal(6, served.Count(s => s == "first"));
        Assert.Equal(2, served.Count(s => s == "second"));
    }

    [Fact]
    public async Task RecordsDisappear_TheHostsFoundBeforeStayInUse()
    {
        int asked = _dns.Questions;
        _dns.Set(Service);
        await WaitUntilAsync(() => _dns.Questions >= asked + 2, "two more look-ups");

        Assert.Equal(2, Group().Hosts.Count);
        Assert.All(await ServedByAsync("/items/4", 2), s => Assert.Contains(s, new[] { "first", "second" }));
        _dns.Set(Service, Record(_first, weight: 5), Record(_second, weight: 5));
    }

    [Fact]
    public async Task NameWithoutRecords_TheCallFailsAsUnreachableWithoutANetworkAttempt()
    {
        var clock = Stopwatch.StartNew();
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/missing");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("false", response.Headers.GetValues("X-KrakenD-Completed").Single());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task OperatorOverrideOfTheServiceName_ReplacesTheDiscovery()
    {
        var options = new GatewayOptions();
        string? error = GatewayProgram.ReadOptions(["--backend-host", $"{Service}={_static.BaseUrl}"], _ => null, options, out _)
            ?? GatewayProgram.UnmatchedOverride(options, Gateway.EndToEnd.ServiceDiscovery.CompiledGateway.Definition);
        Assert.Null(error);

        var hosts = new Dictionary<string, string>(options.HostOverrides) { ["http://static.test:8080"] = _static.BaseUrl };
        await using GatewayUnderTest gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.ServiceDiscovery.CompiledGateway.Definition, hosts, o => o.Backend.DnsServer = _dns.EndPoint);
        using HttpResponseMessage response = await gateway.Client.GetAsync("/items/5");

        Assert.Contains("\"served_by\": \"static\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        BackendHostGroup group = gateway.Services.GetRequiredService<BackendRegistry>().Group(Gateway.EndToEnd.ServiceDiscovery.CompiledGateway.Definition.ServiceDiscovery!.Groups.First());
        Assert.False(group.IsDiscovered);
        Assert.Equal([_static.BaseUrl], group.Hosts);
    }

    [Fact]
    public async Task StaticBackend_NextToDiscoveredOnes_UsesItsHostAsWritten()
    {
        Assert.Equal(["static"], await ServedByAsync("/static", 1));
    }

    private static SrvAnswer Record(TestBackend backend, ushort weight, ushort priority = 0) =>
        new(priority, weight, (ushort)new Uri(backend.BaseUrl).Port, "127.0.0.1.", Ttl: 1);

    private static async Task<TestBackend> Backend(string name)
    {
        TestBackend backend = await TestBackend.StartAsync();
        backend.Answer("/items").WithJson($$"""{"served_by": "{{name}}"}""");
        return backend;
    }

    private async Task<string[]> ServedByAsync(string path, int count)
    {
        var served = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using HttpResponseMessage response = await _gateway.Client.GetAsync(path);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
            served.Add(System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("served_by").GetString()!);
        }

        return [.. served];
    }

    private BackendHostGroup Group()
    {
        BackendRegistry registry = _gateway.Services.GetRequiredService<BackendRegistry>();
        return registry.Group(Gateway.EndToEnd.ServiceDiscovery.CompiledGateway.Definition.ServiceDiscovery!.Groups.First());
    }

    private Task WaitForHostsAsync(int count) => WaitUntilAsync(() => Group().Hosts.Count == count, $"{count} discovered host(s)");

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"waited 15 s for {what}");
            await Task.Delay(20);
        }
    }
}

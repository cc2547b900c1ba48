using System.Net;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Routing;
using Microsoft.AspNetCore.Http;

namespace Gateway.Benchmarks;

/// <summary>
/// The generated handlers the handler benchmarks run (perf/load/krakend.json, compiled into this assembly) over a given
/// registry, each checked once to answer a complete 200, so that a benchmark measures the success path only; and the
/// client request each run gets.
/// </summary>
internal sealed class BenchmarkHandlers
{
    /// <summary>What the backends of these handlers answer, by path: the harness's documents (perf/load/data).</summary>
    public static IReadOnlyDictionary<string, string> Documents { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/hotels/25"] = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "hotels", "25.json")),
        ["/destinations/barcelona"] = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "destinations", "barcelona.json")),
        ["/rates/25"] = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "rates", "25.json")),
    };

    /// <param name="registry">Where the handlers' backend calls go (an in-memory backend, or a loopback server).</param>
    /// <param name="setting">What the failure of the check names besides the endpoint (the backend client, say).</param>
    public BenchmarkHandlers(BackendRegistry registry, string setting = "")
    {
        var routes = new RouteTable(Compiled.CompiledGateway.Definition.CreateRoutes(registry));
        Passthrough = routes.Entries.Single(e => e.Template == "/passthrough/small");
        Aggregate = routes.Entries.Single(e => e.Template == "/aggregate/{id}");
        Chain = routes.Entries.Single(e => e.Template == "/chain/{id}");
        foreach ((RouteEntry entry, string[] values) in new[] { (Passthrough, Array.Empty<string>()), (Aggregate, ["25"]), (Chain, ["25"]) })
        {
            DefaultHttpContext context = NewContext();
            entry.Handler.InvokeAsync(context, values).GetAwaiter().GetResult();
            if (context.Response.StatusCode != 200 || context.Response.Headers["X-KrakenD-Completed"] != "true")
            {
                throw new InvalidOperationException($"{entry.Template} answered {context.Response.StatusCode} {setting}");
            }
        }
    }

    /// <summary><c>/passthrough/small</c>: one backend, no route values.</summary>
    public RouteEntry Passthrough { get; }

    /// <summary><c>/aggregate/{id}</c>: two backends at once, route value <c>25</c>.</summary>
    public RouteEntry Aggregate { get; }

    /// <summary><c>/chain/{id}</c>: two backends in sequence, route value <c>25</c>.</summary>
    public RouteEntry Chain { get; }

    public static DefaultHttpContext NewContext()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Host = new HostString("gateway.bench");
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        context.Response.Body = Stream.Null;
        return context;
    }
}

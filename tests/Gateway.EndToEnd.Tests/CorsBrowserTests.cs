using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// <c>security/cors</c> as a browser enforces it: headless Chromium loads a page from one origin that calls the gateway
/// (Configs/cors.json) on another with <c>fetch</c>, and the page posts what the browser let it read back to the page's
/// own server. The allowed origin (<c>http://127.0.0.1:*</c>) reads answers and the exposed header, sends a preflighted
/// request and a credentialed one; a header or method the policy does not allow is blocked by the browser before the
/// request is sent; the same page from <c>http://localhost</c> (another origin) cannot read anything.
/// </summary>
public sealed class CorsBrowserTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;
    private WebApplication _pages = null!;
    private int _pagesPort;
    private TaskCompletionSource<string> _report = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        _backend.Answer("/items").WithJson("""{"id": 7, "name": "lamp"}""");
        _backend.Answer("/raw").WithJson("""{"raw": true}""").WithHeader("X-Request-Id", "r-42").WithHeader("X-Internal", "not exposed");
        _gateway = await GatewayUnderTest.StartAsync(Gateway.EndToEnd.Cors.CompiledGateway.Definition, new Dictionary<string, string> { ["http://api.test:8080"] = _backend.BaseUrl });

        // The page server listens on 127.0.0.1 and ::1, so the same page can be loaded from two origins.
        _pagesPort = FreePort();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(_pagesPort));
        _pages = builder.Build();
        _pages.Run(ServePageAsync);
        await _pages.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _pages.DisposeAsync();
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [SkippableFact]
    public async Task Browser_PageFromAnAllowedOrigin_ReadsAnswersAndIsBlockedOnlyWhereThePolicySays()
    {
        string chromium = FindChromium();

        Dictionary<string, string> results = await RunPageAsync(chromium, $"http://127.0.0.1:{_pagesPort}/page");

        Assert.Equal("ok 200 lamp", results["get"]);
        Assert.Equal("ok r-42 null", results["exposed"]);
        Assert.Equal("ok 200", results["preflighted"]);
        Assert.Equal("ok 200", results["credentials"]);
        Assert.Equal("blocked", results["header-refused"]);
        Assert.Equal("blocked", results["method-refused"]);

        // The browser sent the preflighted PUT after the gateway allowed it, and never the refused DELETE.
        Assert.Contains(_backend.Received, r => r.Method == "PUT" && r.Headers.TryGetValue("X-Tenant", out string? tenant) && tenant == "t1");
        Assert.DoesNotContain(_backend.Received, r => r.Method == "DELETE");
    }

    [SkippableFact]
    public async Task Browser_PageFromAnotherOrigin_CannotReadTheAnswer()
    {
        string chromium = FindChromium();

        Dictionary<string, string> results = await RunPageAsync(chromium, $"http://localhost:{_pagesPort}/page");

        Assert.Equal("blocked", results["get"]);
        Assert.Equal("blocked", results["exposed"]);
        Assert.Equal("blocked", results["preflighted"]);
        Assert.DoesNotContain(_backend.Received, r => r.Method == "PUT");
    }

    private async Task<Dictionary<string, string>> RunPageAsync(string chromium, string url)
    {
        string profile = Directory.CreateTempSubdirectory("gateway-chromium-").FullName;
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", $"--user-data-dir={profile}", url })
        {
            start.ArgumentList.Add(argument);
        }

        using Process browser = Process.Start(start)!;
        _ = browser.StandardOutput.ReadToEndAsync();
        Task<string> errors = browser.StandardError.ReadToEndAsync();
        try
        {
            Task finished = await Task.WhenAny(_report.Task, browser.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            if (finished != _report.Task)
            {
                string reason = browser.HasExited ? $"Chromium exited with {browser.ExitCode}" : "no report within 60 s";
                Assert.Fail($"{reason}; its output:\n{(browser.HasExited ? await errors : string.Empty)}");
            }

            return JsonSerializer.Deserialize<Dictionary<string, string>>(await _report.Task)!;
        }
        finally
        {
            if (!browser.HasExited)
            {
                browser.Kill(entireProcessTree: true);
                await browser.WaitForExitAsync();
            }

            _report = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
                // A helper process may still hold a file for a moment; the directory is under the temp folder.
            }
        }
    }

    private async Task ServePageAsync(HttpContext context)
    {
        if (context.Request.Path == "/report" && HttpMethods.IsPost(context.Request.Method))
        {
            using var reader = new StreamReader(context.Request.Body);
            _report.TrySetResult(await reader.ReadToEndAsync());
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (context.Request.Path != "/page")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(Page(_gateway.Client.BaseAddress!.ToString().TrimEnd('/')));
    }

    /// <summary>The page: each check is a fetch to the gateway; "blocked" is what a script sees when the browser refuses.</summary>
    private static string Page(string gateway) => $$"""
        <!doctype html>
        <html><body><pre id="out">running</pre>
        <script>
        const gw = "{{gateway}}";
        const results = {};
        async function check(name, call) {
          try { results[name] = await call(); } catch (e) { results[name] = "blocked"; }
        }
        (async () => {
          await check("get", async () => { const r = await fetch(gw + "/items/7"); return "ok " + r.status + " " + (await r.json()).name; });
          await check("exposed", async () => { const r = await fetch(gw + "/raw"); return "ok " + r.headers.get("X-Request-Id") + " " + r.headers.get("X-Internal"); });
          await check("preflighted", async () => {
            const r = await fetch(gw + "/items/7", { method: "PUT", headers: { "Content-Type": "application/json", "X-Tenant": "t1" }, body: "{}" });
            return "ok " + r.status;
          });
          await check("credentials", async () => { const r = await fetch(gw + "/items/7", { credentials: "include" }); return "ok " + r.status; });
          await check("header-refused", async () => { const r = await fetch(gw + "/items/7", { headers: { "X-Other": "1" } }); return "ok " + r.status; });
          await check("method-refused", async () => { const r = await fetch(gw + "/items/7", { method: "DELETE" }); return "ok " + r.status; });
          document.getElementById("out").textContent = JSON.stringify(results);
          await fetch("/report", { method: "POST", body: JSON.stringify(results) });
        })();
        </script></body></html>
        """;

    /// <summary>Debian's chromium (scripts/test.sh installs it when missing); the test is skipped, saying why, without one.</summary>
    private static string FindChromium()
    {
        string? configured = Environment.GetEnvironmentVariable("GATEWAY_TEST_CHROMIUM");
        foreach (string? candidate in new[] { configured, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" })
        {
            if (!string.IsNullOrEmpty(candidate) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        Skip.If(true, "no Chromium found (install Debian's chromium package, or set GATEWAY_TEST_CHROMIUM): the browser CORS test cannot run");
        return string.Empty;
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

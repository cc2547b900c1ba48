using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// The BFF gateways of issue 13 and their loopback backend: Configs/bff.json (compression on, 127.0.0.1 a trusted
/// proxy, relayed headers) and Configs/bff-off.json (<c>disable_gzip</c>, only 10.0.0.0/8 trusted).
/// </summary>
public sealed class BffFixture : IAsyncLifetime
{
    /// <summary>A JSON object of about 20 KB: a product list, as a mobile client's catalogue screen reads it.</summary>
    public static readonly string Catalog = BuildCatalog();

    /// <summary>The catalogue compressed by the backend itself, for a no-op answer with its own <c>Content-Encoding</c>.</summary>
    public static readonly byte[] CatalogGzippedByTheBackend = Gzip(Encoding.UTF8.GetBytes(Catalog));

    /// <summary>A user of about 2 KB, so that the merged profile is large enough to be compressed.</summary>
    public static readonly string User = $$"""{"id": 7, "name": "Ada", "bio": "{{new string('b', 1500)}}"}""";

    public TestBackend Backend { get; private set; } = null!;

    /// <summary>A backend that writes HTTP by hand: a body cut short.</summary>
    public RawBackend Raw { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public GatewayUnderTest GatewayOff { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        Backend.Answer("/catalog").WithJson(Catalog);
        Backend.Answer("/catalog/text").WithBody(Catalog.Replace('"', '\''), "text/plain");
        Backend.Answer("/small").WithJson("""{"ok": true}""");
        Backend.Answer("/whoami").WithJson("""{"ok": true}""");
        Backend.Answer("/failing").WithStatus(503).WithJson(Catalog);

        // No-op answers, each with what makes compression apply or not.
        Backend.Answer("/raw/json").WithJson(Catalog).WithHeader("ETag", "\"c-1\"");
        Backend.Answer("/raw/events").WithBody("data: " + Catalog + "\n\n", "text/event-stream");
        Backend.Answer("/raw/image").WithBody(new string('\u00ff', 4096), "image/png");
        Backend.Answer("/raw/empty").WithStatus(204).WithHeader("Content-Type", "application/json");
        Backend.On("raw", async context =>
        {
            switch (context.Request.Path.Value)
            {
                case "/raw/sized":
                    byte[] sized = Encoding.UTF8.GetBytes(Catalog);
                    context.Response.ContentType = "application/json";
                    context.Response.ContentLength = sized.Length;
                    await context.Response.Body.WriteAsync(sized);
                    break;
                case "/raw/gzipped":
                    context.Response.ContentType = "application/json";
                    context.Response.Headers.ContentEncoding = "gzip";
                    context.Response.ContentLength = CatalogGzippedByTheBackend.Length;
                    await context.Response.Body.WriteAsync(CatalogGzippedByTheBackend);
                    break;
                default:
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    break;
            }
        });

        // Backends whose headers the profile endpoints pass on (gateway/response), or not.
        Backend.Answer("/profile/user").WithJson(User)
            .WithHeader("ETag", "\"u-1\"")
            .WithHeader("Cache-Control", "private, max-age=60")
            .WithHeader("Set-Cookie", "session=abc; Path=/; HttpOnly")
            .WithHeader("Set-Cookie", "seen=1; Path=/")
            .WithHeader("X-Request-Id", "r-1")
            .WithHeader("X-Internal", "not for clients");
        Backend.Answer("/profile/prefs").WithJson("""{"theme": "dark"}""")
            .WithHeader("ETag", "\"p-1\"")
            .WithHeader("Set-Cookie", "theme=dark; Path=/")
            .WithHeader("X-Request-Id", "r-2");
        Backend.Answer("/profile/down").WithStatus(503).WithHeader("ETag", "\"down\"").WithHeader("Set-Cookie", "down=1");

        // A body that breaks off: 2 MiB of varied text (it does not compress to nothing) out of the 4 MiB announced, then
        // the backend closes its side. Every byte sent arrives before the close, so the gateway has started its answer.
        Raw = RawBackend.Start();
        Raw.On("cut", async (stream, _) =>
        {
            await RawBackend.WriteAsync(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4194304\r\n\r\n");
            var random = new Random(13);
            var chunk = new byte[64 * 1024];
            for (int i = 0; i < 32; i++)
            {
                for (int j = 0; j < chunk.Length; j++)
                {
                    chunk[j] = (byte)('a' + random.Next(26));
                }

                await stream.WriteAsync(chunk);
            }

            stream.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });

        var hosts = new Dictionary<string, string> { ["http://api.test:8080"] = Backend.BaseUrl, ["http://raw.test:8080"] = Raw.BaseUrl };
        Gateway = await GatewayUnderTest.StartAsync(global::Gateway.EndToEnd.Bff.CompiledGateway.Definition, hosts);
        GatewayOff = await GatewayUnderTest.StartAsync(global::Gateway.EndToEnd.BffOff.CompiledGateway.Definition, hosts);
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await GatewayOff.DisposeAsync();
        await Backend.DisposeAsync();
        await Raw.DisposeAsync();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>The body as the client's decoder reads it, by its <c>Content-Encoding</c>.</summary>
    public static string Decode(byte[] body, string? coding)
    {
        using var input = new MemoryStream(body);
        using Stream decoder = coding switch
        {
            "br" => new BrotliStream(input, CompressionMode.Decompress),
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            null => input,
            _ => throw new InvalidOperationException($"unexpected Content-Encoding {coding}"),
        };
        using var reader = new StreamReader(decoder, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string BuildCatalog()
    {
        var json = new StringBuilder("{\"items\": [");
        for (int i = 0; i < 120; i++)
        {
            json.Append(i == 0 ? string.Empty : ", ")
                .Append($$"""{"id": {{i}}, "name": "product {{i}}", "description": "a sturdy thing for everyday use, model {{i % 7}}", "price": {{10 + (i % 13)}}.50, "tags": ["home", "tools"]}""");
        }

        return json.Append("]}").ToString();
    }
}

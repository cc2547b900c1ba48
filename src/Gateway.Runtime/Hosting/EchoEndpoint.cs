using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// <c>/__echo/…</c> (only with <c>echo_endpoint: true</c>): describes the request as the gateway received it, in
/// KrakenD's field order (docs/compatibility.md). Meant for debugging a deployment; it reflects the client's headers.
/// </summary>
internal static class EchoEndpoint
{
    private const int MaxEchoedBody = 64 * 1024;

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        using var body = new PooledBuffer();
        while (body.Length <= MaxEchoedBody)
        {
            int read = await request.Body.ReadAsync(body.GetMemory(4096), context.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            body.Advance(read);
        }

        if (body.Length > MaxEchoedBody)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        using var output = new PooledBuffer();
        using (var writer = new Utf8JsonWriter(output, s_options))
        {
            string rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
            writer.WriteStartObject();
            writer.WriteString("req_uri", rawTarget);
            writer.WriteStartObject("req_uri_details");
            writer.WriteString("fragment", string.Empty);
            writer.WriteString("host", request.Host.Value ?? string.Empty);
            writer.WriteString("path", request.Path.Value ?? "/");
            writer.WriteString("query", request.QueryString.HasValue ? request.QueryString.Value![1..] : string.Empty);
            writer.WriteString("user", string.Empty);
            writer.WriteEndObject();
            writer.WriteString("req_method", request.Method);
            writer.WriteStartObject("req_querystring");
            foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> pair in request.Query)
            {
                WriteValues(writer, pair.Key, pair.Value);
            }

            writer.WriteEndObject();
            writer.WriteString("req_body", System.Text.Encoding.UTF8.GetString(body.WrittenSpan));
            writer.WriteStartObject("req_headers");
            foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in request.Headers)
            {
                WriteValues(writer, header.Key, header.Value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = GatewayHeaders.JsonContentType;
        context.Response.ContentLength = output.Length;
        await context.Response.BodyWriter.WriteAsync(output.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteValues(Utf8JsonWriter writer, string name, Microsoft.Extensions.Primitives.StringValues values)
    {
        writer.WriteStartArray(name);
        foreach (string? value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}

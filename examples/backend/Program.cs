// The example's backend services:
//   GET  /hotels/{id}, /destinations/{id}, /rates/{id}  the JSON documents in data/<collection>/<id>.json
//   POST /bookings                                       confirms a booking: echoes the JSON it was sent
//   POST /customers/lookup                               a proxy-chain service: answers {"customer_tier": ...}
// Usage: dotnet run --project examples/backend -- --urls http://127.0.0.1:8000
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

WebApplication app = WebApplication.CreateSlimBuilder(args).Build();
string data = Path.Combine(AppContext.BaseDirectory, "data");

app.Run(async context =>
{
    string[] parts = context.Request.Path.Value!.Trim('/').Split('/');
    if (HttpMethods.IsPost(context.Request.Method) && parts is ["bookings"] or ["customers", "lookup"])
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        string body = await reader.ReadToEndAsync();
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.ContentType = "application/json";
        context.Response.StatusCode = parts[0] == "bookings" ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        string answer = parts[0] == "bookings"
            ? $$"""{"booking_id": "bk-1001", "status": "confirmed", "received": {{body}}, "hotel_header": "{{context.Request.Headers["X-Hotel-Id"]}}"}"""
            : """{"customer_tier": "gold"}""";
        await context.Response.WriteAsync(answer);
        return;
    }

    bool known = parts.Length == 2 && parts[0] is "hotels" or "destinations" or "rates";
    string file = known ? Path.Combine(data, parts[0], Path.GetFileName(parts[1]) + ".json") : string.Empty;
    if (!HttpMethods.IsGet(context.Request.Method) || !File.Exists(file))
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return;
    }

    context.Response.ContentType = "application/json";
    await context.Response.SendFileAsync(file);
});

app.Run();

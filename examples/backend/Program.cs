// Serves the example's JSON documents: GET /hotels/{id}, /destinations/{id}, /rates/{id}
// from data/<collection>/<id>.json. Usage: dotnet run --project examples/backend -- --urls http://127.0.0.1:8000
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

WebApplication app = WebApplication.CreateSlimBuilder(args).Build();
string data = Path.Combine(AppContext.BaseDirectory, "data");

app.Run(async context =>
{
    string[] parts = context.Request.Path.Value!.Trim('/').Split('/');
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

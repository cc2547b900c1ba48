using System.Net;

namespace Gateway.EndToEnd.Tests;

/// <summary>The bundled example (examples/hotels/krakend.json) against a backend serving the example's own data files.</summary>
public sealed class ExampleTests : IAsyncLifetime
{
    private TestBackend _backend = null!;
    private GatewayUnderTest _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestBackend.StartAsync();
        foreach (string collection in new[] { "hotels", "destinations", "rates" })
        {
            _backend.On(collection, context =>
            {
                string file = Path.Combine(AppContext.BaseDirectory, "ExampleData", collection, Path.GetFileName(context.Request.Path.Value!) + ".json");
                return File.Exists(file)
                    ? TestBackend.Json(context, File.ReadAllText(file))
                    : TestBackend.Json(context, "{}", 404);
            });
        }

        _backend.On("bookings", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string received = await reader.ReadToEndAsync();
            await TestBackend.Json(context, $$"""{"booking_id": "bk-1001", "received": {{received}}}""", 201);
        });

        _gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Example.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://127.0.0.1:8000"] = _backend.BaseUrl });
    }

    [Fact]
    public async Task HotelDestinations_Hotel25_ExactMergedBody()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/hotel-destinations/25");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", string.Join(",", response.Headers.GetValues("X-KrakenD-Completed")));
        // Top-level keys are re-written; each value is copied byte for byte (129.50 stays 129.50).
        Assert.Equal(
            """{"id":25,"name":"Hotel Miramar","stars":4,"destination_id":"barcelona","address":{"street": "Passeig de Colom 12", "city": "Barcelona"},"price_from":129.50,"destination":{"id": "barcelona", "name": "Barcelona", "country": "ES", "timezone": "Europe/Madrid", "highlights": ["Sagrada Família", "Park Güell", "La Barceloneta"]}}""",
            await response.Content.ReadAsStringAsync());
        Assert.Equal(new[] { "/hotels/25", "/destinations/barcelona" }, _backend.Received.OrderBy(r => r.Started).Select(r => r.RawTarget));
    }

    [Fact]
    public async Task Book_Hotel25_PostBodyBuiltFromHotelAndRates()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hotels/25/book");
        request.Headers.Add("X-Guest", "Ana");
        using HttpResponseMessage response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", string.Join(",", response.Headers.GetValues("X-KrakenD-Completed")));
        ReceivedRequest booking = Assert.Single(_backend.ReceivedWith("/bookings"));
        Assert.Equal("POST", booking.Method);
        Assert.Equal("""{"hotel_id":25,"nightly":129.50,"currency":"EUR","guest":"Ana","note":"Booking at Hotel Miramar"}""", booking.Body);
        Assert.Equal("25", booking.Headers["X-Hotel-Id"]);
        Assert.Contains("\"booking\":{\"booking_id\": \"bk-1001\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HotelOverview_Hotel7_ParallelMergeWithGroup()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/hotels/7/overview");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonAssert.Equivalent(
            """{"id": 7, "name": "Grand Hôtel du Lac", "stars": 5, "destination_id": "annecy", "address": {"street": "1 Quai Napoléon III", "city": "Annecy"}, "price_from": 310.00, "rates": {"currency": "EUR", "nightly": 310.00, "available": false}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HotelDestinations_UnknownHotel_500()
    {
        using HttpResponseMessage response = await _gateway.Client.GetAsync("/hotel-destinations/999");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Single(_backend.Received);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }
}

using System.Net;
using System.Text;
using System.Text.Json;

namespace Gateway.EndToEnd.Tests;

/// <summary>The injection gateway (Configs/injection.json) and one backend that both serves values and records what reaches it.</summary>
public sealed class InjectionFixture : IAsyncLifetime
{
    public TestBackend Backend { get; private set; } = null!;

    public GatewayUnderTest Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Backend = await TestBackend.StartAsync();
        for (int n = 0; n < InjectionTests.Payloads.Length; n++)
        {
            string json = JsonSerializer.Serialize(new Dictionary<string, string> { ["v"] = InjectionTests.Payloads[n] });
            Backend.Answer("/value/" + n).WithJson(json);
            Backend.Answer("/key/" + n).WithJson(JsonSerializer.Serialize(new Dictionary<string, string> { [InjectionTests.Payloads[n]] = "k" }));
        }

        Backend.Answer("/seen").WithJson("""{"ok": true}""");
        Gateway = await GatewayUnderTest.StartAsync(
            global::Gateway.EndToEnd.Injection.CompiledGateway.Definition,
            new Dictionary<string, string> { ["http://inj.test"] = Backend.BaseUrl });
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

/// <summary>
/// Issue 16, section 4 (docs/reliability.md, injection): hostile values from a client and from a backend, put in every
/// place a value lands. A row passes when the backend never sees the value (the gateway refused it, or failed the step),
/// or sees exactly the value, inside the one place it was put: one path segment, one query value, one header, one JSON
/// string. Anything else is an injection.
/// </summary>
public class InjectionTests : IClassFixture<InjectionFixture>
{
    public static readonly string[] Payloads =
    [
        "a\r\nX-Injected: 1",
        "a\nX-Injected: 1",
        "a\0b",
        "../admin",
        "..",
        "%2e%2e",
        "%2e%2e%2fadmin",
        "a?x=1",
        "a#frag",
        "a&x=1",
        "a=b;c+d",
        "a/b",
        "\"},\"admin\":true,\"x\":{\"",
        "\uFF0E\uFF0E\uFF0Fadmin", // fullwidth full stops and solidus
        "\u2024\u2024\u2215admin", // one dot leaders and a division slash
        "%C0%AE%C0%AE%C0%AF",      // overlong UTF-8 for "../", as text
        "\u0430dmin",              // Cyrillic a
    ];

    private readonly InjectionFixture _f;

    public InjectionTests(InjectionFixture fixture)
    {
        _f = fixture;
        _f.Backend.ClearReceived();
    }

    public static TheoryData<int, bool> Rows()
    {
        var rows = new TheoryData<int, bool>();
        for (int n = 0; n < Payloads.Length; n++)
        {
            rows.Add(n, true);
            rows.Add(n, false);
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task BackendValue_InPathQueryHeaderAndBody_ArrivesWholeOrNotAtAll(int row, bool withHeader)
    {
        string payload = Payloads[row];
        using HttpResponseMessage response = await _f.Gateway.Client.GetAsync(withHeader ? $"/backend/{row}" : $"/backend-bare/{row}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertNotInjected(payload, withHeader ? ("X-Seen", payload) : null, [("q", payload)], [("v", payload), ("text", "v=" + payload)]);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task ClientValue_InPathQueryHeaderAndBody_ArrivesWholeOrNotAtAll(int row, bool withHeader)
    {
        string payload = Payloads[row];
        string escaped = Uri.EscapeDataString(payload);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/{(withHeader ? "client" : "client-bare")}/{escaped}?q={escaped}");

        // No client can send CR, LF or NUL in a header past Kestrel, and HttpClient sends ASCII only; those rows send a
        // plain header.
        string header = payload.AsSpan().ContainsAny("\r\n\0") || !Ascii.IsValid(payload) ? "plain" : payload;
        request.Headers.TryAddWithoutValidation("X-V", header);
        using HttpResponseMessage response = await _f.Gateway.Client.SendAsync(request);

        // A value a header cannot carry fails the backend step; the endpoint's only step failing is KrakenD's 500.
        bool stepFailed = response.StatusCode == HttpStatusCode.InternalServerError
            && response.Headers.TryGetValues("X-KrakenD-Completed", out IEnumerable<string>? completed) && completed.Single() == "false";
        Assert.True((int)response.StatusCode < 500 || stepFailed, $"{(int)response.StatusCode} for {escaped}");
        AssertNotInjected(payload, withHeader ? ("X-Seen-Q", payload) : null, [("q", payload), ("h", header)], [("v", payload), ("q", payload), ("h", header), ("text", "v=" + payload)]);
    }

    [Theory]
    [MemberData(nameof(ProxyChainRows))]
    public async Task ProxyChainBody_ServiceAnswerAndClientValues_PassedOnAsTheirOwnMembersOnly(int row)
    {
        // The client's JSON body and query, then each service's answer, are merged into one object that the next
        // service and the endpoint's backend get as their body: a value (and a key) must stay one member of it.
        string payload = Payloads[row];
        string clientBody = JsonSerializer.Serialize(new Dictionary<string, string> { ["c"] = payload });
        using var content = new StringContent(clientBody, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _f.Gateway.Client.PostAsync($"/chain/{row}?q={Uri.EscapeDataString(payload)}", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        (string Name, string Value)[] expected = [("c", payload), ("q", payload), ("v", payload), (payload, "k")];

        // The second service gets what the client and the first service gave; the backend gets all of it.
        AssertMembersExactly(Assert.Single(_f.Backend.ReceivedWith("/key/" + row)), "/key/" + row, expected[..3]);
        AssertMembersExactly(Assert.Single(_f.Backend.ReceivedWith("/seen/chain/")), "/seen/chain/end", expected);
    }

    public static TheoryData<int> ProxyChainRows() => new(Enumerable.Range(0, Payloads.Length));

    private static void AssertMembersExactly(ReceivedRequest received, string target, (string Name, string Value)[] members)
    {
        Assert.Equal(target, received.RawTarget);
        Assert.DoesNotContain(received.Headers.Keys, k => k.Equals("X-Injected", StringComparison.OrdinalIgnoreCase));
        using JsonDocument document = JsonDocument.Parse(received.Body);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        Assert.Equal(
            members.Select(m => m.Name).Order(StringComparer.Ordinal),
            document.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach ((string name, string value) in members)
        {
            Assert.Equal(value, document.RootElement.GetProperty(name).GetString());
        }
    }

    private void AssertNotInjected(string segment, (string Name, string Value)? header, (string Name, string Value)[] query, (string Name, string Value)[] body)
    {
        ReceivedRequest[] seen = _f.Backend.ReceivedWith("/seen");

        // Without a header in the template every value must get through, and with one every value a header can carry
        // (visible ASCII): refusing all would pass the rest. Not a client's "..", which HttpClient resolves away, nor
        // NUL: Kestrel answers 400 to a %00 in a path (the gateway's for a client's value, the test backend's for a
        // backend's).
        bool headerCarries = header is null || (Ascii.IsValid(segment) && !segment.AsSpan().ContainsAnyInRange('\0', '\u001f'));
        Assert.True(seen.Length > 0 || !headerCarries || segment is ".." || segment.Contains('\0', StringComparison.Ordinal), "the value was refused");
        if (seen.Length == 0)
        {
            return; // refused, or the step failed: nothing reached the backend
        }

        ReceivedRequest received = Assert.Single(seen);
        string target = received.RawTarget;
        Assert.All(target, c => Assert.InRange(c, '!', '~'));
        Assert.DoesNotContain('#', target);
        int question = target.IndexOf('?', StringComparison.Ordinal);
        Assert.True(question > 0, target);

        // Exactly three segments, the middle one the whole value.
        string[] segments = target[..question].Split('/');
        Assert.Equal(4, segments.Length);
        Assert.Equal(["", "seen", "end"], [segments[0], segments[1], segments[3]]);
        Assert.Equal(segment, Uri.UnescapeDataString(segments[2]));

        // Exactly the query parameters the template wrote, each the whole value.
        string[] parameters = target[(question + 1)..].Split('&');
        Assert.Equal(query.Length, parameters.Length);
        for (int i = 0; i < query.Length; i++)
        {
            Assert.StartsWith(query[i].Name + "=", parameters[i], StringComparison.Ordinal);
            Assert.Equal(query[i].Value, Uri.UnescapeDataString(parameters[i][(query[i].Name.Length + 1)..]));
        }

        // One header holding the value, nothing added beside it.
        Assert.DoesNotContain(received.Headers.Keys, k => k.Equals("X-Injected", StringComparison.OrdinalIgnoreCase));
        if (header is { } expected)
        {
            Assert.Equal(expected.Value, DecodeHeader(received.Headers[expected.Name]));
        }

        // A JSON object whose strings hold the value and nothing else.
        using JsonDocument document = JsonDocument.Parse(received.Body);
        Assert.False(document.RootElement.TryGetProperty("admin", out _));
        foreach ((string name, string value) in body)
        {
            Assert.Equal(value, document.RootElement.GetProperty(name).GetString());
        }
    }

    // Kestrel reads header values as Latin-1 unless told otherwise; the gateway sends UTF-8.
    private static string DecodeHeader(string latin1) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(latin1));
}

using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.EndToEnd.Tests;

/// <summary>
/// A canned answer of a <see cref="TestBackend"/>, declared where the fixture lists its paths:
/// <c>backend.Answer("/merge/first").WithJson("""{"id": 1}""")</c>, <c>.WithStatus(503)</c>, <c>.After(delay)</c>,
/// <c>.Echo()</c>. Defaults: 200, no headers, no body.
/// </summary>
/// <remarks>
/// The body is written without a declared length (chunked), so the answer ends only after the backend has recorded the
/// request: a test that reads <see cref="TestBackend.Received"/> once the gateway has answered always finds it.
/// </remarks>
public sealed class BackendAnswer
{
    private readonly List<KeyValuePair<string, string>> _headers = [];
    private int _status = StatusCodes.Status200OK;
    private string? _contentType;
    private Func<string>? _body;
    private TimeSpan _delay;
    private bool _echo;

    /// <summary>Answers with this status (200 unless set).</summary>
    public BackendAnswer WithStatus(int status)
    {
        _status = status;
        return this;
    }

    /// <summary>Answers with this JSON text (<c>application/json</c>), written as it is: it need not be valid.</summary>
    public BackendAnswer WithJson(string json) => WithBody(json, "application/json");

    /// <summary>Answers with the JSON text <paramref name="json"/> returns when the request arrives (tests change it).</summary>
    public BackendAnswer WithJson(Func<string> json)
    {
        _body = json;
        _contentType = "application/json";
        return this;
    }

    /// <summary>Answers with this text and content type.</summary>
    public BackendAnswer WithBody(string body, string contentType)
    {
        _body = () => body;
        _contentType = contentType;
        return this;
    }

    /// <summary>Adds a response header; a name added twice is sent twice (<c>Set-Cookie</c>).</summary>
    public BackendAnswer WithHeader(string name, string value)
    {
        _headers.Add(new(name, value));
        return this;
    }

    /// <summary>Answers with <paramref name="status"/> and a <c>Location</c> header.</summary>
    public BackendAnswer RedirectTo(string location, int status = StatusCodes.Status302Found) => WithStatus(status).WithHeader("Location", location);

    /// <summary>
    /// Waits <paramref name="delay"/> before answering. When the caller gives up first (the gateway's timeout, a
    /// cancelled race) the backend sends nothing, and the request is recorded as <see cref="ReceivedRequest.Aborted"/>.
    /// </summary>
    public BackendAnswer After(TimeSpan delay)
    {
        _delay = delay;
        return this;
    }

    /// <summary>Answers <c>{"body": "…"}</c> with the request body it received, as a JSON string.</summary>
    public BackendAnswer Echo()
    {
        _echo = true;
        _contentType = "application/json";
        return this;
    }

    internal async Task WriteAsync(HttpContext context)
    {
        if (_delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(_delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        HttpResponse response = context.Response;
        response.StatusCode = _status;
        foreach (KeyValuePair<string, string> header in _headers)
        {
            response.Headers.Append(header.Key, header.Value);
        }

        if (_contentType is not null)
        {
            response.ContentType = _contentType;
        }

        string? body = _echo ? await EchoAsync(context.Request) : _body?.Invoke();
        if (!string.IsNullOrEmpty(body))
        {
            await response.WriteAsync(body);
        }
    }

    private static async Task<string> EchoAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        string received = await reader.ReadToEndAsync();
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("body", received);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(json.ToArray());
    }
}

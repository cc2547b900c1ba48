using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// The state of one client request while its backends run: the route values, the time budget, each backend's
/// result, and the rules that turn those results into the client's response (krakend.md §10, deviations.md).
/// </summary>
public sealed class ProxyExchange : IDisposable
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        // Keep non-ASCII text as UTF-8 instead of \uXXXX; the output is still valid JSON.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly HttpContext _context;
    private readonly byte[]?[] _groups;
    private readonly BackendResult[] _results;
    private readonly CancellationTokenSource _budget;

    internal ProxyExchange(HttpContext context, string[] routeValues, byte[]?[] groups, TimeSpan backendBudget)
    {
        _context = context;
        RouteValues = routeValues;
        _groups = groups;
        _results = new BackendResult[groups.Length];
        Array.Fill(_results, BackendResult.NotCalled);
        _budget = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        _budget.CancelAfter(backendBudget);
    }

    /// <summary>Decoded route parameter values, in path order.</summary>
    public string[] RouteValues { get; }

    /// <summary>
    /// Calls backend <paramref name="index"/>. A null <paramref name="url"/> means a placeholder could not be
    /// resolved: the backend is not called and counts as failed (deviations.md 2).
    /// </summary>
    public async Task<BackendResult> SendAsync(int index, HttpMethod method, BackendHostGroup hosts, string? url)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        BackendResult result = url is null
            ? BackendResult.Failed(BackendFailure.UnresolvedPlaceholder)
            : await BackendCaller.SendAsync(_context, hosts, method, url, hosts.MaxResponseBodyBytes, _budget.Token).ConfigureAwait(false);
        _results[index] = result;
        return result;
    }

    /// <summary>Writes the client response from the results gathered so far.</summary>
    internal Task WriteResponseAsync()
    {
        HttpResponse response = _context.Response;
        if (_context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        int succeeded = 0;
        foreach (BackendResult result in _results)
        {
            if (result.Succeeded)
            {
                succeeded++;
            }
        }

        // No data at all (every backend failed, or the first step of a sequence did) is a 500 with an empty body.
        if (succeeded == 0)
        {
            response.StatusCode = StatusCodes.Status500InternalServerError;
            response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
            return Task.CompletedTask;
        }

        bool complete = succeeded == _results.Length;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GatewayHeaders.JsonContentType;

        // Single backend, no group: the backend's object is the answer, byte for byte.
        if (_results.Length == 1 && _groups[0] is null)
        {
            ReadOnlySpan<byte> body = _results[0].Body;
            response.Headers[GatewayHeaders.Completed] = complete && !IsEmptyObject(body) ? GatewayHeaders.True : GatewayHeaders.False;
            response.ContentLength = body.Length;
            return response.BodyWriter.WriteAsync(_results[0].BodyMemory).AsTask();
        }

        var sources = new MergeSource[succeeded];
        int count = 0;
        bool anyData = false;
        for (int i = 0; i < _results.Length; i++)
        {
            if (_results[i].Succeeded)
            {
                sources[count++] = new MergeSource(_results[i].BodyMemory, _groups[i]);
                anyData |= _groups[i] is not null || !IsEmptyObject(_results[i].Body);
            }
        }

        // KrakenD: complete only if every backend succeeded and the merged data is not empty.
        response.Headers[GatewayHeaders.Completed] = complete && anyData ? GatewayHeaders.True : GatewayHeaders.False;
        using var writer = new Utf8JsonWriter(response.BodyWriter, s_writerOptions);
        JsonMerger.WriteMerged(writer, sources);
        writer.Flush();
        return Task.CompletedTask;
    }

    private static bool IsEmptyObject(ReadOnlySpan<byte> json)
    {
        ReadOnlySpan<byte> inner = json.Length >= 2 ? json[1..^1] : default;
        return inner.Trim(" \t\r\n"u8).IsEmpty;
    }

    public void Dispose()
    {
        _budget.Dispose();
        foreach (BackendResult result in _results)
        {
            result.ReturnBuffer();
        }
    }
}

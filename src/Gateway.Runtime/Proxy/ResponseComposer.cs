using System.Buffers;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Components.Shaping;
using Gateway.Http;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Shaping;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// Turns the backends' results into the client's response, in KrakenD's order (docs/configuration.md, rendering and errors): merge, endpoint
/// flatmap_filter, static data, then the endpoint's answer stages (relayed backend headers), the status code,
/// completeness and caching, and the renderer of <c>output_encoding</c>, compressed for clients that accept it.
/// </summary>
internal static class ResponseComposer
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        // Keep non-ASCII text as UTF-8 instead of \uXXXX; the output is still valid JSON.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonPath s_collection = new("collection"u8.ToArray());
    private static readonly JsonPath s_content = new("content"u8.ToArray());

    /// <param name="answerStages">The endpoint components' stages that take part in an answer with data (<see cref="IEndpointAnswerStage"/>).</param>
    /// <param name="dataStages">The endpoint components' stages that may rewrite the composed data (<see cref="IEndpointDataStage"/>).</param>
    public static Task WriteAsync(ProxyExchange exchange, IEndpointAnswerStage[] answerStages, IEndpointDataStage[]? dataStages = null)
    {
        HttpContext context = exchange.Context;
        if (context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        EndpointDefinition endpoint = exchange.Endpoint;
        if (endpoint.DeadlineStatus is { } deadline && exchange.Budget.IsCancellationRequested && HasTimedOutStep(exchange))
        {
            // Opted in: a budget that ran out is an error of its own, not a partial answer.
            return FailureAnswers.WriteDeadlineAsync(exchange, deadline);
        }

        dataStages ??= [];
        if (endpoint.Output == OutputEncoding.NoOp)
        {
            return PassThroughAsync(exchange, dataStages);
        }

        if (exchange.BackendsSkipped)
        {
            // No backend was called (skip_next): the data stages get an empty, incomplete answer, as KrakenD's script does.
            return WriteData(exchange, answerStages, dataStages, "{}"u8, complete: false, errored: false, transform: true);
        }

        IReadOnlyList<BackendResult> results = exchange.Results;
        int succeeded = 0;
        int skipped = 0;
        bool complete = true;
        foreach (BackendResult result in results)
        {
            // A skipped step (its condition is false) is neither data nor a failure.
            skipped += result.Skipped ? 1 : 0;
            succeeded += result.Succeeded && !result.Skipped ? 1 : 0;
            complete &= result.Skipped || (result.Succeeded && result.Complete);
        }

        bool errored = succeeded + skipped < results.Count;
        bool staticApplies = endpoint.StaticData is not null && endpoint.StaticStrategy switch
        {
            StaticStrategy.Success => !errored,
            StaticStrategy.Errored => errored,
            StaticStrategy.Complete => complete,
            StaticStrategy.Incomplete => !complete,
            _ => true,
        };

        if (skipped == results.Count && !staticApplies)
        {
            // Every step's condition was false: nothing failed and nothing was asked for, an empty, complete answer.
            return WriteData(exchange, answerStages, dataStages, "{}"u8, complete: true, errored: false, transform: true);
        }

        if (succeeded == 0 && !staticApplies)
        {
            return FailureAnswers.WriteNoDataAsync(exchange);
        }

        if (errored && FailedRequiredStep(exchange) is { } required)
        {
            return FailureAnswers.WriteNoDataAsync(exchange, required);
        }

        // Buffers only when there is something to merge or flatten; a single ungrouped backend is answered as it is.
        // Static data goes on top of the endpoint's flatmap_filter, so the flatmap never sees (nor deletes or moves) a
        // static key; without a flatmap it joins the backends' merge as its last source, which gives the same object.
        PooledBuffer? merged = null;
        List<PooledBuffer>? joined = null;
        PooledBuffer? flattened = null;
        PooledBuffer? withStatic = null;
        try
        {
            ReadOnlySpan<byte> data = Merge(exchange, staticApplies && endpoint.Flatmap is null, ref merged, ref joined);
            if (endpoint.Flatmap is not null)
            {
                flattened = new PooledBuffer(data.Length + 64);
                Flatmap.Apply(data, endpoint.Flatmap, flattened);
                data = flattened.WrittenSpan;
                if (staticApplies)
                {
                    withStatic = new PooledBuffer(data.Length + endpoint.StaticData!.Length + 64);
                    WriteMerged(withStatic, [new MergeSource(flattened.WrittenMemory, null), new MergeSource(endpoint.StaticData, null)]);
                    data = withStatic.WrittenSpan;
                }
            }

            // KrakenD: complete only when every backend answered completely and there is data (docs/configuration.md, errors).
            complete &= succeeded > 0 && !IsEmptyObject(data);

            // A proxy-level script sees the answer only when no backend failed, as KrakenD runs it on a response without error.
            return WriteData(exchange, answerStages, dataStages, data, complete, errored, transform: !errored);
        }
        finally
        {
            merged?.Dispose();
            if (joined is not null)
            {
                foreach (PooledBuffer buffer in joined)
                {
                    buffer.Dispose();
                }
            }

            flattened?.Dispose();
            withStatic?.Dispose();
        }
    }

    /// <summary>The data stages (when <paramref name="transform"/>), the answer stages, the gateway's headers, the render.</summary>
    private static Task WriteData(ProxyExchange exchange, IEndpointAnswerStage[] answerStages, IEndpointDataStage[] dataStages, ReadOnlySpan<byte> data, bool complete, bool errored, bool transform)
    {
        EndpointDefinition endpoint = exchange.Endpoint;
        PooledBuffer? rewritten = null;
        try
        {
            if (transform)
            {
                foreach (IEndpointDataStage stage in dataStages)
                {
                    if (stage.Transform(exchange, data, ref complete, out PooledBuffer? replaced) is { } answered)
                    {
                        replaced?.Dispose();
                        return answered;
                    }

                    if (replaced is not null)
                    {
                        rewritten?.Dispose();
                        rewritten = replaced;
                        data = replaced.WrittenSpan;
                    }
                }
            }

            HttpResponse response = exchange.Context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            foreach (IEndpointAnswerStage stage in answerStages)
            {
                stage.Apply(exchange, response);
            }

            endpoint.PassThrough?.Apply(exchange, response, failedOnly: false);

            response.Headers[GatewayHeaders.Completed] = complete ? GatewayHeaders.True : GatewayHeaders.False;
            if (complete && endpoint.CacheControl is not null)
            {
                response.Headers.CacheControl = endpoint.CacheControl;
            }

            if (errored)
            {
                FailureAnswers.WriteFailedSteps(exchange);
            }

            FailureAnswers.WriteServerTiming(exchange);

            // Render copies the body into Kestrel's pipe before it returns, so the buffers can go back to the pool.
            return Render(response, endpoint.Output, data, endpoint.Compression);
        }
        finally
        {
            rewritten?.Dispose();
        }
    }

    /// <summary>Whether a step failed because time ran out (the budget's end, not the client's departure).</summary>
    private static bool HasTimedOutStep(ProxyExchange exchange)
    {
        foreach (BackendResult result in exchange.Results)
        {
            if (result.Failure == BackendFailure.Timeout)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first <c>gateway/step.required</c> step that failed or was not called, or null.</summary>
    private static int? FailedRequiredStep(ProxyExchange exchange)
    {
        for (int i = 0; i < exchange.Results.Count; i++)
        {
            if (exchange.Backends[i].Required && !exchange.Results[i].Succeeded)
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// The merged data object: each successful backend (wrapped in its group), then, when asked, static data on top. A
    /// <c>for_each</c> step with <c>join_as</c> is not merged itself: its results are put into the elements of its source
    /// step's array, and that step's data is merged with them (buffers in <paramref name="joined"/>, released by the caller).
    /// </summary>
    private static ReadOnlySpan<byte> Merge(ProxyExchange exchange, bool withStatic, ref PooledBuffer? output, ref List<PooledBuffer>? joined)
    {
        IReadOnlyList<BackendResult> results = exchange.Results;
        BackendDefinition[] backends = exchange.Backends;
        bool joins = HasJoins(backends);
        int count = withStatic ? 1 : 0;
        for (int i = 0; i < results.Count; i++)
        {
            count += Merged(results[i], backends[i], joins) ? 1 : 0;
        }

        // A rented array: the sources are read before this returns.
        MergeSource[] rented = System.Buffers.ArrayPool<MergeSource>.Shared.Rent(count);
        try
        {
            Span<MergeSource> sources = rented.AsSpan(0, count);
            return Merge(exchange, withStatic, joins, sources, ref output, ref joined);
        }
        finally
        {
            rented.AsSpan(0, count).Clear();
            System.Buffers.ArrayPool<MergeSource>.Shared.Return(rented);
        }
    }

    private static ReadOnlySpan<byte> Merge(ProxyExchange exchange, bool withStatic, bool joins, Span<MergeSource> sources, ref PooledBuffer? output, ref List<PooledBuffer>? joined)
    {
        IReadOnlyList<BackendResult> results = exchange.Results;
        BackendDefinition[] backends = exchange.Backends;
        int next = 0;
        for (int i = 0; i < results.Count; i++)
        {
            if (Merged(results[i], backends[i], joins))
            {
                ReadOnlyMemory<byte> data = joins ? WithJoins(exchange, i, results[i].BodyMemory, ref joined) : results[i].BodyMemory;
                sources[next++] = new MergeSource(data, backends[i].Group);
            }
        }

        if (withStatic)
        {
            sources[next] = new MergeSource(exchange.Endpoint.StaticData, null);
        }

        // One ungrouped object is already the answer.
        if (sources.Length == 1 && sources[0].Group is null)
        {
            return sources[0].Json.Span;
        }

        output = new PooledBuffer();
        WriteMerged(output, sources);
        return output.WrittenSpan;
    }

    private static bool Merged(BackendResult result, BackendDefinition backend, bool joins) =>
        result.Succeeded && !result.Skipped && !(joins && backend.ForEach is { JoinAs: not null });

    private static bool HasJoins(BackendDefinition[] backends)
    {
        foreach (BackendDefinition backend in backends)
        {
            if (backend.ForEach is { JoinAs: not null })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Step <paramref name="source"/>'s data with the results of every <c>join_as</c> step over it, in configuration order.</summary>
    private static ReadOnlyMemory<byte> WithJoins(ProxyExchange exchange, int source, ReadOnlyMemory<byte> data, ref List<PooledBuffer>? joined)
    {
        for (int j = 0; j < exchange.Backends.Length; j++)
        {
            if (exchange.Backends[j].ForEach is { JoinAs: { } name, JoinAsJson: { } nameJson } plan && plan.Source == source
                && exchange.Results[j].PerElement is { } values)
            {
                var output = new PooledBuffer(data.Length + 256);
                (joined ??= new List<PooledBuffer>()).Add(output);
                JsonArrays.WriteJoined(data.Span, plan.Array, nameJson, name, values, output);
                data = output.WrittenMemory;
            }
        }

        return data;
    }

    private static void WriteMerged(PooledBuffer output, ReadOnlySpan<MergeSource> sources)
    {
        // One writer per thread, pointed at each output in turn (a merge never runs inside another on one thread).
        Utf8JsonWriter writer = t_mergeWriter ??= new Utf8JsonWriter(output, s_writerOptions);
        writer.Reset(output);
        try
        {
            JsonMerger.WriteMerged(writer, sources);
            writer.Flush();
        }
        finally
        {
            // Let go of the output: it goes back to the pool with its request.
            writer.Reset(NoOutput.Instance);
        }
    }

    [ThreadStatic]
    private static Utf8JsonWriter? t_mergeWriter;

    /// <summary>Where the merge writer points between merges: it is never written to.</summary>
    private sealed class NoOutput : System.Buffers.IBufferWriter<byte>
    {
        public static readonly NoOutput Instance = new();

        public void Advance(int count) => throw new InvalidOperationException("no merge is being written");

        public Memory<byte> GetMemory(int sizeHint = 0) => throw new InvalidOperationException("no merge is being written");

        public Span<byte> GetSpan(int sizeHint = 0) => throw new InvalidOperationException("no merge is being written");
    }

    /// <summary>The renderers of <c>output_encoding</c> (docs/configuration.md, rendering).</summary>
    private static Task Render(HttpResponse response, OutputEncoding output, ReadOnlySpan<byte> data, bool compress)
    {
        switch (output)
        {
            case OutputEncoding.JsonCollection:
                response.ContentType = GatewayHeaders.JsonContentType;
                return JsonValueLocator.TryLocate(data, s_collection, out JsonValueRange collection) && collection.Kind != JsonTokenType.Null
                    ? WriteBody(response, data.Slice(collection.Start, collection.Length), compress)
                    : WriteBody(response, "[]"u8, compress);
            case OutputEncoding.String:
                response.ContentType = GatewayHeaders.TextContentType;
                if (JsonValueLocator.TryLocate(data, s_content, out JsonValueRange content) && content.Kind == JsonTokenType.String)
                {
                    var reader = new Utf8JsonReader(data.Slice(content.Start, content.Length));
                    reader.Read();
                    return WriteBody(response, Encoding.UTF8.GetBytes(reader.GetString()!), compress);
                }

                response.ContentLength = 0;
                return Task.CompletedTask;
            default:
                response.ContentType = GatewayHeaders.JsonContentType;
                return WriteBody(response, data, compress);
        }
    }

    /// <summary>
    /// <c>no-op</c>: the backend's status, headers and body as they are, streamed (docs/configuration.md, rendering),
    /// the body compressed on the way for a client that accepts it when the backend sent it uncompressed. The endpoint's
    /// timeout bounds the whole exchange, body included: a backend that stalls mid-body loses the client connection
    /// (aborted, so the truncated body cannot pass for a complete one); one that stalls before its first body byte gets
    /// the failed-backend answer.
    /// </summary>
    private static async Task PassThroughAsync(ProxyExchange exchange, IEndpointDataStage[] dataStages)
    {
        HttpResponse response = exchange.Context.Response;
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;

        // An answer of the gateway's own client is relayed from the connection as it was read; a stage that reads or
        // changes it (Lua) gets it as a message, as .NET's client gives it.
        BackendResult result = exchange.Results[0];
        Forwarding.Http1.Http1Response? relayed = dataStages.Length == 0 ? result.Relayed : null;
        HttpResponseMessage? backend = relayed is null ? result.PassThroughMessage() : null;
        if (relayed is null && backend is null)
        {
            FailureAnswers.WriteEmpty(response, StatusCodes.Status500InternalServerError);
            return;
        }

        if (backend is not null)
        {
            foreach (IEndpointDataStage stage in dataStages)
            {
                if (!await stage.TransformPassThroughAsync(exchange, backend).ConfigureAwait(false))
                {
                    return; // the stage answered
                }
            }
        }

        int status;
        long? declaredLength;
        if (relayed is not null)
        {
            status = relayed.Status;
            CopyLines(relayed.Kept, response);
            declaredLength = relayed.DeclaredLength;
        }
        else
        {
            status = (int)backend!.StatusCode;
            CopyHeaders(backend.Headers, response);
            CopyHeaders(backend.Content.Headers, response);
            declaredLength = backend.Content.Headers.ContentLength;
        }

        response.StatusCode = status;

        // 204 and 304 have no body (RFC 9110 §15.3.5, §15.4.5), nor does any answer to HEAD: whatever the backend sent
        // is not relayed. A 204 must not even declare a length (RFC 9110 §8.6); 304 and HEAD answers may.
        if (status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified || HttpMethods.IsHead(exchange.Context.Request.Method))
        {
            if (status == StatusCodes.Status204NoContent)
            {
                response.Headers.ContentLength = null;
            }

            return;
        }

        // Compressed as it streams for a client that accepts it, unless the backend's answer has a coding of its own
        // or a type that does not compress (ResponseCompression.Negotiate); its length then no longer holds.
        ContentCoding coding = exchange.Endpoint.Compression
            ? ResponseCompression.Negotiate(exchange.Context, declaredLength)
            : ContentCoding.Identity;
        CompressingStream? compressor = null;
        if (coding != ContentCoding.Identity)
        {
            response.Headers.ContentLength = null;
            ResponseCompression.MarkEncoded(response, coding);
            compressor = ResponseCompression.CreateStream(coding, response.Body);
        }

        try
        {
            Stream body = relayed is not null
                ? Forwarding.Http1.Http1StreamedContent.OpenBody(relayed)
                : await backend!.Content.ReadAsStreamAsync(exchange.Budget).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                if (exchange.Record is { } record)
                {
                    // The access log reports the bytes sent; a streamed body has no Content-Length to read them from
                    // (with a coding, the bytes before it).
                    record.StreamedBytes = await CopyCountingAsync(body, compressor ?? response.Body, exchange.Budget).ConfigureAwait(false);
                }
                else
                {
                    await body.CopyToAsync(compressor ?? response.Body, exchange.Budget).ConfigureAwait(false);
                }
            }

            // The coding's end, only for a body that arrived whole.
            if (compressor is not null)
            {
                await compressor.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            // Whatever the compressor still holds must reach neither this client nor the failure answer below.
            compressor?.Abandon();
            if (!response.HasStarted && !exchange.Context.RequestAborted.IsCancellationRequested)
            {
                // Nothing reached the client yet: answer as for a backend that failed.
                response.Clear();
                FailureAnswers.WriteEmpty(response, StatusCodes.Status500InternalServerError);
                return;
            }

            // The backend broke off or stalled mid-body: abort the client connection rather than end a truncated body.
            response.HttpContext.Abort();
        }
        finally
        {
            compressor?.Dispose();
        }
    }

    private static async Task<long> CopyCountingAsync(Stream source, Stream destination, CancellationToken cancellation)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                total += read;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Relays a backend's headers as received (not parsed and written again), except hop-by-hop ones and values a
    /// response header cannot carry (non-ASCII text, control characters: <see cref="HeaderRules"/>), which Kestrel would
    /// refuse along with the whole response.
    /// </summary>
    private static void CopyHeaders(HttpHeaders headers, HttpResponse response)
    {
        foreach (KeyValuePair<string, HeaderStringValues> header in headers.NonValidated)
        {
            HeaderStringValues received = header.Value;
            Microsoft.Extensions.Primitives.StringValues values;
            if (received.Count == 1)
            {
                values = received.ToString();
            }
            else
            {
                string[] each = new string[received.Count];
                int i = 0;
                foreach (string value in received)
                {
                    each[i++] = value;
                }

                values = each;
            }

            Relay(header.Key, values, response);
        }
    }

    /// <summary>As <see cref="CopyHeaders"/>, from the header lines the gateway's own client kept, each as received.</summary>
    private static void CopyLines(IReadOnlyList<KeyValuePair<string, string>> lines, HttpResponse response)
    {
        foreach (KeyValuePair<string, string> line in lines)
        {
            Relay(line.Key, line.Value, response);
        }
    }

    /// <summary>The one rule for both: a backend's header reaches the client unless it is hop-by-hop or its value cannot be sent.</summary>
    private static void Relay(string name, Microsoft.Extensions.Primitives.StringValues values, HttpResponse response)
    {
        if (!HopByHop.Contains(name) && HeaderRules.AreValidValues(values))
        {
            response.Headers.Append(name, values);
        }
    }

    /// <summary>Not relayed: they describe the backend's connection (<see cref="HttpRules.HopByHop"/>); Kestrel writes its own framing.</summary>
    private static readonly HashSet<string> HopByHop = new(HttpRules.HopByHop, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Writes a body the gateway composed, with its length; compressed when <paramref name="compress"/> (the router's
    /// setting) and the client accepts it (<see cref="ResponseCompression.Negotiate"/>).
    /// </summary>
    internal static Task WriteBody(HttpResponse response, ReadOnlySpan<byte> body, bool compress)
    {
        ContentCoding coding = compress && !body.IsEmpty ? ResponseCompression.Negotiate(response.HttpContext, body.Length) : ContentCoding.Identity;
        if (coding != ContentCoding.Identity)
        {
            var compressed = new PooledBuffer(ResponseCompression.OutputCapacity(body.Length));
            try
            {
                // Sent compressed when that made it smaller (already compressed text does not shrink), or when the
                // client refuses an uncompressed body: the only way a body under the threshold is compressed at all.
                ResponseCompression.Compress(coding, body, compressed);
                if (compressed.Length < body.Length || body.Length < ResponseCompression.MinimumBytes)
                {
                    ResponseCompression.MarkEncoded(response, coding);
                    return Write(response, compressed.WrittenSpan);
                }
            }
            finally
            {
                // Write copied the bytes into Kestrel's pipe before it returned.
                compressed.Dispose();
            }
        }

        return Write(response, body);
    }

    private static Task Write(HttpResponse response, ReadOnlySpan<byte> body)
    {
        response.ContentLength = body.Length;
        if (body.IsEmpty)
        {
            return Task.CompletedTask;
        }

        // Copied segment by segment: asking Kestrel's pipe for one span as large as the body would make it allocate
        // an unpooled block for every large response.
        response.BodyWriter.Write(body);
        return response.BodyWriter.FlushAsync().AsTask();
    }

    private static bool IsEmptyObject(ReadOnlySpan<byte> json)
    {
        ReadOnlySpan<byte> trimmed = json.Trim(" \t\r\n"u8);
        return trimmed.Length >= 2 && trimmed[0] == (byte)'{' && trimmed[1..^1].Trim(" \t\r\n"u8).IsEmpty;
    }
}

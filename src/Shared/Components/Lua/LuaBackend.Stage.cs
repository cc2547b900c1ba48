using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;
using Gateway.Runtime.Templates;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.Lua;

/// <summary>
/// A <c>sequential_propagated_params</c> entry a backend's script reads: <c>req:params("Resp0")</c> is backend 0's whole
/// body (<see cref="Path"/> null), <c>req:params("Resp0_user.id")</c> a field of its data, as <c>{resp0_user.id}</c>
/// reads it.
/// </summary>
public sealed record LuaPropagatedParam(string Name, int Source, JsonPath? Path);

/// <summary>
/// <c>modifier/lua-backend</c> (docs/configuration.md, Lua): <c>pre</c> on the request the gateway is about to send to
/// the backend (method, URL, headers, body; its params are the route's and the propagated ones), <c>post</c> on the
/// backend's result after decoding and shaping (data, completeness, headers; with <c>no-op</c>, status and body).
/// <c>skip_next</c> sends nothing: post sees an empty, incomplete result. A script's <c>custom_error</c> or failure
/// fails the step (<see cref="BackendFailure.Script"/>): the usual rules of a failed backend apply, with the custom
/// status as the answer's when the backend is the only one or the first of a sequence.
/// </summary>
public sealed class LuaBackendStage : IBackendScript
{
    private readonly LuaScriptPool _pool;
    private readonly string _endpoint;
    private readonly string[] _parameters;
    private readonly LuaPropagatedParam[] _propagated;

    public LuaBackendStage(LuaScriptPool pool, string endpoint, string[] parameters, LuaPropagatedParam[] propagated)
    {
        _pool = pool;
        _endpoint = endpoint;
        _parameters = parameters;
        _propagated = propagated;
    }

    public async ValueTask<BackendScriptCall> BeginAsync(ProxyExchange exchange, BackendDefinition backend, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        LuaVm? vm = await _pool.RentAsync(cancellation).ConfigureAwait(false);
        if (vm is null)
        {
            return new Call(this, exchange, null, BackendResult.Failed(BackendFailure.Timeout));
        }

        var call = new Call(this, exchange, vm, null);
        LuaOutcome outcome = vm.Begin(call.Script);
        if (!outcome.Completed)
        {
            call.End(outcome);
        }

        return call;
    }

    /// <summary>The params the script reads: the route's (<c>Id</c> for <c>{id}</c>) and the propagated ones resolved now.</summary>
    private Dictionary<string, string> Params(ProxyExchange exchange)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < _parameters.Length; i++)
        {
            values[LuaCall.ParamName(_parameters[i])] = exchange.RouteValues[i];
        }

        if (_propagated.Length == 0)
        {
            return values;
        }

        using var scratch = new PooledBuffer(256);
        using var text = new PooledBuffer(256);
        foreach (LuaPropagatedParam parameter in _propagated)
        {
            BackendResult source = exchange.Results[parameter.Source];
            if (parameter.Path is null)
            {
                if (source.RawBody is { } raw)
                {
                    values[parameter.Name] = System.Text.Encoding.UTF8.GetString(raw.WrittenSpan);
                }

                continue;
            }

            text.Clear();
            if (source.Succeeded && JsonValueLocator.TryResolve(source.Body, parameter.Path, scratch, out ReadOnlySpan<byte> value) && TemplateText.TryWrite(value, text, jsonEscaped: false))
            {
                values[parameter.Name] = System.Text.Encoding.UTF8.GetString(text.WrittenSpan);
            }
        }

        return values;
    }

    /// <summary>One call: its state (held from pre to post), what pre changed (applied again on a redirect), its ending.</summary>
    private sealed class Call : BackendScriptCall
    {
        private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private readonly LuaBackendStage _stage;
        private readonly ProxyExchange _exchange;
        private readonly LuaVm? _vm;
        private BackendResult? _ended;
        private LuaOutcome _outcome;

        public Call(LuaBackendStage stage, ProxyExchange exchange, LuaVm? vm, BackendResult? ended)
        {
            _stage = stage;
            _exchange = exchange;
            _vm = vm;
            _ended = ended;
            Script = new ScriptCall(exchange, stage._endpoint, stage.Params(exchange));
        }

        public ScriptCall Script { get; }

        public override bool SkipsCall => _stage._pool.Scripts.SkipNext;

        /// <summary>The script ended the step: what the client sees of it, and the log line of a failure.</summary>
        public void End(LuaOutcome outcome)
        {
            _outcome = outcome;
            LuaRun.Log(_exchange.Context, _stage._endpoint, _stage._pool, outcome);
            _ended = outcome.Kind == LuaOutcomeKind.CustomError
                ? BackendResult.ScriptFailed(outcome.Status ?? 0, outcome.Message, outcome.ContentType)
                : BackendResult.ScriptFailed(0, null, null);
        }

        public override BackendResult? BeforeSend(HttpRequestMessage request, bool redirected)
        {
            if (_ended is not null || _vm is null)
            {
                return TakeEnded();
            }

            if (redirected)
            {
                Script.Replay(request);
                return null;
            }

            Script.Outgoing = request;
            if (_vm.PreChunk != 0)
            {
                LuaOutcome outcome = _vm.Run(_vm.PreChunk);
                if (!outcome.Completed)
                {
                    End(outcome);
                    return TakeEnded();
                }
            }

            return null;
        }

        public override void SeeResponse(HttpResponseMessage response) => Script.SeeResponse(response);

        public override async ValueTask<BackendResult> AfterAsync(BackendResult result, CancellationToken cancellation)
        {
            ArgumentNullException.ThrowIfNull(result);
            if (_vm is null || _vm.PostChunk == 0)
            {
                return result;
            }

            if (result.PassThroughMessage() is { } message)
            {
                if (!await LuaMessage.BufferAsync(message, _exchange.MaxResponseBodyBytes, cancellation).ConfigureAwait(false))
                {
                    result.Dispose();
                    return BackendResult.Failed(BackendFailure.BodyTooLarge);
                }

                Script.Message = message;
            }

            Script.Result = result;
            _vm.ExposeResponse();
            LuaOutcome outcome = _vm.Run(_vm.PostChunk);
            if (!outcome.Completed)
            {
                result.Dispose();
                End(outcome);
                return TakeEnded()!;
            }

            if (Script.DataRoot is { } root)
            {
                var data = new PooledBuffer(Math.Max(256, result.Body.Length + 64));
                using (var writer = new Utf8JsonWriter(data, s_writerOptions))
                {
                    root.WriteTo(writer);
                }

                result.ReplaceData(data);
            }

            return result;
        }

        private BackendResult? TakeEnded()
        {
            BackendResult? ended = _ended;
            _ended = ended is null ? null : BackendResult.Failed(BackendFailure.Script);
            return ended;
        }

        public override void Dispose()
        {
            if (_vm is null)
            {
                return;
            }

            _vm.Finish();
            _stage._pool.Return(_vm, collect: _outcome.Kind is LuaOutcomeKind.InstructionBudget or LuaOutcomeKind.MemoryBudget);
        }
    }

    /// <summary><c>request.load()</c> on the request about to be sent, <c>response.load()</c> on the result.</summary>
    private sealed class ScriptCall : LuaCall
    {
        private readonly Dictionary<string, string> _params;
        private readonly List<(string Name, StringValues Values)> _headerEdits = new();
        private List<KeyValuePair<string, StringValues>>? _responseHeaders;
        private byte[]? _body;

        public ScriptCall(ProxyExchange exchange, string endpoint, Dictionary<string, string> parameters)
            : base(exchange.Context, endpoint) => _params = parameters;

        public override bool HasRequest => true;

        public HttpRequestMessage? Outgoing { get; set; }

        public BackendResult? Result { get; set; }

        /// <summary>A <c>no-op</c> backend's response, relayed as it is after post.</summary>
        public HttpResponseMessage? Message { get; set; }

        public JsonObject? DataRoot { get; private set; }

        public void SeeResponse(HttpResponseMessage response)
        {
            _responseHeaders = new();
            foreach (KeyValuePair<string, HeaderStringValues> header in response.Headers.NonValidated)
            {
                _responseHeaders.Add(new(header.Key, new StringValues(header.Value.ToArray())));
            }

            foreach (KeyValuePair<string, HeaderStringValues> header in response.Content.Headers.NonValidated)
            {
                _responseHeaders.Add(new(header.Key, new StringValues(header.Value.ToArray())));
            }
        }

        /// <summary>What pre changed, applied to the request of a redirect (which the gateway built again).</summary>
        public void Replay(HttpRequestMessage request)
        {
            if (_body is not null && request.Content is not null)
            {
                SetBody(request, _body);
            }

            foreach ((string name, StringValues values) in _headerEdits)
            {
                SetHeader(request, name, values);
            }
        }

        public override int Request(LuaPrelude.Op op, LuaArgs args)
        {
            if (Outgoing is not { } request)
            {
                return args.Fail("the request is not built yet");
            }

            Uri uri = request.RequestUri!;
            switch (op)
            {
                case LuaPrelude.Op.RequestMethod:
                    if (args.Count == 0)
                    {
                        return args.Value(request.Method.Method);
                    }

                    string method = args.Text(1) ?? string.Empty;
                    if (method.Length == 0 || !Gateway.Http.HttpRules.IsHeaderName(method))
                    {
                        return args.Fail($"'{method}' is not an HTTP method");
                    }

                    request.Method = new HttpMethod(method.ToUpperInvariant());
                    return args.Done();
                case LuaPrelude.Op.RequestPath:
                    return args.Count == 0 ? args.Value(uri.AbsolutePath) : args.Done(); // the URL is built: set url() instead
                case LuaPrelude.Op.RequestQuery:
                    return args.Count == 0 ? args.Value(uri.Query.TrimStart('?')) : args.Done();
                case LuaPrelude.Op.RequestUrl:
                    if (args.Count == 0)
                    {
                        return args.Value(uri.OriginalString);
                    }

                    if (!Uri.TryCreate(args.Text(1), UriKind.Absolute, out Uri? target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
                    {
                        return args.Fail("req:url needs an absolute http or https URL");
                    }

                    request.RequestUri = target;
                    return args.Done();
                case LuaPrelude.Op.RequestParams:
                    if (args.Count == 0)
                    {
                        var table = new JsonObject();
                        foreach (KeyValuePair<string, string> pair in _params)
                        {
                            table[pair.Key] = pair.Value;
                        }

                        return args.Node(table);
                    }

                    if (args.Count == 1)
                    {
                        return args.Value(_params.TryGetValue(args.Text(1) ?? string.Empty, out string? value) ? value : string.Empty);
                    }

                    _params[args.Text(1) ?? string.Empty] = args.Text(2) ?? string.Empty; // the URL is built: no effect on it
                    return args.Done();
                case LuaPrelude.Op.RequestHeaders:
                    return Headers(args, name => Get(request, name), () => All(request), (name, values) => Edit(request, name, values));
                case LuaPrelude.Op.RequestHeaderList:
                    return HeaderList(args, name => Get(request, name), (name, values) => Edit(request, name, values));
                case LuaPrelude.Op.RequestBody:
                    if (args.Count == 0)
                    {
                        // The gateway's request bodies are in memory: reading them completes at once.
                        return args.Value(request.Content is null ? [] : request.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult());
                    }

                    _body = args.Bytes(1) ?? [];
                    SetBody(request, _body);
                    return args.Done();
                default:
                    return args.Fail("request has no such function");
            }
        }

        private bool Edit(HttpRequestMessage request, string name, StringValues values)
        {
            if (!SetHeader(request, name, values))
            {
                return false;
            }

            _headerEdits.Add((name, values));
            return true;
        }

        /// <summary>
        /// A script's body is sent with its length whatever the method (KrakenD's documented way to send an earlier
        /// response as the next request's body uses a GET), keeping the request's content headers.
        /// </summary>
        private static void SetBody(HttpRequestMessage request, byte[] body)
        {
            var content = new ByteArrayContent(body);
            if (request.Content is { } old)
            {
                foreach (KeyValuePair<string, IEnumerable<string>> header in old.Headers)
                {
                    if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }

                old.Dispose();
            }

            request.Content = content;
        }

        private static bool SetHeader(HttpRequestMessage request, string name, StringValues values)
        {
            if (!Gateway.Http.HttpRules.IsHeaderName(name) || !HeaderRules.AreValidValues(values)
                || Gateway.Http.HttpRules.Contains(Gateway.Http.HttpRules.HopByHop, name) || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            if (!IsContentHeader(name))
            {
                request.Headers.Remove(name);
                return values.Count == 0 || request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
            }

            request.Content?.Headers.Remove(name);
            if (values.Count == 0)
            {
                return true;
            }

            // A content header (Content-Type...): a body-less request gets an empty body to carry it.
            request.Content ??= new ByteArrayContent([]);
            return request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
        }

        private static StringValues Get(HttpRequestMessage request, string name) =>
            request.Headers.NonValidated.TryGetValues(name, out HeaderStringValues found) || (request.Content is not null && request.Content.Headers.NonValidated.TryGetValues(name, out found))
                ? new StringValues(found.ToArray())
                : StringValues.Empty;

        private static IEnumerable<KeyValuePair<string, StringValues>> All(HttpRequestMessage request)
        {
            foreach (KeyValuePair<string, HeaderStringValues> header in request.Headers.NonValidated)
            {
                yield return new(header.Key, new StringValues(header.Value.ToArray()));
            }

            if (request.Content is not null)
            {
                foreach (KeyValuePair<string, HeaderStringValues> header in request.Content.Headers.NonValidated)
                {
                    yield return new(header.Key, new StringValues(header.Value.ToArray()));
                }
            }
        }

        public override int Response(LuaPrelude.Op op, LuaArgs args)
        {
            if (Result is not { } result)
            {
                return args.Fail("response.load() is not available before the backend answered");
            }

            if (Message is { } message)
            {
                return LuaMessage.Response(op, args, message, result.Complete, result.SetComplete);
            }

            switch (op)
            {
                case LuaPrelude.Op.ResponseIsComplete:
                    if (args.Count == 0)
                    {
                        return args.Value(result.Complete);
                    }

                    result.SetComplete(args.Boolean(1));
                    return args.Done();
                case LuaPrelude.Op.ResponseStatusCode:
                    return args.Count == 0 ? args.Value(result.StatusCode) : args.Done(); // the status of a decoded response is not relayed
                case LuaPrelude.Op.ResponseData:
                    if (DataRoot is null)
                    {
                        try
                        {
                            DataRoot = JsonNode.Parse(result.Body.IsEmpty ? "{}"u8 : result.Body) as JsonObject ?? new JsonObject();
                        }
                        catch (JsonException)
                        {
                            return args.Fail("the response's data is not a JSON object");
                        }
                    }

                    return args.Node(DataRoot);
                case LuaPrelude.Op.ResponseHeaders:
                    return Headers(args, ResponseHeader, () => _responseHeaders ?? [], SetResponseHeader);
                case LuaPrelude.Op.ResponseHeaderList:
                    return HeaderList(args, ResponseHeader, SetResponseHeader);
                case LuaPrelude.Op.ResponseBody:
                    return args.Count == 0 ? args.Value(result.RawBody is { } raw ? raw.WrittenSpan : default) : args.Done();
                default:
                    return args.Fail("response has no such function");
            }
        }

        private StringValues ResponseHeader(string name)
        {
            foreach (KeyValuePair<string, StringValues> header in _responseHeaders ?? [])
            {
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return header.Value;
                }
            }

            return StringValues.Empty;
        }

        /// <summary>The headers of a decoded response reach no client; a script may still change what later reads see.</summary>
        private bool SetResponseHeader(string name, StringValues values)
        {
            _responseHeaders ??= new();
            _responseHeaders.RemoveAll(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase));
            if (values.Count > 0)
            {
                _responseHeaders.Add(new(name, values));
            }

            return true;
        }
    }
}

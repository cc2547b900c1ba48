using System.Net;
using System.Net.Http.Headers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Runtime.Http;
using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.Lua;

/// <summary>
/// <c>modifier/lua-proxy</c> (docs/configuration.md, Lua): <c>pre</c> on the request every backend of the endpoint
/// receives (headers, query, body, route parameters), before any is called; <c>post</c> on the merged answer (its data,
/// completeness and headers; with <c>no-op</c>, the backend's status, headers and body) when no backend failed, as in
/// KrakenD. <c>skip_next</c> calls no backend: post sees an empty, incomplete answer. One state serves the request from
/// pre to post, so what pre sets, post reads.
/// </summary>
public sealed class LuaProxyStage : IEndpointStage, IEndpointDataStage, IEndpointAnswerStage
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly LuaScriptPool _pool;
    private readonly string _endpoint;
    private readonly string[] _parameters;

    public LuaProxyStage(LuaScriptPool pool, string endpoint, string[] parameters)
    {
        _pool = pool;
        _endpoint = endpoint;
        _parameters = parameters;
    }

    public bool CallsServices => false;

    public async Task<bool> RunAsync(ProxyExchange exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        LuaVm? vm = await _pool.RentAsync(exchange.Budget).ConfigureAwait(false);
        if (vm is null)
        {
            await LuaRun.WriteAnswer(exchange.Context, new LuaOutcome(LuaOutcomeKind.Failed), false, false).ConfigureAwait(false);
            return false;
        }

        var state = new State(_pool, vm, new ProxyCall(exchange, _endpoint, _parameters));
        LuaOutcome outcome = LuaRun.BeginAndRun(vm, state.Call, vm.PreChunk);
        if (!outcome.Completed)
        {
            state.Outcome = outcome;
            state.Dispose();
            LuaRun.Log(exchange.Context, _endpoint, _pool, outcome);
            await LuaRun.WriteAnswer(exchange.Context, outcome, exchange.Endpoint.ReturnErrorMessage, exchange.Endpoint.Compression).ConfigureAwait(false);
            return false;
        }

        exchange.BackendsSkipped = _pool.Scripts.SkipNext;
        if (vm.PostChunk == 0)
        {
            state.Dispose(); // nothing runs later: the state goes back now
        }
        else
        {
            exchange.StageState = state;
        }

        return true;
    }

    public Task? Transform(ProxyExchange exchange, ReadOnlySpan<byte> data, ref bool complete, out PooledBuffer? replaced)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        replaced = null;
        if (exchange.StageState is not State state)
        {
            return null;
        }

        ProxyCall call = state.Call;
        call.Complete = complete;
        call.Data = data.ToArray();
        state.Vm.ExposeResponse();
        LuaOutcome outcome = state.Vm.Run(state.Vm.PostChunk);
        state.Outcome = outcome;
        if (!outcome.Completed)
        {
            LuaRun.Log(exchange.Context, _endpoint, _pool, outcome);
            return LuaRun.WriteAnswer(exchange.Context, outcome, exchange.Endpoint.ReturnErrorMessage, exchange.Endpoint.Compression);
        }

        complete = call.Complete;
        if (call.DataRoot is { } root)
        {
            replaced = new PooledBuffer(Math.Max(256, data.Length + 64));
            using var writer = new Utf8JsonWriter(replaced, s_writerOptions);
            root.WriteTo(writer);
        }

        return null;
    }

    public async Task<bool> TransformPassThroughAsync(ProxyExchange exchange, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(response);
        if (exchange.StageState is not State state)
        {
            return true;
        }

        // The body is read whole, within the backend body limit, so the script can read and replace it.
        if (!await LuaMessage.BufferAsync(response, exchange.MaxResponseBodyBytes, exchange.Budget).ConfigureAwait(false))
        {
            FailureAnswers.WriteEmpty(exchange.Context.Response, StatusCodes.Status500InternalServerError);
            return false;
        }

        state.Call.Message = response;
        state.Vm.ExposeResponse();
        LuaOutcome outcome = state.Vm.Run(state.Vm.PostChunk);
        state.Outcome = outcome;
        if (outcome.Completed)
        {
            return true;
        }

        LuaRun.Log(exchange.Context, _endpoint, _pool, outcome);
        await LuaRun.WriteAnswer(exchange.Context, outcome, exchange.Endpoint.ReturnErrorMessage, exchange.Endpoint.Compression).ConfigureAwait(false);
        return false;
    }

    /// <summary>The headers post set on the answer (KrakenD copies a response's headers to the client).</summary>
    public void Apply(ProxyExchange exchange, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(response);
        if (exchange.StageState is State { Call.AnswerHeaders: { } headers })
        {
            foreach (KeyValuePair<string, StringValues> header in headers)
            {
                response.Headers[header.Key] = header.Value;
            }
        }
    }

    /// <summary>The request's state and call, from pre to the answer.</summary>
    private sealed class State : IDisposable
    {
        private readonly LuaScriptPool _pool;
        private bool _returned;

        public State(LuaScriptPool pool, LuaVm vm, ProxyCall call)
        {
            _pool = pool;
            Vm = vm;
            Call = call;
        }

        public LuaVm Vm { get; }

        public ProxyCall Call { get; }

        public LuaOutcome Outcome { get; set; }

        public void Dispose()
        {
            if (_returned)
            {
                return;
            }

            _returned = true;
            Vm.Finish();
            _pool.Return(Vm, collect: Outcome.Kind is LuaOutcomeKind.InstructionBudget or LuaOutcomeKind.MemoryBudget);
        }
    }

    /// <summary><c>request.load()</c> before the backends, <c>response.load()</c> on the answer.</summary>
    private sealed class ProxyCall : LuaCall
    {
        private readonly ProxyExchange _exchange;
        private readonly string[] _parameters;

        public ProxyCall(ProxyExchange exchange, string endpoint, string[] parameters)
            : base(exchange.Context, endpoint)
        {
            _exchange = exchange;
            _parameters = parameters;
        }

        public override bool HasRequest => true;

        public bool Complete { get; set; }

        /// <summary>The composed data post sees; parsed when the script asks for it.</summary>
        public byte[]? Data { get; set; }

        /// <summary>The data as the script holds it, once asked for: written back as the answer's data.</summary>
        public JsonObject? DataRoot { get; private set; }

        /// <summary>For a <c>no-op</c> endpoint: the backend's response, relayed after post.</summary>
        public HttpResponseMessage? Message { get; set; }

        public List<KeyValuePair<string, StringValues>>? AnswerHeaders { get; private set; }

        private ForwardedRequest Forwarded => _exchange.Forwarded;

        public override int Request(LuaPrelude.Op op, LuaArgs args)
        {
            switch (op)
            {
                case LuaPrelude.Op.RequestMethod:
                    return args.Count == 0 ? args.Value(Context.Request.Method) : args.Done(); // each backend has its own method
                case LuaPrelude.Op.RequestPath:
                    return args.Count == 0 ? args.Value(Context.Request.Path.Value) : args.Done(); // each backend has its url_pattern
                case LuaPrelude.Op.RequestUrl:
                    return args.Count == 0 ? args.Value(string.Empty) : args.Done(); // no URL yet: each backend builds its own
                case LuaPrelude.Op.RequestQuery:
                    if (args.Count == 0)
                    {
                        return args.Value(EncodeQuery(Forwarded.Query));
                    }

                    List<KeyValuePair<string, string>> query = ParseQuery(args.Text(1) ?? string.Empty);
                    Forwarded.Query.Clear();
                    Forwarded.Query.AddRange(query);
                    Forwarded.Query.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                    return args.Done();
                case LuaPrelude.Op.RequestParams:
                    return Params(args);
                case LuaPrelude.Op.RequestHeaders:
                    return Headers(args, ForwardedHeader, ForwardedHeaders, Forwarded.SetHeader);
                case LuaPrelude.Op.RequestHeaderList:
                    return HeaderList(args, ForwardedHeader, Forwarded.SetHeader);
                case LuaPrelude.Op.RequestBody:
                    if (args.Count == 0)
                    {
                        return args.Value(Forwarded.BodySpan);
                    }

                    Forwarded.ReplaceBody(args.Bytes(1) ?? []);
                    return args.Done();
                default:
                    return args.Fail("request has no such function");
            }
        }

        private StringValues ForwardedHeader(string name)
        {
            if (string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                return Forwarded.ContentType is { } type ? new StringValues(type) : StringValues.Empty;
            }

            foreach (KeyValuePair<string, StringValues> header in Forwarded.Headers)
            {
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return header.Value;
                }
            }

            return StringValues.Empty;
        }

        private IEnumerable<KeyValuePair<string, StringValues>> ForwardedHeaders()
        {
            foreach (KeyValuePair<string, StringValues> header in Forwarded.Headers)
            {
                yield return header;
            }

            if (Forwarded.ContentType is { } type)
            {
                yield return new("Content-Type", type);
            }
        }

        private int Params(LuaArgs args)
        {
            if (args.Count == 0)
            {
                var table = new JsonObject();
                for (int i = 0; i < _parameters.Length; i++)
                {
                    table[ParamName(_parameters[i])] = _exchange.RouteValues[i];
                }

                return args.Node(table);
            }

            string name = args.Text(1) ?? string.Empty;
            int index = Array.FindIndex(_parameters, p => ParamName(p) == name || p == name);
            if (args.Count == 1)
            {
                return args.Value(index < 0 ? string.Empty : _exchange.RouteValues[index]);
            }

            // A route parameter set here fills the backends' url_patterns, as KrakenD's params do.
            if (index >= 0)
            {
                _exchange.RouteValues[index] = args.Text(2) ?? string.Empty;
            }

            return args.Done();
        }

        public override int Response(LuaPrelude.Op op, LuaArgs args)
        {
            if (Message is { } message)
            {
                return LuaMessage.Response(op, args, message, Complete, complete => Complete = complete);
            }

            switch (op)
            {
                case LuaPrelude.Op.ResponseIsComplete:
                    if (args.Count == 0)
                    {
                        return args.Value(Complete);
                    }

                    Complete = args.Boolean(1);
                    return args.Done();
                case LuaPrelude.Op.ResponseStatusCode:
                    return args.Count == 0 ? args.Value(StatusCodes.Status200OK) : args.Done(); // only a no-op answer has a status of its own
                case LuaPrelude.Op.ResponseData:
                    if (DataRoot is null)
                    {
                        try
                        {
                            DataRoot = JsonNode.Parse(Data ?? "{}"u8.ToArray()) as JsonObject ?? new JsonObject();
                        }
                        catch (JsonException)
                        {
                            return args.Fail("the answer's data is not a JSON object");
                        }
                    }

                    return args.Node(DataRoot);
                case LuaPrelude.Op.ResponseHeaders:
                    return Headers(args, AnswerHeader, () => AnswerHeaders ?? [], SetAnswerHeader);
                case LuaPrelude.Op.ResponseHeaderList:
                    return HeaderList(args, AnswerHeader, SetAnswerHeader);
                case LuaPrelude.Op.ResponseBody:
                    return args.Count == 0 ? args.Value(string.Empty) : args.Done(); // only a no-op answer has a body of its own
                default:
                    return args.Fail("response has no such function");
            }
        }

        private StringValues AnswerHeader(string name)
        {
            foreach (KeyValuePair<string, StringValues> header in AnswerHeaders ?? [])
            {
                if (string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return header.Value;
                }
            }

            return StringValues.Empty;
        }

        private bool SetAnswerHeader(string name, StringValues values)
        {
            if (!Gateway.Http.HttpRules.IsHeaderName(name) || !HeaderRules.AreValidValues(values) || Gateway.Http.HttpRules.Contains(Gateway.Http.HttpRules.HopByHop, name)
                || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            AnswerHeaders ??= new();
            AnswerHeaders.RemoveAll(header => string.Equals(header.Key, name, StringComparison.OrdinalIgnoreCase));
            if (values.Count > 0)
            {
                AnswerHeaders.Add(new(name, values));
            }

            return true;
        }
    }
}

/// <summary><c>response.load()</c> over an HTTP response the gateway relays as it is (a <c>no-op</c> backend or endpoint).</summary>
internal static class LuaMessage
{
    /// <summary>Reads the body into memory (at most <paramref name="maxBytes"/>), so a script can read and replace it.</summary>
    public static async Task<bool> BufferAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellation)
    {
        try
        {
            if (response.Content.Headers.ContentLength > maxBytes)
            {
                return false;
            }

            await response.Content.LoadIntoBufferAsync(maxBytes, cancellation).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    public static int Response(LuaPrelude.Op op, LuaArgs args, HttpResponseMessage message, bool complete, Action<bool> setComplete)
    {
        switch (op)
        {
            case LuaPrelude.Op.ResponseIsComplete:
                if (args.Count == 0)
                {
                    return args.Value(complete);
                }

                setComplete(args.Boolean(1));
                return args.Done();
            case LuaPrelude.Op.ResponseStatusCode:
                if (args.Count == 0)
                {
                    return args.Value((int)message.StatusCode);
                }

                if (args.Integer(1) is not { } status || status < 100 || status > 999)
                {
                    return args.Fail("a status code from 100 to 999 expected");
                }

                message.StatusCode = (HttpStatusCode)(int)status;
                return args.Done();
            case LuaPrelude.Op.ResponseData:
                return args.Node(new JsonObject()); // a no-op response is not decoded
            case LuaPrelude.Op.ResponseHeaders:
                return LuaCall.Headers(args, name => Get(message, name), () => All(message), (name, values) => Set(message, name, values));
            case LuaPrelude.Op.ResponseHeaderList:
                return LuaCall.HeaderList(args, name => Get(message, name), (name, values) => Set(message, name, values));
            case LuaPrelude.Op.ResponseBody:
                if (args.Count == 0)
                {
                    return args.Value(message.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()); // buffered: no I/O
                }

                byte[] body = args.Bytes(1) ?? [];
                var content = new ByteArrayContent(body);
                foreach (KeyValuePair<string, IEnumerable<string>> header in message.Content.Headers)
                {
                    if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    }
                }

                message.Content.Dispose();
                message.Content = content;
                return args.Done();
            default:
                return args.Fail("response has no such function");
        }
    }

    private static StringValues Get(HttpResponseMessage message, string name) =>
        message.Headers.NonValidated.TryGetValues(name, out HeaderStringValues found) || message.Content.Headers.NonValidated.TryGetValues(name, out found)
            ? new StringValues(found.ToArray())
            : StringValues.Empty;

    private static IEnumerable<KeyValuePair<string, StringValues>> All(HttpResponseMessage message)
    {
        foreach (KeyValuePair<string, HeaderStringValues> header in message.Headers.NonValidated)
        {
            yield return new(header.Key, new StringValues(header.Value.ToArray()));
        }

        foreach (KeyValuePair<string, HeaderStringValues> header in message.Content.Headers.NonValidated)
        {
            yield return new(header.Key, new StringValues(header.Value.ToArray()));
        }
    }

    private static bool Set(HttpResponseMessage message, string name, StringValues values)
    {
        if (!Gateway.Http.HttpRules.IsHeaderName(name) || !HeaderRules.AreValidValues(values) || string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        HttpHeaders headers = LuaCall.IsContentHeader(name) ? message.Content.Headers : message.Headers;
        headers.Remove(name);
        return values.Count == 0 || headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
    }
}

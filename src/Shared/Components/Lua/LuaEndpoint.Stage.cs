using Gateway.Runtime.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.Lua;

/// <summary>
/// <c>modifier/lua-endpoint</c> (docs/configuration.md, Lua): a <c>pre</c> script on the client's HTTP request through
/// <c>ctx.load()</c>. The service-level one runs first on every endpoint, the endpoint's own after the token check.
/// What the script changes is what the endpoint then forwards: a header or a query parameter reaches the backends when
/// the endpoint's <c>input_headers</c> / <c>input_query_strings</c> allow it, a new body reaches them as the client's
/// would, a route parameter fills the <c>url_pattern</c>s. <c>custom_error</c> answers with its status; a failing
/// script answers 500.
/// </summary>
public sealed class LuaEndpointStage : IEndpointStage
{
    private readonly LuaScriptPool _pool;
    private readonly string _endpoint;
    private readonly string[] _parameters;

    /// <param name="pool">The stage's states (the service-level one is shared by every endpoint).</param>
    /// <param name="endpoint">The endpoint's path template, for logs.</param>
    /// <param name="parameters">The endpoint's route parameters, in path order (as <c>RouteValues</c>).</param>
    public LuaEndpointStage(LuaScriptPool pool, string endpoint, string[] parameters)
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

        LuaOutcome outcome;
        try
        {
            outcome = LuaRun.BeginAndRun(vm, new ContextCall(exchange, _endpoint, _parameters), vm.PreChunk);
        }
        finally
        {
            vm.Finish();
        }

        _pool.Return(vm, collect: outcome.Kind is LuaOutcomeKind.InstructionBudget or LuaOutcomeKind.MemoryBudget);
        if (outcome.Completed)
        {
            return true;
        }

        LuaRun.Log(exchange.Context, _endpoint, _pool, outcome);
        await LuaRun.WriteAnswer(exchange.Context, outcome, exchange.Endpoint.ReturnErrorMessage, exchange.Endpoint.Compression).ConfigureAwait(false);
        return false;
    }

    /// <summary><c>ctx.load()</c>: the client's request, kept in step with what the endpoint forwards.</summary>
    private sealed class ContextCall : LuaCall
    {
        private readonly ProxyExchange _exchange;
        private readonly string[] _parameters;

        public ContextCall(ProxyExchange exchange, string endpoint, string[] parameters)
            : base(exchange.Context, endpoint)
        {
            _exchange = exchange;
            _parameters = parameters;
        }

        public override bool HasContext => true;

        private HttpRequest Http => Context.Request;

        public override int Request(LuaPrelude.Op op, LuaArgs args)
        {
            switch (op)
            {
                case LuaPrelude.Op.RequestMethod:
                    if (args.Count == 0)
                    {
                        return args.Value(Http.Method);
                    }

                    Http.Method = args.Text(1) ?? Http.Method;
                    return args.Done();
                case LuaPrelude.Op.RequestHost:
                    if (args.Count == 0)
                    {
                        return args.Value(Http.Host.Value);
                    }

                    Http.Host = new HostString(args.Text(1) ?? string.Empty);
                    return args.Done();
                case LuaPrelude.Op.RequestUrl:
                    if (args.Count == 0)
                    {
                        return args.Value(Http.Path.Value + Http.QueryString.Value);
                    }

                    return SetUrl(args);
                case LuaPrelude.Op.RequestQuery:
                    return Query(args);
                case LuaPrelude.Op.RequestParams:
                    return Params(args);
                case LuaPrelude.Op.RequestHeaders:
                    return Headers(args, name => Http.Headers[name], () => Http.Headers, SetHeader);
                case LuaPrelude.Op.RequestHeaderList:
                    return HeaderList(args, name => Http.Headers[name], SetHeader);
                case LuaPrelude.Op.RequestBody:
                    if (args.Count == 0)
                    {
                        return args.Value(_exchange.Forwarded.BodySpan);
                    }

                    byte[] body = args.Bytes(1) ?? [];
                    _exchange.Forwarded.ReplaceBody(body);
                    Http.ContentLength = body.Length;
                    return args.Done();
                default:
                    return args.Fail("ctx has no such function");
            }
        }

        /// <summary>Sets a client header; the backends get it when the endpoint forwards that header.</summary>
        private bool SetHeader(string name, StringValues values)
        {
            if (!Gateway.Http.HttpRules.IsHeaderName(name))
            {
                return false;
            }

            if (_exchange.Endpoint.InputHeaders.Allows(name) && !_exchange.Forwarded.SetHeader(name, values))
            {
                return false;
            }

            Http.Headers[name] = values;
            return true;
        }

        private int Query(LuaArgs args)
        {
            if (args.Text(1) is not { } key)
            {
                return args.Fail("ctx:query needs a key: ctx:query('page')");
            }

            if (args.Count == 1)
            {
                return args.Value(Http.Query.TryGetValue(key, out StringValues found) && found.Count > 0 ? found[0] : string.Empty);
            }

            List<KeyValuePair<string, string>> pairs = ParseQuery(Http.QueryString.Value ?? string.Empty);
            pairs.RemoveAll(pair => pair.Key == key);
            pairs.Add(new(key, args.Text(2) ?? string.Empty));
            ApplyQuery(pairs);
            return args.Done();
        }

        private int SetUrl(LuaArgs args)
        {
            string url = args.Text(1) ?? string.Empty;
            int question = url.IndexOf('?', StringComparison.Ordinal);
            string path = question < 0 ? url : url[..question];
            if (!path.StartsWith('/'))
            {
                return args.Fail("ctx:url needs a path starting with '/', as in ctx:url('/api/test?foo=bar')");
            }

            Http.Path = new PathString(Uri.UnescapeDataString(path));
            ApplyQuery(ParseQuery(question < 0 ? string.Empty : url[question..]));
            return args.Done();
        }

        /// <summary>The client's query becomes <paramref name="pairs"/>; the backends get the keys the endpoint forwards.</summary>
        private void ApplyQuery(List<KeyValuePair<string, string>> pairs)
        {
            Http.QueryString = pairs.Count == 0 ? QueryString.Empty : new QueryString("?" + EncodeQuery(pairs));
            List<KeyValuePair<string, string>> forwarded = _exchange.Forwarded.Query;
            forwarded.Clear();
            foreach (KeyValuePair<string, string> pair in pairs)
            {
                if (_exchange.Endpoint.InputQueryStrings.Allows(pair.Key))
                {
                    forwarded.Add(pair);
                }
            }

            forwarded.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        }

        private int Params(LuaArgs args)
        {
            if (args.Count == 0)
            {
                var table = new System.Text.Json.Nodes.JsonObject();
                for (int i = 0; i < _parameters.Length; i++)
                {
                    table[_parameters[i]] = _exchange.RouteValues[i];
                }

                return args.Node(table);
            }

            string name = args.Text(1) ?? string.Empty;
            int index = Array.FindIndex(_parameters, p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase));
            if (args.Count == 1)
            {
                return args.Value(index < 0 ? string.Empty : _exchange.RouteValues[index]);
            }

            if (index >= 0)
            {
                _exchange.RouteValues[index] = args.Text(2) ?? string.Empty;
            }

            return args.Done();
        }
    }
}

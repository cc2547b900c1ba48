using System.Text.Json.Nodes;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.Lua;

/// <summary>
/// One request's scripts in one state: what <c>request.load()</c>, <c>response.load()</c> and <c>ctx.load()</c> stand
/// for, answered to the prelude's host function (<see cref="LuaVm"/>). Each stage has its own kind of call.
/// </summary>
internal abstract class LuaCall
{
    protected LuaCall(HttpContext context, string endpoint)
    {
        Context = context;
        Endpoint = endpoint;
    }

    public HttpContext Context { get; }

    /// <summary>The endpoint's path template, for logs.</summary>
    public string Endpoint { get; }

    public virtual bool HasRequest => false;

    public virtual bool HasResponse => false;

    public virtual bool HasContext => false;

    public virtual int Request(LuaPrelude.Op op, LuaArgs args) => args.Fail("request functions are not available here");

    public virtual int Response(LuaPrelude.Op op, LuaArgs args) => args.Fail("response functions are not available here");

    public void Print(string line)
    {
        Microsoft.Extensions.Logging.ILogger logger = GatewayLog.For(Context);
        if (logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information))
        {
            GatewayLog.LuaPrint(logger, Endpoint, line);
        }
    }

    /// <summary>A header getter or setter over a set of headers: <c>headers()</c>, <c>headers(name)</c>, <c>headers(name, value|nil)</c>.</summary>
    internal static int Headers(LuaArgs args, Func<string, StringValues> get, Func<IEnumerable<KeyValuePair<string, StringValues>>> all, Func<string, StringValues, bool>? set)
    {
        if (args.Count == 0)
        {
            var table = new JsonObject();
            foreach (KeyValuePair<string, StringValues> header in all())
            {
                var values = table[header.Key] as JsonArray ?? new JsonArray();
                foreach (string? value in header.Value)
                {
                    values.Add((JsonNode?)JsonValue.Create(value ?? string.Empty));
                }

                table[header.Key] = values;
            }

            return args.Node(table);
        }

        if (args.Text(1) is not { } name)
        {
            return args.Fail("a header name (a string) expected");
        }

        if (args.Count == 1)
        {
            StringValues found = get(name);
            return args.Value(found.Count == 0 ? string.Empty : found[0]);
        }

        if (set is null)
        {
            return args.Done();
        }

        StringValues replacement = args.IsNil(2) ? StringValues.Empty : new StringValues(args.Text(2) ?? string.Empty);
        return set(name, replacement) ? args.Done() : args.Fail($"'{name}' cannot be set to that value (a header name, and a value without control characters)");
    }

    /// <summary><c>headerList(name)</c> and <c>headerList(name, list)</c> over a set of headers.</summary>
    internal static int HeaderList(LuaArgs args, Func<string, StringValues> get, Func<string, StringValues, bool>? set)
    {
        if (args.Text(1) is not { } name)
        {
            return args.Fail("a header name (a string) expected");
        }

        if (args.Count < 2)
        {
            var list = new JsonArray();
            foreach (string? value in get(name))
            {
                list.Add((JsonNode?)JsonValue.Create(value ?? string.Empty));
            }

            return args.Node(list);
        }

        if (args.List() is not { } values)
        {
            return args.Fail("invalid header value, must be a luaList");
        }

        if (set is null)
        {
            return args.Done();
        }

        return set(name, new StringValues(values.ToArray())) ? args.Done() : args.Fail($"'{name}' cannot be set to those values");
    }

    /// <summary>Headers .NET keeps on a message's content, not on the message (setting them on the message throws).</summary>
    internal static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Expires", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Last-Modified", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Allow", StringComparison.OrdinalIgnoreCase);

    /// <summary>The route parameters as KrakenD's proxy request names them: the first letter capitalised (<c>{id}</c> is <c>Id</c>).</summary>
    public static string ParamName(string parameter) =>
        parameter.Length == 0 ? parameter : char.ToUpperInvariant(parameter[0]) + parameter[1..];

    /// <summary>The query string without its <c>?</c>, encoded as Go's <c>url.Values.Encode</c> does (keys sorted).</summary>
    protected static string EncodeQuery(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var sorted = new List<KeyValuePair<string, string>>(pairs);
        sorted.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new System.Text.StringBuilder();
        foreach (KeyValuePair<string, string> pair in sorted)
        {
            text.Append(text.Length > 0 ? "&" : string.Empty).Append(Uri.EscapeDataString(pair.Key)).Append('=').Append(Uri.EscapeDataString(pair.Value));
        }

        return text.ToString();
    }

    /// <summary>Parses a query string (with or without its <c>?</c>) into pairs.</summary>
    protected static List<KeyValuePair<string, string>> ParseQuery(string query)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (KeyValuePair<string, StringValues> pair in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query))
        {
            foreach (string? value in pair.Value)
            {
                pairs.Add(new(pair.Key, value ?? string.Empty));
            }
        }

        return pairs;
    }
}

/// <summary>Running a stage's scripts in a state, and what their outcome means for the request.</summary>
internal static class LuaRun
{
    /// <summary>Starts a call and runs a chunk (0: none) in it; the outcome of the first that did not complete.</summary>
    public static LuaOutcome BeginAndRun(LuaVm vm, LuaCall call, int chunk)
    {
        LuaOutcome begun = vm.Begin(call);
        return !begun.Completed || chunk == 0 ? begun : vm.Run(chunk);
    }

    /// <summary>Logs a script's failure (a custom_error is an answer, not a failure).</summary>
    public static void Log(HttpContext context, string endpoint, LuaScriptPool pool, LuaOutcome outcome)
    {
        if (outcome.Kind is LuaOutcomeKind.Completed or LuaOutcomeKind.CustomError)
        {
            return;
        }

        GatewayLog.LuaFailed(GatewayLog.For(context), context.Request.Method, endpoint, pool.Where, outcome.Message ?? outcome.Kind.ToString());
    }

    /// <summary>The status of the answer a script's failure or custom_error gives: the custom status, else 500.</summary>
    public static int Status(LuaOutcome outcome) =>
        outcome.Kind == LuaOutcomeKind.CustomError && outcome.Status is >= 100 and <= 999 ? outcome.Status.Value : StatusCodes.Status500InternalServerError;

    /// <summary>
    /// The answer of a script that stopped the request before any backend data: the status (<see cref="Status"/>) and,
    /// with <c>router.return_error_msg</c>, the custom_error's message (KrakenD's rule for every error answer).
    /// </summary>
    public static Task WriteAnswer(HttpContext context, LuaOutcome outcome, bool withMessage, bool compress)
    {
        HttpResponse response = context.Response;
        response.StatusCode = Status(outcome);
        response.Headers[GatewayHeaders.Completed] = GatewayHeaders.False;
        string? message = outcome.Kind == LuaOutcomeKind.CustomError ? outcome.Message : null;
        if (!withMessage || string.IsNullOrEmpty(message))
        {
            response.ContentLength = 0;
            return Task.CompletedTask;
        }

        response.ContentType = outcome.ContentType is { Length: > 0 } type && HeaderRules.AreValidValues(new StringValues(type)) ? type : GatewayHeaders.TextContentType;
        return Gateway.Runtime.Proxy.ResponseComposer.WriteBody(response, System.Text.Encoding.UTF8.GetBytes(message), compress);
    }
}

using Gateway.Runtime.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Gateway.Components.Cors;

/// <summary>
/// KrakenD's <c>security/cors</c> (docs/configuration.md, CORS), run on every request before routing:
/// <list type="bullet">
/// <item><description>A preflight (<c>OPTIONS</c> with <c>Access-Control-Request-Method</c>) is answered here, on any
/// path, with the allowing headers when the origin, the method and every requested header are allowed, and without
/// them otherwise; the browser then blocks the request. With <c>options_passthrough</c> it goes on to routing.</description></item>
/// <item><description>Any other request from an allowed origin with an allowed method gets
/// <c>Access-Control-Allow-Origin</c> (and the exposed headers and credentials flag) on whatever answer it receives,
/// failures included. The gateway owns these headers: a no-op backend's own <c>Access-Control-*</c> headers are
/// dropped, so a browser never sees two contradicting policies (docs/compatibility.md, CORS).</description></item>
/// </list>
/// Every answer carries <c>Vary: Origin</c>, so caches keep one copy per origin.
/// </summary>
public sealed partial class CorsPolicy : IGatewayStage
{
    private const string PreflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
    private const string PrivateNetworkVary = PreflightVary + ", Access-Control-Request-Private-Network";

    private static readonly string[] s_owned =
    {
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers",
        "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age",
        "Access-Control-Allow-Private-Network",
    };

    private readonly bool _allOrigins;
    private readonly string[] _origins;
    private readonly (string Prefix, string Suffix)[] _patterns;
    private readonly string[] _methods;
    private readonly bool _allHeaders;
    private readonly string[] _headers;
    private readonly string? _exposeHeaders;
    private readonly bool _allowCredentials;
    private readonly bool _allowPrivateNetwork;
    private readonly bool _optionsPassthrough;
    private readonly int _optionsSuccessStatus;
    private readonly string? _maxAge;
    private readonly bool _debug;
    private readonly Func<object, Task> _applyToAnswer;

    /// <param name="origins">Allowed origins, lower-cased; ignored when <paramref name="allOrigins"/>.</param>
    /// <param name="originPatterns">Allowed origins with one <c>*</c> standing for any run of characters, lower-cased.</param>
    /// <param name="methods">Allowed methods, upper-cased (OPTIONS is always allowed for a preflight).</param>
    /// <param name="headers">Allowed request headers, lower-cased; ignored when <paramref name="allHeaders"/>.</param>
    /// <param name="exposeHeaders">The <c>Access-Control-Expose-Headers</c> value, or null.</param>
    /// <param name="maxAgeSeconds">How long a browser may cache a preflight answer; 0 sends no <c>Access-Control-Max-Age</c>.</param>
    public CorsPolicy(
        bool allOrigins,
        string[] origins,
        string[] originPatterns,
        string[] methods,
        bool allHeaders,
        string[] headers,
        string? exposeHeaders,
        bool allowCredentials,
        bool allowPrivateNetwork,
        bool optionsPassthrough,
        int optionsSuccessStatus,
        long maxAgeSeconds,
        bool debug)
    {
        ArgumentNullException.ThrowIfNull(originPatterns);
        _allOrigins = allOrigins;
        _origins = origins;
        _patterns = new (string, string)[originPatterns.Length];
        for (int i = 0; i < originPatterns.Length; i++)
        {
            int star = originPatterns[i].IndexOf('*', StringComparison.Ordinal);
            _patterns[i] = (originPatterns[i][..star], originPatterns[i][(star + 1)..]);
        }

        _methods = methods;
        _allHeaders = allHeaders;
        _headers = headers;
        _exposeHeaders = exposeHeaders;
        _allowCredentials = allowCredentials;
        _allowPrivateNetwork = allowPrivateNetwork;
        _optionsPassthrough = optionsPassthrough;
        _optionsSuccessStatus = optionsSuccessStatus;
        _maxAge = maxAgeSeconds > 0 ? maxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        _debug = debug;
        _applyToAnswer = ApplyToAnswer;
    }

    public void ConfigureHost(GatewayHost host)
    {
    }

    public Task? TryAnswer(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (HttpMethods.IsOptions(request.Method) && !StringValues.IsNullOrEmpty(request.Headers.AccessControlRequestMethod))
        {
            AnswerPreflight(context);
            if (_optionsPassthrough)
            {
                return null;
            }

            HttpResponse response = context.Response;
            response.StatusCode = _optionsSuccessStatus;
            if (_optionsSuccessStatus != StatusCodes.Status204NoContent)
            {
                response.ContentLength = 0;
            }

            return Task.CompletedTask;
        }

        if (StringValues.IsNullOrEmpty(request.Headers.Origin))
        {
            context.Response.Headers.Append("Vary", "Origin");
            return null;
        }

        // The answer's headers are settled when it starts, so that they hold for every answer this request gets.
        context.Response.OnStarting(_applyToAnswer, context);
        return null;
    }

    private void AnswerPreflight(HttpContext context)
    {
        IHeaderDictionary requestHeaders = context.Request.Headers;
        IHeaderDictionary headers = context.Response.Headers;
        headers.Append("Vary", _allowPrivateNetwork ? PrivateNetworkVary : PreflightVary);
        if (AllowedOrigin(context, "preflight") is not { } origin)
        {
            return;
        }

        string method = requestHeaders.AccessControlRequestMethod.ToString();
        if (!IsMethodAllowed(method))
        {
            Refused(context, "preflight", origin, $"method {method} is not allowed");
            return;
        }

        StringValues requested = requestHeaders.AccessControlRequestHeaders;
        if (!_allHeaders && RefusedHeader(requested) is { } header)
        {
            Refused(context, "preflight", origin, $"header {header} is not allowed");
            return;
        }

        headers.AccessControlAllowOrigin = _allOrigins ? "*" : origin;
        headers.AccessControlAllowMethods = method;
        if (requested.Count > 0 && !string.IsNullOrEmpty(requested[0]))
        {
            headers.AccessControlAllowHeaders = requested;
        }

        if (_allowCredentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (_allowPrivateNetwork && requestHeaders["Access-Control-Request-Private-Network"] == "true")
        {
            headers["Access-Control-Allow-Private-Network"] = "true";
        }

        if (_maxAge is not null)
        {
            headers.AccessControlMaxAge = _maxAge;
        }
    }

    /// <summary>Settles the CORS headers of a request's answer (registered with OnStarting, so it runs once, as the answer starts).</summary>
    private Task ApplyToAnswer(object state)
    {
        var context = (HttpContext)state;
        IHeaderDictionary headers = context.Response.Headers;
        foreach (string owned in s_owned)
        {
            headers.Remove(owned);
        }

        headers.Append("Vary", "Origin");
        if (AllowedOrigin(context, "request") is not { } origin)
        {
            return Task.CompletedTask;
        }

        if (!IsMethodAllowed(context.Request.Method))
        {
            Refused(context, "request", origin, $"method {context.Request.Method} is not allowed");
            return Task.CompletedTask;
        }

        headers.AccessControlAllowOrigin = _allOrigins ? "*" : origin;
        if (_exposeHeaders is not null)
        {
            headers.AccessControlExposeHeaders = _exposeHeaders;
        }

        if (_allowCredentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        return Task.CompletedTask;
    }

    /// <summary>The request's single <c>Origin</c> when it is allowed; null when it is absent, repeated or not allowed.</summary>
    private string? AllowedOrigin(HttpContext context, string kind)
    {
        StringValues values = context.Request.Headers.Origin;
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return null;
        }

        string origin = values[0]!;
        if (_allOrigins || IsListed(origin))
        {
            return origin;
        }

        Refused(context, kind, origin, "the origin is not allowed");
        return null;
    }

    private bool IsListed(string origin)
    {
        foreach (string allowed in _origins)
        {
            if (string.Equals(allowed, origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        foreach ((string prefix, string suffix) in _patterns)
        {
            if (origin.Length >= prefix.Length + suffix.Length
                && origin.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Methods are compared as sent (HTTP methods are case-sensitive); a preflight's own OPTIONS is always allowed.</summary>
    private bool IsMethodAllowed(string method) =>
        method == HttpMethods.Options || Array.IndexOf(_methods, method) >= 0;

    /// <summary>The first requested header name that is not allowed, or null when all are (names compare case-insensitively).</summary>
    private string? RefusedHeader(StringValues requested)
    {
        foreach (string? value in requested)
        {
            ReadOnlySpan<char> rest = value;
            while (!rest.IsEmpty)
            {
                int comma = rest.IndexOf(',');
                ReadOnlySpan<char> name = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (!name.IsEmpty && !IsHeaderAllowed(name))
                {
                    return name.ToString();
                }
            }
        }

        return null;
    }

    private bool IsHeaderAllowed(ReadOnlySpan<char> name)
    {
        foreach (string allowed in _headers)
        {
            if (name.Equals(allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>With <c>debug</c>, says why a CORS request got no allowing headers (the origin and method are not secrets).</summary>
    private void Refused(HttpContext context, string kind, string origin, string reason)
    {
        if (_debug)
        {
            ILogger logger = context.RequestServices?.GetService<ILoggerFactory>()?.CreateLogger("Gateway.Cors") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
            LogRefused(logger, kind, origin, context.Request.Path.Value ?? string.Empty, reason);
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "CORS {Kind} from {Origin} to {Path} gets no allowing headers: {Reason}")]
    private static partial void LogRefused(ILogger logger, string kind, string origin, string path, string reason);
}

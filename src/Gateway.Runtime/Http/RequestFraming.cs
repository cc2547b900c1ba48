using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Http;

/// <summary>
/// What Kestrel accepts in a request head and a server in front of the gateway may read otherwise: the framing of the
/// body and the request target. Such a request is refused with <c>400</c> and <c>Connection: close</c> before any stage
/// or backend sees it, as RFC 9112 allows or asks (docs/reliability.md, request fuzzing). Each rule was found by the
/// request fuzzer (<c>RequestFuzzTests</c>) and has a test that failed before it.
/// </summary>
internal static class RequestFraming
{
    /// <summary>Where Kestrel keeps a <c>Content-Length</c> it removed from a request with <c>Transfer-Encoding: chunked</c>.</summary>
    internal const string MovedContentLength = "X-Content-Length";

    /// <summary>Why <paramref name="context"/>'s request must be refused, as the answer's text; null when it may be served.</summary>
    public static ReadOnlySpan<byte> Refusal(HttpContext context)
    {
        HttpRequest request = context.Request;
        StringValues codings = request.Headers.TransferEncoding;
        if (codings.Count != 0)
        {
            // RFC 9112 §6.3: with Content-Length too, a server may read the body by its chunks and close after the
            // answer, which Kestrel does; a front proxy that framed it by the length sees another body, and the bytes
            // after it as a request of its own. Kestrel has removed the Content-Length by now and kept its value as
            // X-Content-Length, so a client that sends that header itself with chunked is refused too (no standard
            // header has that name).
            if (request.Headers.ContentLength is not null || request.Headers.ContainsKey(MovedContentLength))
            {
                return "400 both Content-Length and Transfer-Encoding"u8;
            }

            // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; chunked may be applied once only; any other
            // coding is one the gateway would pass on undone. Kestrel reads "x, chunked" as chunked once, in 1.0 too.
            if (HttpProtocol.IsHttp10(request.Protocol) || !IsChunkedAlone(codings))
            {
                return "400 Transfer-Encoding other than chunked"u8;
            }
        }

        // RFC 9112 §3.2: a target has no whitespace or control byte, and a server that reads the line on whitespace
        // (§3 allows it) would see another target; §3.2 asks not to repair such a line. Kestrel accepts them.
        string? target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is not null && (target.AsSpan().IndexOfAnyInRange('\0', ' ') >= 0 || target.Contains('\u007f', StringComparison.Ordinal)))
        {
            return "400 control character in the request target"u8;
        }

        return default;
    }

    /// <summary>Answers <paramref name="reason"/>: the body was not read, so the connection cannot carry another request.</summary>
    public static Task RefuseAsync(HttpResponse response, ReadOnlySpan<byte> reason)
    {
        response.Headers.Connection = "close";
        return Proxy.FailureAnswers.WriteTextAsync(response, StatusCodes.Status400BadRequest, reason);
    }

    /// <summary>One coding, <c>chunked</c> (any case), across every Transfer-Encoding line; empty list elements ignored (RFC 9110 §5.6.1).</summary>
    private static bool IsChunkedAlone(StringValues codings)
    {
        int found = 0;
        foreach (string? line in codings)
        {
            foreach (Range part in line.AsSpan().Split(','))
            {
                ReadOnlySpan<char> coding = line.AsSpan()[part].Trim(" \t");
                if (coding.IsEmpty)
                {
                    continue;
                }

                if (++found > 1 || !coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return found == 1;
    }
}

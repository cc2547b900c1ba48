using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Http;

/// <summary>
/// Framing that Kestrel reads one way and another server in front of the gateway may read another: the gateway refuses
/// such requests before any stage or backend sees them (docs/reliability.md, request fuzzing).
/// </summary>
internal static class RequestFraming
{
    /// <summary>
    /// Both <c>Content-Length</c> and <c>Transfer-Encoding</c>. RFC 9112 §6.3 lets a server read the body by its chunks
    /// and close the connection after answering, which Kestrel does; a front proxy that framed the same bytes by their
    /// length sees another body, and the bytes after it as a request of its own (request smuggling). The RFC's other
    /// choice is to reject the request, and this is the one the gateway takes.
    /// </summary>
    /// <remarks>
    /// Kestrel has already removed the <c>Content-Length</c> by the time the request reaches the gateway, and kept its
    /// value as <see cref="MovedContentLength"/>; a client that sends that header itself with a chunked body is refused
    /// too (no standard header has that name).
    /// </remarks>
    public static bool IsAmbiguous(HttpRequest request) =>
        request.Headers.TransferEncoding.Count != 0
        && (request.Headers.ContentLength is not null || request.Headers.ContainsKey(MovedContentLength));

    /// <summary>Where Kestrel keeps a <c>Content-Length</c> it removed from a request with <c>Transfer-Encoding: chunked</c>.</summary>
    internal const string MovedContentLength = "X-Content-Length";

    /// <summary>400, a short text body, and <c>Connection: close</c>: the body was not read, so the connection cannot carry another request.</summary>
    public static Task RefuseAsync(HttpResponse response)
    {
        response.Headers.Connection = "close";
        return Proxy.FailureAnswers.WriteTextAsync(response, StatusCodes.Status400BadRequest, "400 both Content-Length and Transfer-Encoding"u8);
    }
}

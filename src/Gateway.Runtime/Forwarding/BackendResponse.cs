using System.Net.Http.Headers;
using Gateway.Runtime.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Runtime.Forwarding;

/// <summary>
/// A backend's final answer as the stages after the send see it (status rules, body, decoding, the headers later steps
/// and the client read), whichever HTTP client received it: .NET's (<see cref="HttpClientResponse"/>) or the gateway's
/// own HTTP/1.1 client (<see cref="Http1.Http1Response"/>). Disposing it ends the exchange on its connection.
/// </summary>
internal abstract class BackendResponse : IDisposable
{
    public abstract int Status { get; }

    /// <summary>The <c>Content-Type</c> as received, or null.</summary>
    public abstract string? ContentType { get; }

    /// <summary>The backend's origin (<c>http://host:port</c>), for the test probe.</summary>
    public abstract string Origin { get; }

    /// <summary>The lines of a response header as the backend wrote them (two <c>Set-Cookie</c> lines stay two); false when absent.</summary>
    public abstract bool TryGetLines(string name, out StringValues lines);

    /// <summary>
    /// Reads the whole body. A body over <paramref name="maxBodyBytes"/> fails as soon as its declared or read length
    /// shows it; one that the gateway-wide <paramref name="budget"/> cannot hold fails with
    /// <see cref="BackendFailure.BufferLimit"/>. The buffer is returned only on success.
    /// </summary>
    public abstract ValueTask<(BackendFailure Failure, PooledBuffer? Body)> ReadBodyAsync(BufferBudget budget, int maxBodyBytes, CancellationToken cancellation);

    public abstract void Dispose();
}

/// <summary>An answer received by .NET's HTTP client (SocketsHttpHandler, or a test's handler).</summary>
internal sealed class HttpClientResponse(HttpResponseMessage response) : BackendResponse
{
    public HttpResponseMessage Message => response;

    public override int Status => (int)response.StatusCode;

    public override string? ContentType => response.Content.Headers.ContentType?.ToString();

    public override string Origin => response.RequestMessage!.RequestUri!.GetLeftPart(UriPartial.Authority);

    public override bool TryGetLines(string name, out StringValues lines)
    {
        // As received: the HTTP client's parsed view would rewrite values ("private, max-age=60" as "max-age=60, private").
        if (response.Headers.NonValidated.TryGetValues(name, out HeaderStringValues found)
            || response.Content.Headers.NonValidated.TryGetValues(name, out found))
        {
            var values = new string[found.Count];
            int count = 0;
            foreach (string line in found)
            {
                values[count++] = line;
            }

            lines = new StringValues(values);
            return true;
        }

        lines = default;
        return false;
    }

    public override ValueTask<(BackendFailure Failure, PooledBuffer? Body)> ReadBodyAsync(BufferBudget budget, int maxBodyBytes, CancellationToken cancellation) =>
        new(BackendCaller.ReadBodyAsync(response.Content, budget, maxBodyBytes, cancellation));

    public override void Dispose() => response.Dispose();
}

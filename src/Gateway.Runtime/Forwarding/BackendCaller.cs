using System.Buffers;
using System.Net;
using Gateway.Runtime.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Forwarding;

/// <summary>Sends one request to a backend and reads its JSON object into a pooled buffer.</summary>
internal static class BackendCaller
{
    internal const string UserAgent = "Gateway/1.0";

    private static readonly UriCreationOptions s_verbatimUri = new()
    {
        // The URL was percent-encoded by the gateway on purpose; keep it byte for byte (no unescaping, no dot-segment removal).
        DangerousDisablePathAndQueryCanonicalization = true,
    };

    public static async Task<BackendResult> SendAsync(HttpContext client, BackendHostGroup hosts, HttpMethod method, string url, int maxBodyBytes, CancellationToken cancellation)
    {
        if (!Uri.TryCreate(url, in s_verbatimUri, out Uri? uri))
        {
            return BackendResult.Failed(BackendFailure.UnresolvedPlaceholder);
        }

        using var request = new HttpRequestMessage(method, uri);
        request.Version = HttpVersion.Version11;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        AddForwardingHeaders(client, request);

        HttpResponseMessage response;
        try
        {
            response = await hosts.Invoker.SendAsync(request, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return BackendResult.Failed(client.RequestAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout);
        }
        catch (HttpRequestException)
        {
            return BackendResult.Failed(BackendFailure.Transport);
        }

        using (response)
        {
            int status = (int)response.StatusCode;

            // Only 200 and 201 are successes (krakend.md §6.7); 202, 204 and redirects that were not followed are failures.
            if (status != 200 && status != 201)
            {
                return BackendResult.Failed(BackendFailure.Status, status);
            }

            return await ReadObjectAsync(response, status, maxBodyBytes, client, cancellation).ConfigureAwait(false);
        }
    }

    private static async Task<BackendResult> ReadObjectAsync(HttpResponseMessage response, int status, int maxBodyBytes, HttpContext client, CancellationToken cancellation)
    {
        long? declared = response.Content.Headers.ContentLength;
        if (declared > maxBodyBytes)
        {
            return BackendResult.Failed(BackendFailure.BodyTooLarge, status);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 ? (int)declared.Value + 1 : 4096);
        int length = 0;
        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= maxBodyBytes)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            return BackendResult.Failed(BackendFailure.BodyTooLarge, status);
                        }

                        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBodyBytes));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    int read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, maxBodyBytes + 1) - length), cancellation).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (length > maxBodyBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return BackendResult.Failed(BackendFailure.BodyTooLarge, status);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return BackendResult.Failed(client.RequestAborted.IsCancellationRequested ? BackendFailure.Canceled : BackendFailure.Timeout, status);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return BackendResult.Failed(BackendFailure.Transport, status);
        }

        if (!JsonObjectBody.TryGetObject(buffer.AsSpan(0, length), out int start, out int objectLength))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return BackendResult.Failed(BackendFailure.InvalidBody, status);
        }

        return BackendResult.Success(status, buffer, start, objectLength);
    }

    /// <summary>
    /// What every backend request carries about the client (krakend.md §6.3): the client's address and the host it
    /// asked for. The client's own headers are not forwarded by default.
    /// </summary>
    private static void AddForwardingHeaders(HttpContext client, HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        IPAddress? remote = client.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        }

        string host = client.Request.Host.Value ?? string.Empty;
        if (host.Length > 0 && host.AsSpan().IndexOfAny('\r', '\n') < 0)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        }
    }
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Runtime.Forwarding;

namespace Gateway.Components.ClientCredentials;

/// <summary>
/// A backend's OAuth2 client-credentials token (<c>auth/client-credentials</c>, docs/configuration.md): fetched from the
/// token endpoint when first needed (client id and secret as HTTP Basic, RFC 6749 §2.3.1; <c>grant_type</c>,
/// <c>scope</c> and <c>endpoint_params</c> as a form), kept until 10 seconds before it expires, and set as
/// <c>Authorization: Bearer</c> on every request to the backend. One fetch at a time: concurrent requests wait for it.
/// A token endpoint that fails, answers something else than a JSON object with <c>access_token</c>, or is slower than the
/// request's budget fails the step (<see cref="BackendFailure.Credentials"/>); the next request tries again.
/// </summary>
public sealed class ClientCredentialsToken : IHttpMessageModifier
{
    /// <summary>A token this close to its expiry is fetched again, so it cannot expire on its way to the backend.</summary>
    private static readonly TimeSpan s_expiryMargin = TimeSpan.FromSeconds(10);

    /// <summary>The largest token answer read; a real one is well under a kilobyte or two.</summary>
    private const int MaxAnswerBytes = 64 * 1024;

    private readonly BackendHostGroup _tokenHosts;
    private readonly string _path;
    private readonly AuthenticationHeaderValue _clientAuthentication;
    private readonly KeyValuePair<string, string>[] _form;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private volatile CachedToken? _token;

    public ClientCredentialsToken(BackendHostGroup tokenHosts, string path, string clientId, string clientSecret, string? scopes, KeyValuePair<string, string>[] parameters, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _tokenHosts = tokenHosts;
        _path = path;
        _time = time ?? TimeProvider.System;

        // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for Basic authentication.
        string basic = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret);
        _clientAuthentication = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
        var form = new List<KeyValuePair<string, string>> { new("grant_type", "client_credentials") };
        if (scopes is not null)
        {
            form.Add(new("scope", scopes));
        }

        form.AddRange(parameters);
        _form = [.. form];
    }

    /// <summary>How many tokens were fetched (for tests and diagnostics).</summary>
    public int Fetches { get; private set; }

    public async ValueTask<bool> ModifyRequestAsync(HttpRequestMessage request, bool redirected, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? token = Valid(_token) ?? await FetchAsync(cancellation).ConfigureAwait(false);
        if (token is null)
        {
            return false;
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return true;
    }

    public void ModifyResponse(HttpResponseMessage response)
    {
    }

    private string? Valid(CachedToken? token) =>
        token is not null && (token.Expires is null || _time.GetUtcNow() < token.Expires) ? token.Value : null;

    private async Task<string?> FetchAsync(CancellationToken cancellation)
    {
        try
        {
            await _fetching.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        try
        {
            // Another request may have fetched it while this one waited.
            if (Valid(_token) is { } fresh)
            {
                return fresh;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, _tokenHosts.NextHost() + _path)
            {
                Content = new FormUrlEncodedContent(_form),
            };
            request.Headers.Authorization = _clientAuthentication;
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using HttpResponseMessage response = await _tokenHosts.Invoker.SendAsync(request, cancellation).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentLength > MaxAnswerBytes)
            {
                return null;
            }

            byte[] answer = await ReadBoundedAsync(response.Content, cancellation).ConfigureAwait(false);
            if (Parse(answer) is not { } token)
            {
                return null;
            }

            Fetches++;
            _token = token;
            return token.Value;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException or InvalidOperationException)
        {
            return null;
        }
        finally
        {
            _fetching.Release();
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellation)
    {
        Stream stream = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            byte[] chunk = new byte[4096];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxAnswerBytes)
                {
                    throw new InvalidOperationException("the token answer is too large");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>The token of an RFC 6749 §5.1 answer: <c>access_token</c>, and <c>expires_in</c> seconds when given.</summary>
    private CachedToken? Parse(byte[] answer)
    {
        try
        {
            var reader = new Utf8JsonReader(answer);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? value = null;
            double? expiresIn = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isToken = reader.ValueTextEquals("access_token"u8);
                bool isExpiry = reader.ValueTextEquals("expires_in"u8);
                reader.Read();
                if (isToken && reader.TokenType == JsonTokenType.String)
                {
                    value = reader.GetString();
                }
                else if (isExpiry && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double seconds))
                {
                    expiresIn = seconds;
                }
                else if (isExpiry && reader.TokenType == JsonTokenType.String && double.TryParse(reader.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double text))
                {
                    expiresIn = text;
                }
                else
                {
                    reader.Skip();
                }
            }

            // The token goes into a header: it must be a header value (RFC 6750's b64token is narrower still).
            if (string.IsNullOrEmpty(value) || !Gateway.Http.HttpRules.IsHeaderValue(value) || value.Contains(' ', StringComparison.Ordinal))
            {
                return null;
            }

            DateTimeOffset? expires = expiresIn is > 0 and < 10 * 365 * 86400.0 ? _time.GetUtcNow() + TimeSpan.FromSeconds(expiresIn.Value) - s_expiryMargin : null;
            return new CachedToken(value, expires);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record CachedToken(string Value, DateTimeOffset? Expires);
}

using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Gateway.Runtime.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Components.JwtValidator;

/// <summary>How a token names the key that signed it (<c>key_identify_strategy</c>, krakend-jose's names).</summary>
public enum KeyIdentifyStrategy
{
    /// <summary>The token's <c>kid</c> header against the key's <c>kid</c>.</summary>
    Kid,

    /// <summary>The token's <c>x5t</c> header (its <c>kid</c> when absent) against the key's <c>x5t</c>.</summary>
    X5t,

    /// <summary>The token's <c>x5t#S256</c> header (its <c>kid</c> when absent) against the key's <c>x5t#S256</c>.</summary>
    X5tS256,

    /// <summary>The token's <c>kid</c> followed by its <c>x5t</c> (or <c>kid</c> again) against the key's <c>kid</c> and <c>x5t</c>.</summary>
    KidX5t,
}

/// <summary>What looking up a token's key found.</summary>
public enum KeyLookupStatus
{
    Found,

    /// <summary>The key set holds no key of that name for the algorithm: the token is not ours (401).</summary>
    Unknown,

    /// <summary>No key set could be had (the JWKS cannot be fetched, and none was fetched recently): 503.</summary>
    Unavailable,
}

/// <summary>
/// The keys an <c>auth/validator</c> checks signatures with, from a JWKS URL or a JWKS file (docs/configuration.md,
/// JWT validation). One source serves every endpoint that names the same JWKS, so an identity provider sees one download
/// however many endpoints validate its tokens.
/// </summary>
/// <remarks>
/// <para>A fetched key set is used for its fresh period (<c>cache_duration</c>, or 10 s without <c>cache</c>); after it
/// the next request starts a fetch in the background and goes on with the keys it has. A token naming a key the set
/// does not hold (the identity provider rotated its keys) starts a fetch and waits for it. Two fetches are at least the
/// cooldown apart (<c>failed_jwk_key_cooldown</c>, 10 s by default), so tokens with made-up key names cannot make the
/// gateway hammer the identity provider; one fetch runs at a time, and requests that need it share it.</para>
/// <para>A fetch is bounded: <see cref="FetchTimeout"/>, <see cref="MaxJwksBytes"/>, <see cref="MaxKeys"/>, and it
/// never follows a redirect. When fetches fail, the keys fetched last keep being used for <see cref="StaleGrace"/>
/// past their fresh period; with none left, requests are answered 503 at once, without waiting, until a fetch
/// succeeds.</para>
/// </remarks>
public sealed class JsonWebKeySource
{
    /// <summary>How long one download of a key set may take.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The largest key set accepted (identity providers publish a few KiB).</summary>
    public const int MaxJwksBytes = 1024 * 1024;

    /// <summary>The most keys a key set may hold: importing a key costs CPU, and a real set holds a handful.</summary>
    public const int MaxKeys = 100;

    /// <summary>How long past their fresh period fetched keys are still used while the identity provider cannot be reached.</summary>
    public static readonly TimeSpan StaleGrace = TimeSpan.FromHours(1);

    private readonly BackendHostGroup? _hosts;
    private readonly string? _path;
    private readonly string _name;
    private readonly long _freshForMilliseconds;
    private readonly long _cooldownMilliseconds;
    private readonly KeyIdentifyStrategy _strategy;
    private readonly Lock _gate = new();
    private KeySet? _keys;
    private Task? _fetch;
    private long _lastFetchStarted;
    private bool _fetchedOnce;

    private JsonWebKeySource(BackendHostGroup? hosts, string? path, string name, TimeSpan freshFor, TimeSpan cooldown, KeyIdentifyStrategy strategy)
    {
        _hosts = hosts;
        _path = path;
        _name = name;
        _freshForMilliseconds = (long)freshFor.TotalMilliseconds;
        _cooldownMilliseconds = (long)cooldown.TotalMilliseconds;
        _strategy = strategy;
    }

    /// <summary>The key strategy tokens are matched with.</summary>
    public KeyIdentifyStrategy Strategy => _strategy;

    /// <summary>
    /// The source of the JWKS at <paramref name="path"/> on <paramref name="hosts"/> (the <c>jwk_url</c>'s origin, which
    /// <c>--backend-host</c> may point elsewhere), shared by every endpoint of this gateway that names the same one.
    /// </summary>
    public static JsonWebKeySource Remote(BackendRegistry backends, int hostGroup, string path, TimeSpan freshFor, TimeSpan cooldown, KeyIdentifyStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(backends);
        BackendHostGroup hosts = backends.Group(hostGroup);
        string key = $"jwks {hostGroup} {path} {strategy} {freshFor.Ticks} {cooldown.Ticks}";
        return backends.Shared(key, () => new JsonWebKeySource(hosts, path, hosts.Hosts[0] + path, freshFor, cooldown, strategy));
    }

    /// <summary>
    /// The keys of the JWKS file at <paramref name="path"/> (relative to the working directory), read once, now: the
    /// gateway does not start with a file it cannot use (<see cref="GatewayStartupException"/>).
    /// </summary>
    public static JsonWebKeySource File(BackendRegistry backends, string path, KeyIdentifyStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(backends);
        return backends.Shared($"jwks-file {path} {strategy}", () =>
        {
            var source = new JsonWebKeySource(null, null, path, TimeSpan.Zero, TimeSpan.Zero, strategy);
            byte[] json;
            try
            {
                var info = new FileInfo(path);
                if (info.Exists && info.Length > MaxJwksBytes)
                {
                    throw new GatewayStartupException($"auth/validator: the JWKS file {path} is larger than {MaxJwksBytes / 1024} KiB");
                }

                json = System.IO.File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new GatewayStartupException($"auth/validator: the JWKS file {path} (jwk_local_path) cannot be read: {e.Message}", e);
            }

            source._keys = KeySet.Parse(json, null, out string? problem)
                ?? throw new GatewayStartupException($"auth/validator: the JWKS file {path} (jwk_local_path) cannot be used: {problem}");
            return source;
        });
    }

    /// <summary>
    /// The keys that may have signed a token named <paramref name="keyId"/> with <paramref name="algorithm"/>: only keys
    /// of that algorithm's type (an RSA key is never an HMAC secret). Waits, within <paramref name="waitLimit"/>, only
    /// when a fetch is needed and allowed: no usable keys yet, or an unknown key name after the cooldown.
    /// </summary>
    public async ValueTask<(KeyLookupStatus Status, SecurityKey[] Keys)> FindAsync(string keyId, string algorithm, ILogger logger, CancellationToken waitLimit)
    {
        long now = Environment.TickCount64;
        KeySet? keys = Volatile.Read(ref _keys);
        if (keys is not null && !IsExpired(keys, now))
        {
            if (IsStale(keys, now))
            {
                // Keep serving with the keys we have while fresh ones are fetched.
                _ = TryStartFetch(now, logger);
            }

            SecurityKey[] found = keys.Find(keyId, algorithm, _strategy);
            if (found.Length > 0)
            {
                return (KeyLookupStatus.Found, found);
            }
        }

        // No usable key set, or a key name it does not hold (keys rotated): fetch, at most once per cooldown.
        Task? fetch = TryStartFetch(now, logger);
        if (fetch is null)
        {
            return (keys is null || IsExpired(keys, now) ? KeyLookupStatus.Unavailable : KeyLookupStatus.Unknown, []);
        }

        try
        {
            await fetch.WaitAsync(waitLimit).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (KeyLookupStatus.Unavailable, []);
        }

        keys = Volatile.Read(ref _keys);
        if (keys is null || IsExpired(keys, Environment.TickCount64))
        {
            return (KeyLookupStatus.Unavailable, []);
        }

        SecurityKey[] fetched = keys.Find(keyId, algorithm, _strategy);
        return fetched.Length > 0 ? (KeyLookupStatus.Found, fetched) : (KeyLookupStatus.Unknown, []);
    }

    /// <summary>The name of the key a token names, by <see cref="Strategy"/> (krakend-jose's rules; "" when the token names none).</summary>
    public string KeyIdOf(string kid, string x5t, string x5tS256) => _strategy switch
    {
        KeyIdentifyStrategy.X5t => x5t.Length > 0 ? x5t : kid,
        KeyIdentifyStrategy.X5tS256 => x5tS256.Length > 0 ? x5tS256 : kid,
        KeyIdentifyStrategy.KidX5t => kid + (x5t.Length > 0 ? x5t : kid),
        _ => kid,
    };

    private bool IsStale(KeySet keys, long now) => _hosts is not null && now - keys.FetchedAt >= _freshForMilliseconds;

    private bool IsExpired(KeySet keys, long now) => _hosts is not null && now - keys.FetchedAt >= _freshForMilliseconds + (long)StaleGrace.TotalMilliseconds;

    /// <summary>The running fetch, a new one when the cooldown allows it, or null (a file, or a fetch too recent).</summary>
    private Task? TryStartFetch(long now, ILogger logger)
    {
        if (_hosts is null)
        {
            return null;
        }

        lock (_gate)
        {
            if (_fetch is { IsCompleted: false } running)
            {
                return running;
            }

            if (_fetchedOnce && now - _lastFetchStarted < _cooldownMilliseconds)
            {
                return null;
            }

            _fetchedOnce = true;
            _lastFetchStarted = now;

            // Off the caller's thread and never cancelled by its client: requests that need these keys share the fetch.
            return _fetch = Task.Run(() => FetchAsync(logger));
        }
    }

    /// <summary>Downloads and reads the key set; on success it replaces the one in use. Never throws.</summary>
    private async Task FetchAsync(ILogger logger)
    {
        BackendHostGroup hosts = _hosts!;
        string url = hosts.NextHost() + _path;
        string? problem = null;
        using var timeout = new CancellationTokenSource(FetchTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
            request.Headers.TryAddWithoutValidation("Accept", "application/jwk-set+json, application/json");
            request.Headers.TryAddWithoutValidation("User-Agent", ForwardedRequest.GatewayUserAgent);
            using HttpResponseMessage response = await hosts.Invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            string? type = response.Content.Headers.ContentType?.MediaType;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                problem = $"it answered {(int)response.StatusCode}";
            }
            else if (type is not ("application/json" or "application/jwk-set+json"))
            {
                // As krakend-jose: an HTML login page or an error text is not a key set.
                problem = $"its Content-Type is {type ?? "missing"}, not application/json or application/jwk-set+json";
            }
            else
            {
                (BackendFailure failure, PooledBuffer? body) = await BackendCaller.ReadBodyAsync(response.Content, hosts.Budget, MaxJwksBytes, timeout.Token).ConfigureAwait(false);
                using (body)
                {
                    KeySet? keys = body is null ? null : KeySet.Parse(body.WrittenSpan, Volatile.Read(ref _keys), out problem);
                    if (keys is not null)
                    {
                        Volatile.Write(ref _keys, keys);
                        if (keys.Changed)
                        {
                            // The first set, or a rotation: worth a line; a refresh that changed nothing is not.
                            JwtLog.KeysFetched(logger, _name, keys.Count);
                        }

                        return;
                    }

                    problem ??= failure switch
                    {
                        BackendFailure.BodyTooLarge => $"it is larger than {MaxJwksBytes / 1024} KiB",
                        BackendFailure.Timeout => $"it took longer than {FetchTimeout.TotalSeconds:0} s",
                        BackendFailure.BufferLimit => "the gateway's memory for response bodies is in use",
                        _ => "its body could not be read",
                    };
                }
            }
        }
        catch (OperationCanceledException)
        {
            problem = $"it took longer than {FetchTimeout.TotalSeconds:0} s";
        }
        catch (HttpRequestException e)
        {
            problem = $"it could not be reached ({e.HttpRequestError})";
        }
        catch (ObjectDisposedException)
        {
            // The gateway is stopping: its connection pools are gone, and so is the need for keys.
            return;
        }
        catch (Exception e)
        {
            // A fetch runs apart from any request: whatever goes wrong is logged, and the keys in use stay.
            JwtLog.KeysFetchCrashed(logger, _name, e);
            return;
        }

        JwtLog.KeysFetchFailed(logger, _name, problem, Volatile.Read(ref _keys) is null ? "no keys: requests are answered 503" : "the keys fetched before stay in use");
    }

    /// <summary>One key of a set, with the names a token may use for it.</summary>
    private sealed record KeyEntry(string Kid, string X5t, string X5tS256, string Type, string? Curve, string Material, SecurityKey Key);

    /// <summary>A parsed key set: its usable keys, and when it was fetched.</summary>
    private sealed class KeySet
    {
        private readonly KeyEntry[] _entries;

        private KeySet(KeyEntry[] entries, bool changed)
        {
            _entries = entries;
            Changed = changed;
            FetchedAt = Environment.TickCount64;
        }

        public long FetchedAt { get; }

        /// <summary>False when every key is one of the set it replaces, and nothing was removed.</summary>
        public bool Changed { get; }

        public int Count => _entries.Length;

        /// <summary>The keys named <paramref name="keyId"/> (by <paramref name="strategy"/>) whose type fits <paramref name="algorithm"/>.</summary>
        public SecurityKey[] Find(string keyId, string algorithm, KeyIdentifyStrategy strategy)
        {
            SecurityKey[]? found = null;
            foreach (KeyEntry entry in _entries)
            {
                if (Fits(entry, algorithm) && string.Equals(NameOf(entry, strategy), keyId, StringComparison.Ordinal))
                {
                    found = found is null ? [entry.Key] : [.. found, entry.Key];
                }
            }

            return found ?? [];
        }

        /// <summary>A key's name as tokens name it (krakend-jose's key-side rules).</summary>
        private static string NameOf(KeyEntry key, KeyIdentifyStrategy strategy) => strategy switch
        {
            KeyIdentifyStrategy.X5t => key.X5t,
            KeyIdentifyStrategy.X5tS256 => key.X5tS256,
            KeyIdentifyStrategy.KidX5t => key.Kid + key.X5t,
            _ => key.Kid,
        };

        /// <summary>
        /// Reads a JWKS (<c>{"keys": [...]}</c>, RFC 7517). Keys that are not for signatures, of a type the gateway cannot
        /// use, or malformed are left out; a set with no usable key is refused. Keys equal to one of
        /// <paramref name="previous"/> are reused as they are, so a refresh that changes nothing imports nothing.
        /// </summary>
        public static KeySet? Parse(ReadOnlySpan<byte> json, KeySet? previous, out string? problem)
        {
            problem = null;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            }
            catch (JsonException)
            {
                problem = "it is not JSON";
                return null;
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("keys", out JsonElement keys) || keys.ValueKind != JsonValueKind.Array)
                {
                    problem = "it is not a key set: {\"keys\": [...]}";
                    return null;
                }

                if (keys.GetArrayLength() > MaxKeys)
                {
                    problem = $"it holds more than {MaxKeys} keys";
                    return null;
                }

                var entries = new List<KeyEntry>();
                bool changed = previous is null;
                foreach (JsonElement key in keys.EnumerateArray())
                {
                    if (Read(key, previous) is { } entry)
                    {
                        changed = changed || !previous!.Holds(entry);
                        entries.Add(entry);
                    }
                }

                if (entries.Count == 0)
                {
                    problem = "it holds no key the gateway can use (RSA, EC P-256/P-384/P-521 or oct, for signatures)";
                    return null;
                }

                return new KeySet([.. entries], changed || entries.Count != previous!.Count);
            }
        }

        /// <summary>Whether a key's type fits the algorithm: what keeps a public RSA key from ever being used as an HMAC secret.</summary>
        private static bool Fits(KeyEntry key, string algorithm) => algorithm[0] switch
        {
            'H' => key.Type == "oct",
            'R' or 'P' => key.Type == "RSA",
            'E' => key.Type == "EC" && key.Curve == algorithm switch { "ES256" => "P-256", "ES384" => "P-384", _ => "P-521" },
            _ => false,
        };

        private static KeyEntry? Read(JsonElement key, KeySet? previous)
        {
            if (key.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? type = Text(key, "kty");
            string? use = Text(key, "use");
            if (type is null || (use is not null && use != "sig"))
            {
                return null;
            }

            string? curve = Text(key, "crv");
            string material = type switch
            {
                "RSA" => $"RSA {Text(key, "n")} {Text(key, "e")}",
                "EC" => $"EC {curve} {Text(key, "x")} {Text(key, "y")}",
                "oct" => $"oct {Text(key, "k")}",
                _ => string.Empty,
            };
            if (material.Length == 0)
            {
                return null;
            }

            string kid = Text(key, "kid") ?? string.Empty;
            string x5t = Text(key, "x5t") ?? string.Empty;
            string x5tS256 = Text(key, "x5t#S256") ?? string.Empty;
            SecurityKey? imported = previous?.Reuse(material) ?? Import(type, key, curve);
            return imported is null ? null : new KeyEntry(kid, x5t, x5tS256, type, curve, material, imported);
        }

        private bool Holds(KeyEntry key)
        {
            foreach (KeyEntry entry in _entries)
            {
                if (entry.Material == key.Material && entry.Kid == key.Kid && entry.X5t == key.X5t && entry.X5tS256 == key.X5tS256)
                {
                    return true;
                }
            }

            return false;
        }

        private SecurityKey? Reuse(string material)
        {
            foreach (KeyEntry entry in _entries)
            {
                if (entry.Material == material)
                {
                    return entry.Key;
                }
            }

            return null;
        }

        private static SecurityKey? Import(string type, JsonElement key, string? curve)
        {
            try
            {
                switch (type)
                {
                    case "RSA":
                        if (Bytes(key, "n") is not { Length: > 0 } modulus || Bytes(key, "e") is not { Length: > 0 } exponent)
                        {
                            return null;
                        }

                        return new RsaSecurityKey(RSA.Create(new RSAParameters { Modulus = modulus, Exponent = exponent }));
                    case "EC":
                        (ECCurve named, int size) = curve switch
                        {
                            "P-256" => (ECCurve.NamedCurves.nistP256, 32),
                            "P-384" => (ECCurve.NamedCurves.nistP384, 48),
                            "P-521" => (ECCurve.NamedCurves.nistP521, 66),
                            _ => (default(ECCurve), 0),
                        };
                        if (size == 0 || Bytes(key, "x") is not { } x || Bytes(key, "y") is not { } y || x.Length != size || y.Length != size)
                        {
                            return null;
                        }

                        // Importing checks that the point is on the curve.
                        return new ECDsaSecurityKey(ECDsa.Create(new ECParameters { Curve = named, Q = new ECPoint { X = x, Y = y } }));
                    default:
                        return Bytes(key, "k") is { Length: > 0 } secret ? new SymmetricSecurityKey(secret) : null;
                }
            }
            catch (CryptographicException)
            {
                return null;
            }
        }

        private static string? Text(JsonElement key, string name) =>
            key.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static byte[]? Bytes(JsonElement key, string name)
        {
            string? text = Text(key, name);
            if (text is null)
            {
                return null;
            }

            try
            {
                return Base64Url.DecodeFromChars(text);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}

using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Components.JwtValidator;
using Gateway.Runtime.Forwarding;
using Gateway.Runtime.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Runtime.Tests.Components;

/// <summary>
/// The keys of <c>auth/validator</c>: what a key set may hold, which key serves which algorithm, one fetch for many
/// requests, the cooldown between fetches, and what happens when the identity provider fails.
/// </summary>
public sealed class JsonWebKeySourceTests : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private int _fetches;

    public void Dispose()
    {
        _rsa.Dispose();
        _ec.Dispose();
    }

    [Fact]
    public async Task FindAsync_KeyOfEachType_ServesOnlyItsAlgorithms()
    {
        using BackendRegistry registry = Serving(KeySet(Rsa("k1"), Ec("k2"), """{"kty": "oct", "kid": "k3", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMy"}"""));
        JsonWebKeySource keys = Remote(registry);

        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k1", "RS256")).Status);
        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k1", "PS512")).Status);
        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k2", "ES256")).Status);
        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k3", "HS256")).Status);

        // An RSA key is never an HMAC secret, nor a P-256 key an ES384 one.
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "k1", "HS256")).Status);
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "k2", "ES384")).Status);
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "k3", "RS256")).Status);
        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task FindAsync_KeysNotForSignaturesOrMalformed_AreLeftOut()
    {
        using BackendRegistry registry = Serving(KeySet(
            Rsa("enc", """ "use": "enc", """),
            """{"kty": "RSA", "kid": "bad-base64", "n": "!!!", "e": "AQAB"}""",
            """{"kty": "EC", "kid": "short", "crv": "P-256", "x": "AAAA", "y": "AAAA"}""",
            """{"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "y": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}""",
            """{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"}""",
            """["not", "an", "object"]""",
            Rsa("good")));
        JsonWebKeySource keys = Remote(registry);

        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "good", "RS256")).Status);
        foreach (string kid in new[] { "enc", "bad-base64" })
        {
            Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, kid, "RS256")).Status);
        }

        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "short", "ES256")).Status);
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "off-curve", "ES256")).Status);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"keys": {}}""")]
    [InlineData("""[{"kty": "RSA"}]""")]
    [InlineData("""{"keys": []}""")]
    public async Task FindAsync_NotAUsableKeySet_IsUnavailable(string body)
    {
        using BackendRegistry registry = Serving(body);

        Assert.Equal(KeyLookupStatus.Unavailable, (await Find(Remote(registry), "k1", "RS256")).Status);
    }

    [Fact]
    public async Task FindAsync_MoreKeysThanTheLimit_IsUnavailable()
    {
        string key = Rsa("k");
        using BackendRegistry registry = Serving(KeySet(Enumerable.Repeat(key, JsonWebKeySource.MaxKeys + 1).ToArray()));

        Assert.Equal(KeyLookupStatus.Unavailable, (await Find(Remote(registry), "k", "RS256")).Status);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, "application/json")]
    [InlineData(HttpStatusCode.OK, "text/html")]
    [InlineData(HttpStatusCode.Found, "application/json")]
    public async Task FindAsync_WrongStatusOrContentType_IsUnavailable(HttpStatusCode status, string type)
    {
        using var fake = new FakeBackend(_ => Answer(KeySet(Rsa("k1")), status, type));
        using BackendRegistry registry = fake.Registry();

        Assert.Equal(KeyLookupStatus.Unavailable, (await Find(Remote(registry), "k1", "RS256")).Status);
    }

    [Fact]
    public async Task FindAsync_ManyRequestsAtOnce_ShareOneFetch()
    {
        var release = new TaskCompletionSource();
        using var fake = new FakeBackend(async (_, cancellation) =>
        {
            Interlocked.Increment(ref _fetches);
            await release.Task.WaitAsync(cancellation);
            return Answer(KeySet(Rsa("k1")));
        });
        using BackendRegistry registry = fake.Registry();
        JsonWebKeySource keys = Remote(registry);

        Task<(KeyLookupStatus Status, Microsoft.IdentityModel.Tokens.SecurityKey[] Keys)>[] lookups = Enumerable.Range(0, 50).Select(_ => Find(keys, "k1", "RS256")).ToArray();
        release.SetResult();
        var results = await Task.WhenAll(lookups);

        Assert.All(results, r => Assert.Equal(KeyLookupStatus.Found, r.Status));
        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task FindAsync_UnknownKeyWithinTheCooldown_IsRefusedWithoutFetching()
    {
        using BackendRegistry registry = Serving(KeySet(Rsa("k1")));
        JsonWebKeySource keys = Remote(registry, cooldown: Hour);

        await Find(keys, "k1", "RS256");
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "rotated-" + i, "RS256")).Status);
        }

        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task FindAsync_StaleKeys_AreUsedAtOnceWhileAFetchRunsInTheBackground()
    {
        var fetched = new SemaphoreSlim(0);
        var second = new TaskCompletionSource();
        using var fake = new FakeBackend(async (_, cancellation) =>
        {
            // The first fetch answers at once; the second (the background refresh) only when the test lets it.
            if (Interlocked.Increment(ref _fetches) > 1)
            {
                await second.Task.WaitAsync(cancellation);
            }

            fetched.Release();
            return Answer(KeySet(Rsa("k1")));
        });
        using BackendRegistry registry = fake.Registry();
        JsonWebKeySource keys = Remote(registry, freshFor: TimeSpan.Zero, cooldown: TimeSpan.Zero);

        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k1", "RS256")).Status);
        Task<(KeyLookupStatus Status, Microsoft.IdentityModel.Tokens.SecurityKey[] Keys)> stale = Find(keys, "k1", "RS256");

        Assert.True(stale.IsCompleted, "a request with usable (stale) keys does not wait for the refresh");
        Assert.Equal(KeyLookupStatus.Found, (await stale).Status);
        second.SetResult();
        Assert.True(await fetched.WaitAsync(TimeSpan.FromSeconds(10)) && await fetched.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, _fetches);
    }

    [Fact]
    public async Task FindAsync_FetchFailsAfterASuccess_TheKeysFetchedBeforeStayInUse()
    {
        int call = 0;
        using var fake = new FakeBackend(_ => Interlocked.Increment(ref call) == 1 ? Answer(KeySet(Rsa("k1"))) : Answer("{}", HttpStatusCode.BadGateway));
        using BackendRegistry registry = fake.Registry();
        JsonWebKeySource keys = Remote(registry, freshFor: TimeSpan.Zero, cooldown: TimeSpan.Zero);

        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k1", "RS256")).Status);
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "k2", "RS256")).Status);
        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "k1", "RS256")).Status);
        Assert.True(call >= 2);
    }

    [Fact]
    public async Task FindAsync_NoKeysAndTheFetchFailedRecently_AnswersUnavailableWithoutWaiting()
    {
        using var fake = new FakeBackend(_ =>
        {
            Interlocked.Increment(ref _fetches);
            throw new HttpRequestException("refused");
        });
        using BackendRegistry registry = fake.Registry();
        JsonWebKeySource keys = Remote(registry, cooldown: Hour);

        Assert.Equal(KeyLookupStatus.Unavailable, (await Find(keys, "k1", "RS256")).Status);
        ValueTask<(KeyLookupStatus Status, Microsoft.IdentityModel.Tokens.SecurityKey[] Keys)> again = keys.FindAsync("k1", "RS256", NullLogger.Instance, CancellationToken.None);

        Assert.True(again.IsCompleted);
        Assert.Equal(KeyLookupStatus.Unavailable, (await again).Status);
        Assert.Equal(1, _fetches);
    }

    [Fact]
    public async Task FindAsync_TheWaitEndsWithTheRequestsBudget()
    {
        using var fake = new FakeBackend(async (_, cancellation) =>
        {
            await Task.Delay(Timeout.Infinite, cancellation);
            return Answer("{}");
        });
        using BackendRegistry registry = fake.Registry();
        using var budget = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        (KeyLookupStatus status, _) = await Remote(registry).FindAsync("k1", "RS256", NullLogger.Instance, budget.Token);

        Assert.Equal(KeyLookupStatus.Unavailable, status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), clock.Elapsed.ToString());
    }

    [Fact]
    public async Task FindAsync_ARefreshThatChangesNothing_IsNotLogged_ARotationIs()
    {
        string served = KeySet(Rsa("k1"));
        using var fake = new FakeBackend(_ =>
        {
            Interlocked.Increment(ref _fetches);
            return Answer(served);
        });
        using BackendRegistry registry = fake.Registry();
        JsonWebKeySource keys = Remote(registry, freshFor: TimeSpan.Zero, cooldown: TimeSpan.Zero);
        var log = new ListLogger();

        // A key name the set does not hold makes each lookup wait for a whole fetch (the set is always stale here).
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(KeyLookupStatus.Unknown, (await keys.FindAsync("absent", "RS256", log, CancellationToken.None)).Status);
        }

        served = KeySet(Rsa("k2"));
        Assert.Equal(KeyLookupStatus.Found, (await keys.FindAsync("k2", "RS256", log, CancellationToken.None)).Status);

        Assert.Equal(4, _fetches);
        Assert.Equal(["the key set http://backend.test/jwks.json was fetched: 1 usable key(s)", "the key set http://backend.test/jwks.json was fetched: 1 usable key(s)"], log.Lines);
    }

    [Theory]
    [InlineData(KeyIdentifyStrategy.X5t, "", "thumb", "", "thumb")]
    [InlineData(KeyIdentifyStrategy.X5t, "k1", "", "", "k1")]
    [InlineData(KeyIdentifyStrategy.X5tS256, "k1", "thumb", "thumb256", "thumb256")]
    [InlineData(KeyIdentifyStrategy.KidX5t, "k1", "thumb", "", "k1thumb")]
    [InlineData(KeyIdentifyStrategy.KidX5t, "k1", "", "", "k1k1")]
    public void KeyIdOf_FollowsTheStrategy(KeyIdentifyStrategy strategy, string kid, string x5t, string x5tS256, string expected)
    {
        using BackendRegistry registry = Serving("{}");

        Assert.Equal(expected, Remote(registry, strategy: strategy).KeyIdOf(kid, x5t, x5tS256));
    }

    [Fact]
    public async Task FindAsync_X5tStrategy_MatchesTheKeysThumbprint()
    {
        using BackendRegistry registry = Serving(KeySet(Rsa("k1", """ "x5t": "thumb", """)));
        JsonWebKeySource keys = Remote(registry, strategy: KeyIdentifyStrategy.X5t);

        Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "thumb", "RS256")).Status);
        Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "k1", "RS256")).Status);
    }

    [Fact]
    public void Remote_SameKeySetTwice_IsOneSource()
    {
        using BackendRegistry registry = Serving("{}");

        Assert.Same(Remote(registry), Remote(registry));
        Assert.NotSame(Remote(registry), Remote(registry, cooldown: Hour));
    }

    [Fact]
    public void File_MissingOrUnusable_StopsTheGatewayWithAMessage()
    {
        using BackendRegistry registry = Serving("{}");
        string path = Path.Combine(Path.GetTempPath(), $"jwks-{Guid.NewGuid():N}.json");

        var missing = Assert.Throws<GatewayStartupException>(() => JsonWebKeySource.File(registry, path, KeyIdentifyStrategy.Kid));
        Assert.Contains(path, missing.Message, StringComparison.Ordinal);

        File.WriteAllText(path, """{"keys": [{"kty": "OKP"}]}""");
        try
        {
            var unusable = Assert.Throws<GatewayStartupException>(() => JsonWebKeySource.File(registry, path, KeyIdentifyStrategy.Kid));
            Assert.Contains("no key the gateway can use", unusable.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task File_IsReadOnceAndNeverFetched()
    {
        using BackendRegistry registry = Serving("{}");
        string path = Path.Combine(Path.GetTempPath(), $"jwks-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, KeySet(Rsa("local")));
        try
        {
            JsonWebKeySource keys = JsonWebKeySource.File(registry, path, KeyIdentifyStrategy.Kid);
            File.Delete(path);

            Assert.Equal(KeyLookupStatus.Found, (await Find(keys, "local", "RS256")).Status);
            Assert.Equal(KeyLookupStatus.Unknown, (await Find(keys, "other", "RS256")).Status);
            Assert.Equal(0, _fetches);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Task<(KeyLookupStatus Status, Microsoft.IdentityModel.Tokens.SecurityKey[] Keys)> Find(JsonWebKeySource keys, string kid, string alg) =>
        keys.FindAsync(kid, alg, NullLogger.Instance, CancellationToken.None).AsTask();

    private static JsonWebKeySource Remote(BackendRegistry registry, TimeSpan? freshFor = null, TimeSpan? cooldown = null, KeyIdentifyStrategy strategy = KeyIdentifyStrategy.Kid) =>
        JsonWebKeySource.Remote(registry, 0, "/jwks.json", freshFor ?? Hour, cooldown ?? TimeSpan.FromSeconds(10), strategy);

    private BackendRegistry Serving(string body)
    {
        var fake = new FakeBackend(_ =>
        {
            Interlocked.Increment(ref _fetches);
            return Answer(body);
        });
        return fake.Registry();
    }

    private static HttpResponseMessage Answer(string body, HttpStatusCode status = HttpStatusCode.OK, string type = "application/json") =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, type) };

    private string Rsa(string kid, string extra = "")
    {
        RSAParameters p = _rsa.ExportParameters(false);
        return $$"""{"kty": "RSA", "kid": "{{kid}}", {{extra}} "n": "{{Base64Url.EncodeToString(p.Modulus)}}", "e": "{{Base64Url.EncodeToString(p.Exponent)}}"}""";
    }

    private string Ec(string kid)
    {
        ECParameters p = _ec.ExportParameters(false);
        return $$"""{"kty": "EC", "kid": "{{kid}}", "crv": "P-256", "x": "{{Base64Url.EncodeToString(p.Q.X)}}", "y": "{{Base64Url.EncodeToString(p.Q.Y)}}"}""";
    }

    private static string KeySet(params string[] keys) => $$"""{"keys": [{{string.Join(", ", keys)}}]}""";

    /// <summary>Keeps the messages logged at Information and above.</summary>
    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public string[] Lines => [.. _lines];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= Microsoft.Extensions.Logging.LogLevel.Information)
            {
                _lines.Enqueue(formatter(state, exception));
            }
        }
    }
}

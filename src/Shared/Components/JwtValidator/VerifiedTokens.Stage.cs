using Microsoft.IdentityModel.Tokens;

namespace Gateway.Components.JwtValidator;

/// <summary>A token whose signature verified: the key that verified it, under the name it was found by, and its claims.</summary>
internal sealed record VerifiedToken(string KeyId, SecurityKey Key, byte[] Claims);

/// <summary>
/// The tokens an endpoint's validator verified, by their exact text, so that a client sending the same token again is
/// not read and verified again: parsing the token and checking its signature is most of what validation costs, and a
/// client sends the same token on every request until it expires.
/// </summary>
/// <remarks>
/// Only verified tokens are kept, at most <see cref="Capacity"/> (when full, the next one empties it), so a client
/// sending tokens of its own making never adds one. A remembered token is used only while the key set still holds the
/// very key object that verified it: when the set is fetched again (rotation, expiry) the token is verified again. The
/// claims' rules (lifetime, issuer, audiences, roles, scopes) are checked on every request, remembered or not, so an
/// expired token is refused at the second it expires. The text compared is the whole token, signature included.
/// </remarks>
internal sealed class VerifiedTokens
{
    /// <summary>At most this many tokens per endpoint (a token is at most 16 KB: the most this can hold is bounded).</summary>
    public const int Capacity = 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, VerifiedToken> _tokens = new(StringComparer.Ordinal);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _tokens.Count;
            }
        }
    }

    public bool TryGet(string token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out VerifiedToken? verified)
    {
        lock (_lock)
        {
            return _tokens.TryGetValue(token, out verified);
        }
    }

    public void Add(string token, VerifiedToken verified)
    {
        lock (_lock)
        {
            if (_tokens.Count >= Capacity && !_tokens.ContainsKey(token))
            {
                _tokens.Clear();
            }

            _tokens[token] = verified;
        }
    }
}

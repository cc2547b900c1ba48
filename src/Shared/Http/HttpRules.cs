using System;
using System.Collections.Generic;
#if NET8_0_OR_GREATER
using System.Buffers;
#endif

namespace Gateway.Http;

/// <summary>
/// The HTTP rules that build time (the generator, <c>gateway check</c>) and run time share, written once (RFC 9110):
/// what a header name and a header value may hold, which headers describe a connection rather than a message, which
/// headers the gateway never forwards or lets a template set, and the methods endpoints and backends may use.
/// </summary>
internal static class HttpRules
{
    /// <summary>Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the proxy ones of RFC 2616 §13.5.1.</summary>
    public static readonly string[] HopByHop =
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade",
    };

    /// <summary>Headers the HTTP client writes itself from the request it sends.</summary>
    public static readonly string[] WrittenByTheClient = { "Host", "Content-Length", "Expect" };

    /// <summary>
    /// Never copied from a client request to a backend request: hop-by-hop headers, headers the HTTP client writes, the
    /// forwarding headers the gateway sets itself, and Accept-Encoding (the gateway must read backend bodies as they
    /// are, so it never asks for compression on the client's behalf).
    /// </summary>
    public static readonly string[] NeverForwarded = Concat(
        HopByHop,
        WrittenByTheClient,
        new[] { "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Via", "Forwarded", "Accept-Encoding" });

    /// <summary>
    /// Headers the gateway sets itself for an answer it composes: those that describe the body it writes in the
    /// backends' place (its length and range, its coding: the gateway's compression, its type: the renderer's), and
    /// its own reports (KrakenD's completeness header, the failed steps). With the hop-by-hop ones, they are never
    /// relayed from a backend to the client (<c>gateway/response.headers</c>).
    /// </summary>
    public static readonly string[] SetByTheGateway =
    {
        "Content-Length", "Content-Encoding", "Content-Type", "Content-Range", "X-KrakenD-Completed", "X-Gateway-Failed-Steps",
    };

    /// <summary>Headers a template may not set (docs/configuration.md): hop-by-hop ones and those the HTTP client writes.</summary>
    public static readonly string[] NotSettable = Concat(HopByHop, WrittenByTheClient);

    /// <summary>Methods an endpoint may serve.</summary>
    public static readonly string[] EndpointMethods = { "GET", "POST", "PUT", "PATCH", "DELETE" };

    /// <summary>Methods a backend request may use.</summary>
    public static readonly string[] BackendMethods = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" };

    /// <summary>Methods RFC 9110 §9.2.2 defines as idempotent: sending one twice has the effect of sending it once.</summary>
    public static readonly string[] IdempotentMethods = { "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE" };

    /// <summary>A header name: one or more token characters (RFC 9110 §5.1, §5.6.2).</summary>
    public static bool IsHeaderName(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTokenChar(char c) =>
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".IndexOf(c) >= 0;

#if NET8_0_OR_GREATER
    private static readonly SearchValues<char> s_valueChars = SearchValues.Create(ValueCharacters());
    private static readonly SearchValues<byte> s_valueBytes = SearchValues.Create(System.Text.Encoding.ASCII.GetBytes(ValueCharacters()));

    /// <summary>HTAB, then every visible ASCII character and the space (0x20-0x7E).</summary>
    private static string ValueCharacters()
    {
        var chars = new char[1 + 0x7F - 0x20];
        chars[0] = '\t';
        for (int i = 1; i < chars.Length; i++)
        {
            chars[i] = (char)(0x20 + i - 1);
        }

        return new string(chars);
    }

    /// <summary>
    /// A header value the gateway can send (RFC 9110 §5.5): visible ASCII, spaces and tabs. Anything else (non-ASCII
    /// text, control characters, CR/LF) would be refused by the HTTP client or by Kestrel along with the whole message.
    /// </summary>
    public static bool IsHeaderValue(ReadOnlySpan<char> value) => value.IndexOfAnyExcept(s_valueChars) < 0;

    public static bool IsHeaderValue(ReadOnlySpan<byte> value) => value.IndexOfAnyExcept(s_valueBytes) < 0;

    // The ASCII bytes IsTokenChar accepts: the one rule, as a set for a vectorized search.
    private static readonly SearchValues<byte> s_tokenBytes = SearchValues.Create(TokenBytes());

    private static byte[] TokenBytes()
    {
        var bytes = new List<byte>();
        for (int b = 0; b < 0x80; b++)
        {
            if (IsTokenChar((char)b))
            {
                bytes.Add((byte)b);
            }
        }

        return bytes.ToArray();
    }

    /// <summary>A token of received bytes (a backend's header name): one or more token characters, one vectorized search.</summary>
    public static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && text.IndexOfAnyExcept(s_tokenBytes) < 0;

    /// <summary>A token (RFC 9110 §5.6.2): one or more token characters, as a header name or a content coding is.</summary>
    public static bool IsToken(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }
#else
    /// <summary>
    /// A header value the gateway can send (RFC 9110 §5.5): visible ASCII, spaces and tabs. Anything else (non-ASCII
    /// text, control characters, CR/LF) would be refused by the HTTP client or by Kestrel along with the whole message.
    /// </summary>
    public static bool IsHeaderValue(string value)
    {
        foreach (char c in value)
        {
            if (c != '\t' && (c < ' ' || c >= (char)0x7F))
            {
                return false;
            }
        }

        return true;
    }
#endif

    public static bool Contains(string[] names, string name)
    {
        foreach (string candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string[] Concat(params string[][] lists)
    {
        var all = new List<string>();
        foreach (string[] list in lists)
        {
            all.AddRange(list);
        }

        return all.ToArray();
    }
}

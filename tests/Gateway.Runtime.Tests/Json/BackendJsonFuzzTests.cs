using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Components.RequestTemplates;
using Gateway.Components.Shaping;
using Gateway.Runtime.Http;
using Gateway.Runtime.Json;
using Gateway.Runtime.Shaping;
using Xunit.Abstractions;

namespace Gateway.Runtime.Tests.Json;

/// <summary>
/// Mutated backend bodies through every run-time step that reads one (docs/reliability.md, fuzzing): the decoder, the
/// field locator, the shaper (target, allow, deny, mapping, flatmap), the merger and the URL and JSON body templates.
/// A step may refuse a body (its documented <c>false</c>); it may not throw, and what it writes must be valid JSON (a
/// URL piece: only unreserved or percent-encoded bytes). Case <c>n</c> is generated from the seed and <c>n</c> alone,
/// so a failure names the case that reproduces it. CI runs <see cref="CiCases"/>; <c>GATEWAY_FUZZ_CASES</c> sets the
/// count (the full run is 1,000,000).
/// </summary>
public class BackendJsonFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 16_04;
    private const int CiCases = 3_000;

    private static readonly string[] s_seeds =
    [
        """{"id": 25, "name": "Hotel \"Miramar\"", "tags": ["sea", "view", 3, true], "price": -129.50e+2, "ok": true, "none": null}""",
        """{"user": {"id": 7, "name": "Zoë", "roles": ["admin"]}, "items": [{"id": 1, "sku": "a/b"}, {"id": 2, "sku": "c?d"}], "next": "../x"}""",
        """{"nested": {"deep": [[[{"k": [0, -0, 0.5, 1E9, 2e-3]}]]]}, "empty": {}, "list": [], "a": {"b": {"c": "x&y=z#f"}}}""",
        """{"esc": "\\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 \u0000", "\u0069d": "escaped name", "id": "last wins"}""",
        """{"ключ": "значение", "é": "Sagrada Família 🏨", "items": [{"id": "\u002e\u002e"}, {"id": "%2e%2e"}], "id": 1.0}""",
    ];

    private static readonly ShapingPlan[] s_plans =
    [
        new(null, ["id", "user.name", "items", "a.b.c", "nested.deep"], null, null, null),
        new(null, null, ["id", "user.roles", "esc", "a.b"], null, null),
        new("user", ["id", "name"], null, [new("name", "nom"), new("id", "name")], null),
        new("a.b", null, null, null, null),
        new(null, null, null, [new("id", "é"), new("ключ", "key"), new("tags", "id")], null),
        new(null, null, null, null, [new(FlatmapKind.Move, ["items.*.id", "items.*.ref"]), new(FlatmapKind.Delete, ["tags.1", "user.roles"]), new(FlatmapKind.Append, ["tags", "list"])]),
        new("nested", null, null, null, [new(FlatmapKind.Move, ["deep.0.0", "flat"]), new(FlatmapKind.Delete, ["deep"])]),
    ];

    private static readonly JsonPath[] s_paths = Array.ConvertAll(
        ["id", "name", "tags", "user.name", "items.1.sku", "items.*.id", "nested.deep.0.0.0.k.3", "a.b.c", "é", "esc"],
        JsonPath.Parse);

    private static readonly byte[] s_interesting = "{}[]\":,\\/-+.eE0123456789tfnulrsu \t\r\n#?&%\u0000\u001f\u007f"u8.ToArray();

    private static readonly byte[][] s_invalidUtf8 =
    [
        [0x80], [0xBF], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF], [0xE2, 0x82], [0xC3],
    ];

    private static readonly string[] s_escapes = ["\\uD800", "\\uDC00", "\\uD800\\u0041", "\\u0000", "\\u002e", "\\\"", "\\\\", "\\u", "\\x", "\\u12G4", "\\"];

    [Fact]
    public void MutatedBackendBodies_NoStepThrowsAndEveryOutputIsValid()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : CiCases;
        var failures = new List<string>();
        int decoded = 0;
        var clock = Stopwatch.StartNew();
        int run = 0;
        for (int i = 0; i < cases && failures.Count < 10; i++, run++)
        {
            byte[] body = Mutate(new Random(unchecked(Seed * 1_000_003 + i)));
            try
            {
                decoded += RunSteps(body, failures, i) ? 1 : 0;
            }
            catch (Exception e)
            {
                failures.Add($"case {i}: {e.GetType().Name} escaped: {e.Message} at {string.Join(" / ", (e.StackTrace ?? "").Split('\n').Take(6))} body {Preview(body)}");
            }
        }

        output.WriteLine($"{run} of {cases} cases in {clock.Elapsed.TotalSeconds:F1} s (a run stops at 10 failures); {decoded} bodies accepted by the decoder; {failures.Count} failures");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        // The mutations must leave enough bodies valid for the later steps to be exercised, and break enough of them.
        Assert.InRange(decoded, cases / 10, cases - (cases / 10));
    }

    [Theory]
    [InlineData(63, true)]
    [InlineData(64, false)]
    [InlineData(100_000, false)]
    public void DeepNesting_DecoderAcceptsUpToTheLimitAndEveryStepCopes(int extraLevels, bool accepted)
    {
        byte[] body = Encoding.UTF8.GetBytes("{\"id\":" + new string('[', extraLevels) + new string(']', extraLevels) + "}");
        var failures = new List<string>();
        Assert.Equal(accepted, RunSteps(body, failures, -1));
        Assert.Empty(failures);
    }

    [Fact]
    public void HugeString_EveryStepCopesAndTheStringIsKeptWhole()
    {
        string huge = string.Concat(Enumerable.Repeat("é\\n\\u00e9x&?#/", 200_000));
        byte[] body = Encoding.UTF8.GetBytes("{\"id\":\"" + huge + "\",\"name\":1}");
        var failures = new List<string>();
        Assert.True(RunSteps(body, failures, -1));
        Assert.Empty(failures);
    }

    /// <summary>Runs one body through every step, adding what went wrong to <paramref name="failures"/>. True when the decoder accepted it.</summary>
    private static bool RunSteps(byte[] body, List<string> failures, int caseNumber)
    {
        void Fail(string step, string what) => failures.Add($"case {caseNumber}, {step}: {what}; body {Preview(body)}");

        // The locator and the templates are given any bytes here, although the pipeline gives them decoded bodies only.
        foreach (JsonPath path in s_paths)
        {
            if (JsonValueLocator.TryLocate(body, path, out JsonValueRange range) && (range.Start < 0 || range.Length <= 0 || range.Start + range.Length > body.Length))
            {
                Fail("locator", $"range {range.Start}+{range.Length} outside the body for {path}");
            }
        }

        RenderTemplates(body, decodedBody: false, Fail);

        using var decodedOutput = new PooledBuffer(256);
        if (!ResponseDecoder.TryDecode(BackendEncoding.Json, isCollection: false, body, decodedOutput))
        {
            using var other = new PooledBuffer(256);
            foreach (bool collection in (ReadOnlySpan<bool>)[true, false])
            {
                other.Clear();
                if (ResponseDecoder.TryDecode(collection ? BackendEncoding.Json : BackendEncoding.SafeJson, collection, body, other) && !IsValidJson(other.WrittenSpan, objectOnly: true))
                {
                    Fail(collection ? "decoder (collection)" : "decoder (safejson)", "accepted, wrote invalid JSON " + Preview(other.WrittenSpan));
                }
            }

            return false;
        }

        ReadOnlySpan<byte> decoded = decodedOutput.WrittenSpan;
        if (!IsValidJson(decoded, objectOnly: true))
        {
            Fail("decoder", "accepted, wrote invalid JSON");
            return true;
        }

        RenderTemplates(decoded.ToArray(), decodedBody: true, Fail);

        var shaped = new ArrayBufferWriter<byte>[s_plans.Length];
        for (int p = 0; p < s_plans.Length; p++)
        {
            shaped[p] = new ArrayBufferWriter<byte>();
            s_plans[p].Apply(decoded, shaped[p]);
            if (!IsValidJson(shaped[p].WrittenSpan, objectOnly: true))
            {
                Fail($"shaping plan {p}", "wrote invalid JSON " + Preview(shaped[p].WrittenSpan));
                return true;
            }
        }

        MergeSource[] sources =
        [
            new(decoded.ToArray(), null),
            new(shaped[0].WrittenMemory, null),
            new(shaped[2].WrittenMemory, "user"u8.ToArray()),
            new(shaped[4].WrittenMemory, null),
            new(shaped[5].WrittenMemory, "flat"u8.ToArray()),
        ];
        var merged = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(merged))
        {
            JsonMerger.WriteMerged(writer, sources);
        }

        if (!IsValidJson(merged.WrittenSpan, objectOnly: true))
        {
            Fail("merger", "wrote invalid JSON " + Preview(merged.WrittenSpan));
        }

        return true;
    }

    /// <summary>
    /// Every path into a URL path segment, a query value and a JSON body, as a value and inside a string. A URL piece
    /// must be percent-encoded ASCII that cannot end its component; a body must be valid JSON once its template closes.
    /// </summary>
    private static void RenderTemplates(byte[] body, bool decodedBody, Action<string, string> fail)
    {
        string where = decodedBody ? "decoded body" : "raw body";
        Span<byte> urlBuffer = stackalloc byte[64];
        foreach (JsonPath path in s_paths)
        {
            foreach (UrlComponent component in (ReadOnlySpan<UrlComponent>)[UrlComponent.PathSegment, UrlComponent.QueryValue])
            {
                const string Prefix = "http://127.0.0.1:1/a/";
                var url = new UrlBuilder(urlBuffer);
                try
                {
                    url.AppendLiteral(Prefix);
                    // As the generated builders do: the value, then the finished URL, which is refused (null) when its
                    // path holds a dot-segment, however the value spelled the dots (".", "\u002e", "%2e").
                    bool appended = url.TryAppendJsonValue(body, path, component);
                    if (appended && url.ToUrl() is not null)
                    {
                        ReadOnlySpan<byte> piece = url.WrittenSpan[Prefix.Length..];
                        if (InjectedByte(piece, component) is int bad && bad >= 0)
                        {
                            fail($"url {component} ({where})", $"{path} wrote 0x{piece[bad]:X2} at {bad} unencoded: {Encoding.ASCII.GetString(piece)}");
                        }
                    }
                    else if (!appended && url.Length != Prefix.Length)
                    {
                        fail($"url {component} ({where})", $"{path} failed but left {url.Length - Prefix.Length} bytes behind");
                    }
                }
                finally
                {
                    url.Dispose();
                }
            }

            using var builder = new JsonBodyBuilder();
            builder.AppendLiteral("{\"v\":"u8);
            if (!builder.TryAppendValue(body, path))
            {
                builder.AppendLiteral("null"u8);
            }

            builder.AppendLiteral(",\"t\":\"x"u8);
            builder.TryAppendText(body, path);
            builder.AppendLiteral("\"}"u8);
            using PooledBuffer rendered = builder.Detach();
            if (decodedBody && !IsValidJson(rendered.WrittenSpan, objectOnly: true))
            {
                fail($"json body ({where})", $"{path} rendered invalid JSON {Preview(rendered.WrittenSpan)}");
            }
        }
    }

    // What a path segment may hold (RFC 3986 §3.3: unreserved, sub-delimiters, ':' and '@') and what a query value
    // may hold without ending itself or starting another parameter (§3.4, less '&', '=', '+', ';', '#'); '%' must
    // start an escape. Anything else in a rendered piece is an injection.
    private static readonly SearchValues<byte> s_segment = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+,=&:@%"u8);
    private static readonly SearchValues<byte> s_queryValue = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*,:@/?%"u8);

    /// <summary>The index of the first byte that could change the URL's structure, or -1.</summary>
    private static int InjectedByte(ReadOnlySpan<byte> piece, UrlComponent component)
    {
        int bad = piece.IndexOfAnyExcept(component == UrlComponent.PathSegment ? s_segment : s_queryValue);
        if (bad >= 0)
        {
            return bad;
        }

        for (int i = piece.IndexOf((byte)'%'); i >= 0; i = piece[(i + 1)..].IndexOf((byte)'%') is int next and >= 0 ? i + 1 + next : -1)
        {
            if (i + 2 >= piece.Length || !char.IsAsciiHexDigit((char)piece[i + 1]) || !char.IsAsciiHexDigit((char)piece[i + 2]))
            {
                return i;
            }
        }

        // A whole segment of "." or ".." (or their escapes, which servers decode) would move up the path.
        string decoded = Uri.UnescapeDataString(Encoding.ASCII.GetString(piece));
        return component == UrlComponent.PathSegment && decoded is "." or ".." ? 0 : -1;
    }

    /// <summary>One JSON text, UTF-8, nothing after it (an object when asked). Deeper than the gateway's limit is allowed: a group adds a level.</summary>
    private static bool IsValidJson(ReadOnlySpan<byte> json, bool objectOnly)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 1024 });
            if (!reader.Read() || (objectOnly && reader.TokenType != JsonTokenType.StartObject))
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A seed document with one to three mutations, each chosen from the kinds the issue lists.</summary>
    private static byte[] Mutate(Random random)
    {
        var doc = new List<byte>(Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]));
        int mutations = 1 + random.Next(3);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(10))
            {
                case 0: // bit flips
                    for (int f = 1 + random.Next(3); f > 0 && doc.Count > 0; f--)
                    {
                        doc[random.Next(doc.Count)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1: // truncation
                    {
                        int cut = random.Next(doc.Count + 1);
                        doc.RemoveRange(cut, doc.Count - cut);
                        break;
                    }

                case 2: // inserted bytes
                    for (int b = 1 + random.Next(4); b > 0; b--)
                    {
                        doc.Insert(random.Next(doc.Count + 1), s_interesting[random.Next(s_interesting.Length)]);
                    }

                    break;
                case 3: // a copied range, often a member: duplicate keys and values in odd places
                    {
                        int start = random.Next(doc.Count + 1);
                        int length = random.Next(Math.Min(40, doc.Count - start) + 1);
                        doc.InsertRange(random.Next(doc.Count + 1), doc.GetRange(start, length));
                        break;
                    }

                case 4: // a duplicate key, well-formed, at the top level
                    doc.InsertRange(Math.Min(1, doc.Count), Encoding.UTF8.GetBytes(random.Next(3) switch
                    {
                        0 => "\"id\": \"dup\",",
                        1 => "\"items\": [{\"id\": 9}],\"user\": 0,",
                        _ => "\"\\u0069d\": [1, 2],",
                    }));
                    break;
                case 5: // deep nesting, near the limit or far past it
                    {
                        int levels = random.Next(10) == 0 ? random.Next(64, 20_000) : random.Next(55, 70);
                        bool objects = random.Next(2) == 0;
                        string open = objects ? "{\"id\":" : "[";
                        string close = objects ? "}" : "]";
                        var nested = new StringBuilder().Insert(0, open, levels).Append('1');
                        for (int l = 0; l < levels; l++)
                        {
                            nested.Append(close);
                        }

                        // A member of its own at the top level, named like a path the steps read.
                        doc.InsertRange(Math.Min(1, doc.Count), Encoding.UTF8.GetBytes("\"id\": " + nested + ","));
                        break;
                    }

                case 6: // a huge string member
                    {
                        int length = random.Next(50) == 0 ? random.Next(100_000, 1_000_000) : random.Next(100, 5_000);
                        var text = new StringBuilder("\"name\": \"");
                        while (text.Length < length)
                        {
                            text.Append(random.Next(4) switch { 0 => "é", 1 => "\\u00e9", 2 => "🏨", _ => "abc/?#&" });
                        }

                        doc.InsertRange(Math.Min(1, doc.Count), Encoding.UTF8.GetBytes(text.Append("\",").ToString()));
                        break;
                    }

                case 7: // invalid UTF-8 (overlong forms, surrogates, stray continuation bytes), usually inside a string
                    doc.InsertRange(NearQuote(doc, random), s_invalidUtf8[random.Next(s_invalidUtf8.Length)]);
                    break;
                case 8: // an escape, valid or not, inside a string
                    doc.InsertRange(NearQuote(doc, random), Encoding.ASCII.GetBytes(s_escapes[random.Next(s_escapes.Length)]));
                    break;
                default: // a deleted range
                    {
                        int start = random.Next(doc.Count + 1);
                        doc.RemoveRange(start, random.Next(Math.Min(8, doc.Count - start) + 1));
                        break;
                    }
            }
        }

        return doc.ToArray();
    }

    /// <summary>Just after a random quote (inside a string or a name), or anywhere when there is none.</summary>
    private static int NearQuote(List<byte> doc, Random random)
    {
        int from = random.Next(doc.Count + 1);
        int quote = doc.IndexOf((byte)'"', from);
        return quote < 0 ? from : quote + 1;
    }

    private static string Preview(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 300 ? Convert.ToHexString(bytes) : $"{Convert.ToHexString(bytes[..300])}… ({bytes.Length} bytes)";
}

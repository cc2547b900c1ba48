using System.Text;
using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Tests.Json;

/// <summary>
/// The hand-written scanner in <see cref="JsonObjectBody"/> must accept exactly what <see cref="Utf8JsonReader"/>
/// accepts. The reference below is the reader-based check it replaced; both run on generated and mutated documents.
/// </summary>
public class JsonObjectBodyDifferentialTests
{
    private static readonly string[] s_seeds =
    [
        """{"a": 1}""",
        """{"id": 25, "name": "Hotel \"Miramar\"", "tags": ["sea", "view"], "price": -129.50e+2, "ok": true, "no": false, "x": null}""",
        """{"nested": {"deep": [[[{"k": [0, -0, 0.5, 1E9, 2e-3]}]]]}, "empty": {}, "none": []}""",
        """{"esc": "\\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00", "\u0041\uD83D\uDE00": 1}""",
        """{"unicode": "Sagrada Família 🏨", "ключ": "значение"}""",
        " \r\n\t{ \"spaced\" : [ 1 , 2 ] , \"s\" : \"v\" } trailing",
        "{\"long\": \"" + new string('x', 300) + "\", \"" + new string('n', 300) + "\\u00e9\": 1}",
    ];

    private static readonly byte[] s_interesting = "{}[]\":,\\-+.eE0123456789tfnulrsabu \t\r\n\u0000\u001f"u8.ToArray().Concat(new byte[] { 0x80, 0xC3, 0xA9, 0xFF, 0xED, 0xA0 }).ToArray();

    [Fact]
    public void Seeds_AreAcceptedByBoth()
    {
        foreach (string seed in s_seeds)
        {
            AssertSame(Encoding.UTF8.GetBytes(seed));
            Assert.True(JsonObjectBody.TryGetObject(Encoding.UTF8.GetBytes(seed), out _, out _), seed);
        }
    }

    [Fact]
    public void MutatedDocuments_SameVerdictAndRangeAsUtf8JsonReader()
    {
        var random = new Random(20261123);
        for (int n = 0; n < 60_000; n++)
        {
            byte[] doc = Encoding.UTF8.GetBytes(s_seeds[random.Next(s_seeds.Length)]).ToArray();
            int edits = 1 + random.Next(3);
            var list = new List<byte>(doc);
            for (int e = 0; e < edits && list.Count > 0; e++)
            {
                int at = random.Next(list.Count);
                byte b = s_interesting[random.Next(s_interesting.Length)];
                switch (random.Next(3))
                {
                    case 0: list[at] = b; break;
                    case 1: list.Insert(at, b); break;
                    default: list.RemoveAt(at); break;
                }
            }

            AssertSame(list.ToArray());
        }
    }

    [Fact]
    public void GeneratedDocuments_SameVerdictAsUtf8JsonReader()
    {
        var random = new Random(7);
        for (int n = 0; n < 20_000; n++)
        {
            var text = new StringBuilder();
            WriteValue(text, random, 0, forceObject: true);
            AssertSame(Encoding.UTF8.GetBytes(text.ToString()));
        }
    }

    [Fact]
    public void StringStops_AtEveryOffsetOfTheFirstBlocks_SameVerdictAndRange()
    {
        // The string scan looks up stops in 64-byte blocks aligned on the body's start, and reads the last, partial block
        // through a padded copy: every kind of stop (closing quote, escape, control character, a byte >= 0x80 that must
        // not stop it) at every offset of the first three blocks, behind leading whitespace that moves the blocks, and
        // bodies cut at every byte near the block edges and the stop.
        string[] stops = ["\"", "\\n\"", "\\u00e9\"", "\u0001\"", "\u001f\"", "\t\"", "é\"", "🏨\"", "\\\"", "\\q\""];
        foreach (int lead in new[] { 0, 1, 7, 63 })
        {
            for (int before = 0; before <= 200; before++)
            {
                foreach (string stop in stops)
                {
                    foreach (bool asName in new[] { false, true })
                    {
                        string text = new string('a', before) + stop;
                        byte[] doc = Encoding.UTF8.GetBytes(new string(' ', lead) + (asName ? "{\"" + text + ": 1}" : "{\"k\":\"" + text + "}"));
                        AssertSame(doc);
                        for (int cut = 1; cut < doc.Length; cut++)
                        {
                            int edge = cut % 64;
                            if (before <= 25 || edge <= 1 || edge >= 63 || cut >= doc.Length - 8)
                            {
                                AssertSame(doc[..cut]);
                            }
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void LongDocuments_EveryStringAcrossBlockEdges_SameVerdictAndRange()
    {
        // A document of many members of every kind, moved one byte at a time through a whole block, so that each string,
        // escape and number meets a block edge at each of its offsets; mutated copies of each position too.
        var text = new StringBuilder("{");
        for (int n = 0; n < 12; n++)
        {
            text.Append($"\"k{n}\": \"{new string('v', n * 5)}\\n\\u00e9é\", \"n{n}\": {n * 37}.5e-{n}, \"a{n}\": [true, null, \"{new string('x', n)}\"], ");
        }

        text.Append("\"end\": {}}");
        byte[] body = Encoding.UTF8.GetBytes(text.ToString());
        var random = new Random(64);
        for (int lead = 0; lead < 64; lead++)
        {
            byte[] doc = [.. Enumerable.Repeat((byte)' ', lead), .. body];
            AssertSame(doc);
            Assert.True(JsonObjectBody.TryGetObject(doc, out _, out _));
            for (int m = 0; m < 200; m++)
            {
                byte[] copy = (byte[])doc.Clone();
                copy[lead + random.Next(body.Length)] = s_interesting[random.Next(s_interesting.Length)];
                AssertSame(copy);
            }
        }
    }

    [Theory]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    public void Nesting_LimitMatches(int levels)
    {
        AssertSame(Encoding.UTF8.GetBytes(new string('[', 0) + "{" + string.Concat(Enumerable.Repeat("\"a\":[", levels - 1)) + new string(']', levels - 1) + "}"));
        AssertSame(Encoding.UTF8.GetBytes("{" + string.Concat(Enumerable.Repeat("\"a\":{", levels - 1)) + new string('}', levels)));
    }

    [Theory]
    [InlineData("""{"\uD800": 1}""")]
    [InlineData("""{"\uDC00": 1}""")]
    [InlineData("""{"\uD800\u0041": 1}""")]
    [InlineData("""{"\uD800x": 1}""")]
    [InlineData("""{"\uD800\n": 1}""")]
    [InlineData("""{"a": "\uD800"}""")]
    [InlineData("""{"a": "\u12G4"}""")]
    [InlineData("""{"a": "\x"}""")]
    [InlineData("""{"a": 01}""")]
    [InlineData("""{"a": 1.}""")]
    [InlineData("""{"a": .5}""")]
    [InlineData("""{"a": 1e}""")]
    [InlineData("""{"a": -}""")]
    [InlineData("""{"a": +1}""")]
    [InlineData("""{"a": -01}""")]
    [InlineData("""{"a": -0.0E-0}""")]
    [InlineData("""{"a": 0e5}""")]
    [InlineData("""{"a": 1.e5}""")]
    [InlineData("""{"a": 1e+}""")]
    [InlineData("""{"a": 1E-x}""")]
    [InlineData("""{"a": -x}""")]
    [InlineData("""{"a": [-]}""")]
    [InlineData("""{"a": 2.5e+1.}""")]
    [InlineData("""{"a": 00}""")]
    [InlineData("""{"a": truex}""")]
    [InlineData("""{"a": nul}""")]
    [InlineData("""{"a": [1,]}""")]
    [InlineData("""{"a" 1}""")]
    [InlineData("""{"a": 1 "b": 2}""")]
    [InlineData("""{"a": /* c */ 1}""")]
    public void EdgeCases_SameVerdict(string body) => AssertSame(Encoding.UTF8.GetBytes(body));

    private static void AssertSame(byte[] body)
    {
        bool expected = Reference(body, out int expectedStart, out int expectedLength);
        bool actual = JsonObjectBody.TryGetObject(body, out int start, out int length);
        Assert.True(expected == actual, $"reader {expected}, scanner {actual}: {Convert.ToHexString(body)} ({Encoding.UTF8.GetString(body)})");
        Assert.Equal((expectedStart, expectedLength), (start, length));
    }

    private static void WriteValue(StringBuilder text, Random random, int depth, bool forceObject = false)
    {
        int kind = forceObject ? 0 : random.Next(depth > 5 ? 2 : 0, 8);
        switch (kind)
        {
            case 0:
            case 1 when depth > 5:
                text.Append('{');
                int members = random.Next(4);
                for (int m = 0; m < members; m++)
                {
                    text.Append(m > 0 ? ", " : string.Empty);
                    WriteString(text, random);
                    text.Append(':');
                    WriteValue(text, random, depth + 1);
                }

                text.Append('}');
                break;
            case 1:
                text.Append('[');
                int items = random.Next(4);
                for (int m = 0; m < items; m++)
                {
                    text.Append(m > 0 ? "," : string.Empty);
                    WriteValue(text, random, depth + 1);
                }

                text.Append(']');
                break;
            case 2:
            case 3:
                WriteString(text, random);
                break;
            case 4:
                string[] numbers = ["0", "-0", "12", "-3.25", "1e5", "2E-7", "6.02e+23", "01", "1.", "-", "1e+", "0x10", "Infinity", "NaN"];
                text.Append(numbers[random.Next(numbers.Length)]);
                break;
            default:
                string[] literals = ["true", "false", "null", "True", "nul", "falsey"];
                text.Append(literals[random.Next(literals.Length)]);
                break;
        }
    }

    private static void WriteString(StringBuilder text, Random random)
    {
        string[] parts = ["a", "é", "🏨", "\\n", "\\\"", "\\u0041", "\\uD83D\\uDE00", "\\uD800", "\\uDC00", "\\q", "\t", " ", "\\u00"];
        text.Append('"');
        int count = random.Next(5);
        for (int p = 0; p < count; p++)
        {
            text.Append(parts[random.Next(parts.Length)]);
        }

        text.Append('"');
    }

    /// <summary>The previous, reader-based implementation, with the UTF-8 check added since.</summary>
    private static bool Reference(ReadOnlySpan<byte> body, out int start, out int length)
    {
        start = 0;
        length = 0;
        int first = body.IndexOfAnyExcept(" \t\r\n"u8);
        if (first < 0 || body[first] != (byte)'{')
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(body[first..]);
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }

                if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.EndObject)
                {
                    // The reader does not check string contents for UTF-8; the scanner does (RFC 8259 §8.1).
                    if (!System.Text.Unicode.Utf8.IsValid(body.Slice(first, (int)reader.BytesConsumed)))
                    {
                        return false;
                    }

                    start = first;
                    length = (int)reader.BytesConsumed;
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}

using System.Buffers;
using System.Text;
using Gateway.Components.Shaping;
using Gateway.Runtime.Shaping;

namespace Gateway.Runtime.Tests.Shaping;

public class ShapingPlanTests
{
    private const string Document = """{"a": 1.50, "b": {"c": 2, "d": {"e": 3, "f": 4}}, "e": [{"f": 1}], "s": "text", "big": 12345678901234567890}""";

    private static string Apply(ShapingPlan plan, string json = Document)
    {
        var output = new ArrayBufferWriter<byte>();
        plan.Apply(Encoding.UTF8.GetBytes(json), output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData(new[] { "b.c", "e.f" }, """{"b":{"c":2}}""")]
    [InlineData(new[] { "a", "big" }, """{"a":1.50,"big":12345678901234567890}""")]
    [InlineData(new[] { "b" }, """{"b":{"c": 2, "d": {"e": 3, "f": 4}}}""")]
    [InlineData(new[] { "b.d.f", "s" }, """{"b":{"d":{"f":4}},"s":"text"}""")]
    [InlineData(new[] { "b.x", "s.x", "e.0" }, "{}")]
    [InlineData(new[] { "missing" }, "{}")]
    public void Apply_Allow_KeepsListedLeavesAndPrunedObjects(string[] allow, string expected) =>
        Assert.Equal(expected, Apply(new ShapingPlan(null, allow, null, null, null)));

    [Theory]
    [InlineData(new[] { "b.d.e", "s" }, """{"a":1.50,"b":{"c":2,"d":{"f":4}},"e":[{"f": 1}],"big":12345678901234567890}""")]
    [InlineData(new[] { "e.f", "missing.x" }, """{"a":1.50,"b":{"c": 2, "d": {"e": 3, "f": 4}},"e":[{"f": 1}],"s":"text","big":12345678901234567890}""")]
    public void Apply_Deny_RemovesPathsThroughObjectsOnly(string[] deny, string expected) =>
        Assert.Equal(expected, Apply(new ShapingPlan(null, null, deny, null, null)));

    [Fact]
    public void Apply_AllowAndDeny_DenyIsIgnored() =>
        Assert.Equal("""{"a":1.50}""", Apply(new ShapingPlan(null, ["a"], ["a"], null, null)));

    [Theory]
    [InlineData("b.d", """{"e": 3, "f": 4}""")]
    [InlineData("b.c", "{}")]
    [InlineData("e", "{}")]
    [InlineData("nope.x", "{}")]
    public void Apply_Target_ReplacesTheDataOrLeavesAnEmptyObject(string target, string expected) =>
        Assert.Equal(expected, Apply(new ShapingPlan(target, null, null, null, null)));

    [Fact]
    public void Apply_TargetThenAllowThenMapping_InThatOrder() =>
        Assert.Equal("""{"eff":4}""", Apply(new ShapingPlan("b.d", ["f"], null, [new("f", "eff"), new("e", "never")], null)));

    [Fact]
    public void Apply_Mapping_RenamedKeyKeepsItsPlaceAndReplacesAnExistingKey() =>
        Assert.Equal("""{"b":1,"c":3}""", Apply(new ShapingPlan(null, null, null, [new("a", "b")], null), """{"a": 1, "b": 2, "c": 3}"""));

    [Fact]
    public void Apply_Mapping_RenamesApplyInConfigurationOrder() =>
        Assert.Equal("""{"c":1}""", Apply(new ShapingPlan(null, null, null, [new("a", "b"), new("b", "c")], null), """{"a": 1, "b": 2}"""));

    [Fact]
    public void Apply_Mapping_NonAsciiAndEscapedNames() =>
        Assert.Equal("""{"ville":"Zürich","x":1}""", Apply(new ShapingPlan(null, null, null, [new("stadt", "ville")], null), """{"st\u0061dt": "Zürich", "x": 1}"""));

    [Fact]
    public void IsIdentity_NothingConfigured_True()
    {
        Assert.True(new ShapingPlan(null, [], [], [], []).IsIdentity);
        Assert.False(new ShapingPlan(null, null, null, [new("a", "b")], null).IsIdentity);
    }

    [Fact]
    public void Apply_TargetAllowMapping_WarmCallAllocatesNothing()
    {
        var plan = new ShapingPlan("b", ["c", "d.e"], null, [new("c", "see")], null);
        byte[] document = Encoding.UTF8.GetBytes(Document);
        var output = new ArrayBufferWriter<byte>(1024);
        plan.Apply(document, output);

        output.ResetWrittenCount();
        long before = GC.GetAllocatedBytesForCurrentThread();
        plan.Apply(document, output);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("""{"see":2,"d":{"e":3}}""", Encoding.UTF8.GetString(output.WrittenSpan));
        // Per-thread scratch buffers and writer: nothing is allocated per response.
        Assert.Equal(0, allocated);
    }
}

public class ResponseDecoderTests
{
    private static string? Decode(BackendEncoding encoding, bool isCollection, string body)
    {
        var output = new ArrayBufferWriter<byte>();
        return ResponseDecoder.TryDecode(encoding, isCollection, Encoding.UTF8.GetBytes(body), output) ? Encoding.UTF8.GetString(output.WrittenSpan) : null;
    }

    [Theory]
    [InlineData(BackendEncoding.Json, false, """ {"a": 1.50} tail""", """{"a": 1.50}""")]
    [InlineData(BackendEncoding.Json, false, "[1]", null)]
    [InlineData(BackendEncoding.Json, false, "null", null)]
    [InlineData(BackendEncoding.Json, true, "[1, 2.50]", """{"collection":[1, 2.50]}""")]
    [InlineData(BackendEncoding.Json, true, "null", """{"collection":null}""")]
    [InlineData(BackendEncoding.Json, true, """{"a": 1}""", null)]
    [InlineData(BackendEncoding.SafeJson, false, """{"a": 1}""", """{"a": 1}""")]
    [InlineData(BackendEncoding.SafeJson, false, "[1]", """{"collection":[1]}""")]
    [InlineData(BackendEncoding.SafeJson, false, "1e3", """{"content":1e3}""")]
    [InlineData(BackendEncoding.SafeJson, false, "\"x\"", """{"content":"x"}""")]
    [InlineData(BackendEncoding.SafeJson, false, "{broken", null)]
    [InlineData(BackendEncoding.String, false, "line \"one\"\nzwei é", """{"content":"line \"one\"\nzwei é"}""")]
    [InlineData(BackendEncoding.String, false, "", """{"content":""}""")]
    [InlineData(BackendEncoding.NoOp, false, "{}", null)]
    public void TryDecode_Body_BecomesTheKrakenDShape(BackendEncoding encoding, bool isCollection, string body, string? expected) =>
        Assert.Equal(expected, Decode(encoding, isCollection, body));

    [Theory]
    [InlineData(BackendEncoding.Json, true)]
    [InlineData(BackendEncoding.SafeJson, false)]
    public void TryDecode_ArrayOrStringWithInvalidUtf8_Fails(BackendEncoding encoding, bool isCollection)
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.False(ResponseDecoder.TryDecode(encoding, isCollection, [(byte)'[', (byte)'"', 0xC0, 0xAE, (byte)'"', (byte)']'], output));
        Assert.False(ResponseDecoder.TryDecode(encoding, isCollection, [(byte)'"', 0x90, 0xBA, (byte)'"'], output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void TryDecode_StringWithInvalidUtf8_ReplacesInsteadOfFailing()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.True(ResponseDecoder.TryDecode(BackendEncoding.String, false, [0x61, 0xFF, 0x62], output));
        Assert.Equal("{\"content\":\"a\uFFFDb\"}", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}

public class FlatmapTests
{
    private static string Apply(string json, params FlatmapOperation[] operations)
    {
        var output = new ArrayBufferWriter<byte>();
        Flatmap.Apply(Encoding.UTF8.GetBytes(json), operations, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void Move_SameDepthUnderWildcard_RenamesEveryElementsField() =>
        Assert.Equal("""{"collection":[{"id":1,"created_at":"d1"},{"id":2,"created_at":"d2"}]}""", Apply("""{"collection": [{"id": 1, "date": "d1"}, {"id": 2, "date": "d2"}]}""", new FlatmapOperation(FlatmapKind.Move, ["collection.*.date", "collection.*.created_at"])));

    [Fact]
    public void Move_ShorterDestination_Promotes() =>
        Assert.Equal("""{"a":{"b":{}},"c":1.50}""", Apply("""{"a": {"b": {"c": 1.50}}}""", new FlatmapOperation(FlatmapKind.Move, ["a.b.c", "c"])));

    [Fact]
    public void Move_LongerDestination_EmbedsAndCreatesObjects() =>
        Assert.Equal("""{"x":{"y":{"z":1e3}}}""", Apply("""{"n": 1e3}""", new FlatmapOperation(FlatmapKind.Move, ["n", "x.y.z"])));

    [Fact]
    public void Delete_WildcardsAndIndexes_RemoveEveryMatch() =>
        Assert.Equal("""{"list":[{"id":1},{"id":3}]}""", Apply("""{"list": [{"id": 1, "secret": "a"}, {"id": 2}, {"id": 3, "secret": "c"}], "meta": 1}""", new FlatmapOperation(FlatmapKind.Delete, ["list.*.secret", "list.1", "meta"])));

    [Fact]
    public void Append_TwoArrays_SourceJoinsTheTargetAndDisappears() =>
        Assert.Equal("""{"b":[1,2,3]}""", Apply("""{"a": [3], "b": [1, 2]}""", new FlatmapOperation(FlatmapKind.Append, ["a", "b"])));

    [Fact]
    public void Append_NotArrays_NothingHappens() =>
        Assert.Equal("""{"a":3,"b":[1]}""", Apply("""{"a": 3, "b": [1]}""", new FlatmapOperation(FlatmapKind.Append, ["a", "b"])));

    [Fact]
    public void Apply_RepeatedNames_LastValueWinsInTheFirstPlace() =>
        Assert.Equal(
            """{"id":2,"list":[{"secret":"b","ok":1}],"n":1.50}""",
            Apply("""{"id": 1, "list": [{"secret": "a", "ok": 1, "secret": "b"}], "id": 2, "n": 1.50}""", new FlatmapOperation(FlatmapKind.Move, ["list.*.ok", "list.*.ok"])));

    [Fact]
    public void Apply_RepeatedNameOfADeletedField_EveryCopyIsDeleted() =>
        Assert.Equal("""{"list":[{"ok":1}]}""", Apply("""{"list": [{"secret": "a", "ok": 1, "s\u0065cret": "b"}]}""", new FlatmapOperation(FlatmapKind.Delete, ["list.*.secret"])));

    [Fact]
    public void Apply_LoneSurrogateEscapes_BecomeReplacementCharactersAndTheOperationsStillApply() =>
        Assert.Equal(
            "{\"a\":\"x\uFFFDy\\\\uD800\",\"\uFFFD\":1}",
            Apply("""{"a": "x\uD800y\\uD800", "\uDC00": 1, "secret": 2}""", new FlatmapOperation(FlatmapKind.Delete, ["secret"])));

    [Fact]
    public void Apply_InvalidInput_IsPassedThrough() =>
        Assert.Equal("{nope", Apply("{nope", new FlatmapOperation(FlatmapKind.Delete, ["a"])));
}

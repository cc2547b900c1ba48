using System.Text.Json.Nodes;
using Gateway.Components.Lua;
using Microsoft.AspNetCore.Http;

namespace Gateway.Runtime.Tests.Components;

/// <summary>The Lua engine on its own: the sandbox, the budgets, the errors, the luaTable/luaList helpers.</summary>
public sealed class LuaVmTests
{
    private static readonly LuaLimits Small = new(200_000, 4 * 1024 * 1024);

    /// <summary>A request whose response data is a JSON object the test holds.</summary>
    private sealed class DataCall : LuaCall
    {
        public DataCall(JsonObject data)
            : base(new DefaultHttpContext(), "/test") => Data = data;

        public JsonObject Data { get; }

        public List<string> Printed { get; } = new();

        public override bool HasResponse => true;

        public override int Response(LuaPrelude.Op op, LuaArgs args) =>
            op == LuaPrelude.Op.ResponseData ? args.Node(Data) : args.Fail("not in this test");
    }

    private static (LuaOutcome Outcome, JsonObject Data) Run(string pre, bool openLibs = false, string? data = null, LuaScriptSource[]? sources = null, LuaVm? vm = null)
    {
        var scripts = new LuaScriptSet(sources ?? [], pre, null, openLibs, false);
        LuaVm state = vm ?? LuaVm.Create(scripts, Small);
        try
        {
            var call = new DataCall((JsonObject)JsonNode.Parse(data ?? "{}")!);
            LuaOutcome outcome = state.Begin(call);
            if (outcome.Completed)
            {
                outcome = state.Run(state.PreChunk);
            }

            state.Finish();
            return (outcome, call.Data);
        }
        finally
        {
            if (vm is null)
            {
                state.Dispose();
            }
        }
    }

    [Fact]
    public void Run_DataHelpers_ReadAndChangeNestedObjectsAndLists()
    {
        (LuaOutcome outcome, JsonObject data) = Run(
            """
            local d = response.load():data()
            local col = d:get("collection")
            local paths = {}
            for i = 0, col:len() - 1 do paths[#paths + 1] = col:get(i):get("path") end
            d:set("paths", paths)
            d:set("total", col:len())
            d:set("user", luaTable.new())
            d:get("user"):set("name", "ana")
            d:set("nothing", luaNil.new())
            d:del("collection")
            local l = luaList.new(); l:set(0, "a"); l:set(2, "c"); d:set("list", l)
            d:set("keys", d:keys())
            d:set("has_user", d:keyExists("user"))
            """,
            openLibs: true,
            data: """{"collection":[{"path":"/a"},{"path":"/b"}],"keep":1.50}""");

        Assert.True(outcome.Completed, outcome.Message);
        Assert.Equal(
            """{"keep":1.50,"paths":["/a","/b"],"total":2,"user":{"name":"ana"},"nothing":null,"list":["a",null,"c"],"keys":["keep","list","nothing","paths","total","user"],"has_user":true}""",
            data.ToJsonString());
    }

    [Fact]
    public void Run_Globals_DoNotOutliveTheirRequest()
    {
        var scripts = new LuaScriptSet([new("counter.lua", "counter = (counter or 0) + 1")], "response.load():data():set('seen', counter)", null, false, false);
        using LuaVm vm = LuaVm.Create(scripts, Small);
        var call = new DataCall(new JsonObject());
        LuaOutcome begun = vm.Begin(call);
        LuaOutcome ran = vm.Run(vm.PreChunk);
        vm.Finish();
        var again = new DataCall(new JsonObject());
        vm.Begin(again);
        vm.Run(vm.PreChunk);
        vm.Finish();

        Assert.True(begun.Completed && ran.Completed, begun.Message + ran.Message);
        Assert.Equal("""{"seen":1}""", call.Data.ToJsonString());
        Assert.Equal("""{"seen":1}""", again.Data.ToJsonString());
    }

    [Theory]
    [InlineData("while true do end", false)]
    [InlineData("while true do pcall(function() while true do end end) end", true)]
    [InlineData("table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)", true)]
    [InlineData("local t = setmetatable({}, {__index = function() while true do end end}) for _ in ipairs(t) do end", true)]
    [InlineData("string.gsub('aaa', 'a', function() while true do end end)", true)]
    [InlineData("xpcall(function() while true do end end, function() while true do end end) while true do end", true)]
    [InlineData("coroutine.wrap(function() while true do end end)()", true)]
    public void Run_ALoopThatNeverEnds_StopsAtTheInstructionBudget(string script, bool openLibs)
    {
        var scripts = new LuaScriptSet([], script, null, openLibs, false);
        using LuaVm vm = LuaVm.Create(scripts, Small);

        (LuaOutcome first, _) = Run(string.Empty, vm: vm);
        (LuaOutcome second, _) = Run(string.Empty, vm: vm);
        LuaOutcome next = vm.Begin(new DataCall(new JsonObject()));
        vm.Finish();

        Assert.Equal(LuaOutcomeKind.InstructionBudget, first.Kind);
        Assert.Equal(LuaOutcomeKind.InstructionBudget, second.Kind); // the same budget again, not a state left stuck
        Assert.Equal(LuaOutcomeKind.Completed, next.Kind);
    }

    [Theory]
    [InlineData("local t = {} while true do t[#t + 1] = {} end")]
    [InlineData("local s = 'x' while true do s = s .. s end")]
    [InlineData("local t = {} while true do pcall(function() t[#t + 1] = string.rep('x', 100000) end) end")]
    public void Run_UnboundedAllocation_StopsAtTheMemoryCap(string script)
    {
        var scripts = new LuaScriptSet([], script, null, true, false);
        using LuaVm vm = LuaVm.Create(scripts, Small);
        var call = new DataCall(new JsonObject());
        vm.Begin(call);
        LuaOutcome outcome = vm.Run(vm.PreChunk);
        vm.Finish();
        vm.Collect();

        Assert.Contains(outcome.Kind, new[] { LuaOutcomeKind.MemoryBudget, LuaOutcomeKind.InstructionBudget });
        Assert.True(vm.MemoryInUse < Small.MemoryBytes, $"{vm.MemoryInUse} bytes still held");
    }

    [Fact]
    public void Run_CustomError_CarriesItsMessageStatusAndContentType()
    {
        (LuaOutcome withStatus, _) = Run("custom_error('I refuse to make any coffee', 418)");
        (LuaOutcome without, _) = Run("custom_error('Something weird happened')");
        (LuaOutcome typed, _) = Run("custom_error('{\"e\":1}', 422, 'application/json')");

        Assert.Equal(new LuaOutcome(LuaOutcomeKind.CustomError, "I refuse to make any coffee", 418, null), withStatus);
        Assert.Equal(new LuaOutcome(LuaOutcomeKind.CustomError, "Something weird happened", null, null), without);
        Assert.Equal(new LuaOutcome(LuaOutcomeKind.CustomError, "{\"e\":1}", 422, "application/json"), typed);
    }

    [Theory]
    [InlineData("print('x')", false, "attempt to call a nil value (global 'print')")]
    [InlineData("local x = nil; x.field = 1", false, "pre:1: attempt to index a nil value (local 'x')")]
    [InlineData("io.open('/etc/passwd')", true, "attempt to index a nil value (global 'io')")]
    [InlineData("os.execute('id')", true, "attempt to call a nil value (field 'execute')")]
    [InlineData("require('os')", true, "attempt to call a nil value (global 'require')")]
    [InlineData("string.upper = nil", true, "the standard library is read-only")]
    [InlineData("rawset(string, 'upper', nil)", true, "the standard library is read-only")]
    [InlineData("setmetatable({}, {__gc = function() end})", true, "finalizers (__gc) are not available")]
    [InlineData("load(string.dump(print))", true, "attempt to call a nil value (field 'dump')")]
    [InlineData("getmetatable('').__index.upper = nil", true, "attempt to index a boolean value")]
    public void Run_WhatTheSandboxRefuses_FailsWithLuasMessage(string script, bool openLibs, string expected)
    {
        (LuaOutcome outcome, _) = Run(script, openLibs);

        Assert.Equal(LuaOutcomeKind.Failed, outcome.Kind);
        Assert.Contains(expected, outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_OpenLibs_TheSafeStandardLibraryWorks()
    {
        (LuaOutcome outcome, JsonObject data) = Run(
            """
            local d = response.load():data()
            local words = {}
            for w in string.gmatch("b a c", "%a") do table.insert(words, w) end
            table.sort(words)
            d:set("words", table.concat(words, ","))
            d:set("upper", ("x"):upper())
            d:set("max", math.max(1, 5, 3))
            d:set("unpacked", select('#', unpack({1, 2, 3})))
            local ok, message = pcall(error, "caught")
            d:set("pcall", message)
            d:set("loaded", load("return 1 + 1")())
            d:set("time", type(os.time()))
            """,
            openLibs: true);

        Assert.True(outcome.Completed, outcome.Message);
        Assert.Equal("""{"words":"a,b,c","upper":"X","max":5,"unpacked":3,"pcall":"caught","loaded":2,"time":"number"}""", data.ToJsonString());
    }

    [Fact]
    public void Run_SourcesDefineFunctions_PreCallsThem()
    {
        (LuaOutcome outcome, JsonObject data) = Run(
            "tag(response.load():data())",
            sources: [new("tag.lua", "function tag(d)\n  d:set('tagged', true)\nend\n")]);

        Assert.Equal(LuaOutcomeKind.Completed, outcome.Kind);
        Assert.Equal("""{"tagged":true}""", data.ToJsonString());
    }

    [Fact]
    public void Create_AScriptLuaRefuses_IsAStartupErrorNamingIt()
    {
        var error = Assert.Throws<LuaStartupException>(() => LuaVm.Create(new LuaScriptSet([new("bad.lua", "function f(")], null, null, false, false), Small));

        Assert.Contains("bad.lua", error.Message, StringComparison.Ordinal);
    }
}

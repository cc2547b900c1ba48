using System.Globalization;
using Gateway.Components.Lua;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>
/// Lua at build time: the syntax checker (Lua 5.4's grammar and compile-time checks) and the located diagnostics of the
/// Lua namespaces and <c>sequential_propagated_params</c>.
/// </summary>
public class LuaConfigTests
{
    public static TheoryData<string> Valid => new()
    {
        "local req = request.load(); req:body(req:params(\"Resp0\"))",
        "local r = response.load()\nlocal d = r:data()\nfor i = 0, d:len() - 1 do print(i) end",
        "function post_proxy(resp)\n  local data = {}\n  local c = string.match(resp:data():get('m'), 'Successfully')\n  if not not c then data.x = 1 elseif c == nil then data.x = 2 else data.x = 3 end\nend",
        "local t = {1, 2, [3] = 'x', y = {z = ...}; 4}",
        "local s = [[long\nstring]] .. [==[with ]] inside]==] -- comment\n--[[ block\ncomment ]] return s",
        "local n = 0x1p4 + 3.14e-2 + .5 + 0xA.8 + 1e10 + 0xff // 2 ~ 3 << 1 >> 2 & 7 | 8",
        "for k, v in pairs({}) do if k then goto continue end ::continue:: end",
        "local a <const> = 1; local b <close> = nil; return a",
        "local o = {}; function o.a.b:c(x, ...) return self, x, ... end",
        "local f = function(...) local a, b = ... return select('#', ...) end",
        "repeat local x = 1 until x == 1",
        "while true do break end",
        "do local x = 'a\\tb\\x41\\65\\u{48}\\z\n   c' end",
        "return",
        "local x = -2 ^ -2 .. #'abc' .. not nil and 1 or 2",
        "f{1}; f'x'; f\"y\"; a.b.c = d[e](f)",
        "::top:: goto top",
        "local function f() local function g() return f end return g end",
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Check_ValidLua_Compiles(string script) => Assert.Null(LuaSyntax.Check(script));

    [Theory]
    [InlineData("local x = ", 1, "unexpected symbol near <eof>")]
    [InlineData("if x then\n  y = 1\n", 3, "'end' expected (to close 'if' at line 1) near <eof>")]
    [InlineData("x = 'unfinished", 1, "unfinished string near ''unfinished'")]
    [InlineData("local n = 3x", 1, "malformed number near '3x'")]
    [InlineData("break", 1, "break outside a loop at line 1")]
    [InlineData("goto nowhere", 1, "no visible label 'nowhere' for goto at line 1")]
    [InlineData("function f() return ... end", 1, "cannot use '...' outside a vararg function near '...'")]
    [InlineData("local a <const> = 1\na = 2", 2, "attempt to assign to const variable 'a'")]
    [InlineData("local a <hot> = 1", 1, "unknown attribute 'hot'")]
    [InlineData("x = 'bad \\q escape'", 1, "invalid escape sequence near ''bad \\q'")]
    [InlineData("return 1\nx = 2", 2, "'<eof>' expected near 'x'")]
    [InlineData("x", 1, "syntax error near <eof>")]
    [InlineData("local s = [[never closed", 1, "unfinished long string (starting at line 1) near '<eof>'")]
    [InlineData("::a:: ::a::", 1, "label 'a' already defined on line 1")]
    [InlineData("x = 1 @ 2", 1, "unexpected symbol near '@'")]
    public void Check_InvalidLua_ReportsLuasMessageAndLine(string script, int line, string message)
    {
        LuaSyntaxError? error = LuaSyntax.Check(script);

        Assert.NotNull(error);
        Assert.Equal((line, message), (error.Line, error.Message));
    }

    [Fact]
    public void Check_RandomText_NeverThrows_AlwaysAnswersCompilesOrAnError()
    {
        string[] pieces =
        {
            "local", "function", "end", "if", "then", "else", "elseif", "for", "in", "do", "while", "repeat", "until", "return", "break",
            "goto", "::l::", "x", "y", "=", "==", "(", ")", "{", "}", "[", "]", "[[", "]]", "[=[", ".", "..", "...", ":", ";", ",", "'s'", "\"",
            "\\", "1", "0x", "1e", ".5", "--", "--[[", "<const>", "<close>", "<", ">", "+", "-", "#", "~", "//", "\n", " ", "\r", "@", "\\u{", "\0",
        };
        var random = new Random(20261201);
        for (int i = 0; i < 5000; i++)
        {
            var text = new System.Text.StringBuilder();
            for (int n = random.Next(1, 30); n > 0; n--)
            {
                text.Append(pieces[random.Next(pieces.Length)]).Append(random.Next(3) == 0 ? " " : string.Empty);
            }

            string script = text.ToString();
            LuaSyntaxError? error = LuaSyntax.Check(script);
            Assert.True(error is null || (error.Index >= 0 && error.Index <= script.Length && error.Line >= 1), script);
        }
    }

    [Fact]
    public void Check_ConstUsedAsArgument_IsNotAnAssignment() =>
        Assert.Null(LuaSyntax.Check("local a <const> = 1\nprint(a, a)\nlocal t = {a, a}"));

    private static string Config(string endpoint, string root = "") => $$"""
        {
          "version": 3,
          "host": ["http://127.0.0.1:9000"],{{root}}
          "endpoints": [
            {{endpoint}}
          ]
        }
        """;

    /// <summary>Each mistake with where it must be reported: at the first occurrence of a marker in the configuration, plus an offset.</summary>
    public static TheoryData<string, IReadOnlyDictionary<string, string>?, string, DiagnosticSeverity, string, int> Mistakes => new()
    {
        // A syntax error in "pre", at its place inside the JSON string (escapes counted): line 5, after "end\n  x = ".
        {
            Config("{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"pre\": \"local r = request.load()\\nr:headers(\\\"X\\\", 1)\\nx = \"}}}]}"),
            null, "GW1024", DiagnosticSeverity.Error, "x = \"}", 4
        },
        // A source that cannot be read, at its name.
        {
            Config("{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"sources\": [\"missing.lua\"]}}}]}"),
            null, "GW1016", DiagnosticSeverity.Error, "\"missing.lua\"", 0
        },
        // A source that does not compile, at its name.
        {
            Config("{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"sources\": [\"bad.lua\"]}}}]}"),
            new Dictionary<string, string> { ["bad.lua"] = "function f(\n" }, "GW1024", DiagnosticSeverity.Error, "\"bad.lua\"", 0
        },
        // An md5 that does not match the file, at the sum.
        {
            Config("{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"sources\": [\"ok.lua\"], \"md5\": {\"ok.lua\": \"49ae50f58e35f4821ad4550e1a4d1de0\"}}}}]}"),
            new Dictionary<string, string> { ["ok.lua"] = "x = 1\n" }, "GW1016", DiagnosticSeverity.Error, "\"49ae", 0
        },
        // live reload cannot work in a compiled gateway, at the value.
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"modifier/lua-proxy\": {\"live\": true, \"pre\": \"x = 1\"}}, \"backend\": [{\"url_pattern\": \"/x\"}]}"),
            null, "GW2001", DiagnosticSeverity.Error, "true, \"pre", 0
        },
        // A standard function without allow_open_libs: a warning at the script.
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"modifier/lua-proxy\": {\"pre\": \"print('hi')\"}}, \"backend\": [{\"url_pattern\": \"/x\"}]}"),
            null, "GW3004", DiagnosticSeverity.Warning, "\"print", 0
        },
        // post has no effect in lua-endpoint, at the key.
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"modifier/lua-endpoint\": {\"post\": \"x = 1\"}}, \"backend\": [{\"url_pattern\": \"/x\"}]}"),
            null, "GW3002", DiagnosticSeverity.Warning, "\"post\"", 0
        },
        // sequential_propagated_params: not a response, at the entry; on an endpoint that is not sequential, at the entry.
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"proxy\": {\"sequential\": true, \"sequential_propagated_params\": [\"body\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\"}]}"),
            null, "GW1016", DiagnosticSeverity.Error, "\"body\"", 0
        },
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"proxy\": {\"sequential_propagated_params\": [\"resp0\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\"}]}"),
            null, "GW1010", DiagnosticSeverity.Error, "\"resp0\"", 0
        },
        // The last backend's response reaches no later backend.
        {
            Config("{\"endpoint\": \"/a\", \"extra_config\": {\"proxy\": {\"sequential\": true, \"sequential_propagated_params\": [\"resp1_id\"]}}, \"backend\": [{\"url_pattern\": \"/x\"}, {\"url_pattern\": \"/y\"}]}"),
            null, "GW3002", DiagnosticSeverity.Warning, "\"resp1_id\"", 0
        },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Generate_LuaMistake_ReportsIdSeverityAndPosition(string config, IReadOnlyDictionary<string, string>? files, string id, DiagnosticSeverity severity, string marker, int offset)
    {
        var (_, _, diagnostics) = GeneratorHarness.Run(config, files: files);

        Diagnostic diagnostic = Assert.Single(diagnostics, d => d.Id == id);
        Assert.Equal(severity, diagnostic.Severity);
        int at = config.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, marker);
        Assert.Equal(at + offset, diagnostic.Location.SourceSpan.Start);
    }

    [Fact]
    public void Generate_SyntaxErrorInASource_NamesTheFileAndItsLine()
    {
        string config = Config("{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"sources\": [\"lib/bad.lua\"]}}}]}");

        Diagnostic diagnostic = Assert.Single(GeneratorHarness.Run(config, files: new Dictionary<string, string> { ["lib/bad.lua"] = "x = 1\nif x then\n" }).Diagnostics);

        Assert.Contains("lib/bad.lua:3: 'end' expected (to close 'if' at line 2) near <eof>", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_TheDocumentedPropagateBodyExample_BuildsWithoutAFinding()
    {
        string config = Config("""
            {
              "endpoint": "/sequential/propagate-body",
              "extra_config": { "proxy": { "sequential": true, "sequential_propagated_params": ["resp0"] } },
              "backend": [
                { "encoding": "no-op", "url_pattern": "/__debug/", "host": [ "http://localhost:8080" ] },
                {
                  "encoding": "json", "url_pattern": "/param_forwarding/", "host": [ "http://127.0.0.1:8081" ],
                  "extra_config": { "modifier/lua-backend": { "allow_open_libs": true, "pre": "local req = request.load(); req:body(req:params(\"Resp0\"))" } }
                }
              ]
            }
            """);

        var (_, output, diagnostics) = GeneratorHarness.Run(config);

        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));
    }
}

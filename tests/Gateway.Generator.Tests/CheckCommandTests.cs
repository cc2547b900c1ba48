using Gateway.Runtime.Hosting;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary><c>gateway check</c> reports exactly what the build reports, from the same parser.</summary>
public class CheckCommandTests
{
    public static TheoryData<string> Configs()
    {
        var data = new TheoryData<string>();
        foreach (object[] row in DiagnosticTests.Mistakes)
        {
            data.Add((string)row[0]);
        }

        foreach (string config in DiagnosticTests.CloseButValid)
        {
            data.Add(config);
        }

        return data;
    }

    [Fact]
    public void Check_ALuaSourceBesideTheConfiguration_IsReadAndCompiledLikeTheBuildDoes()
    {
        string directory = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(directory, "lua"));
        string config = "{\"version\": 3, \"host\": [\"http://h\"], \"endpoints\": [{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"/x\", \"extra_config\": {\"modifier/lua-backend\": {\"sources\": [\"lua/good.lua\", \"lua/bad.lua\"], \"pre\": \"good()\"}}}]}]}";
        File.WriteAllText(Path.Combine(directory, "krakend.json"), config);
        File.WriteAllText(Path.Combine(directory, "lua", "good.lua"), "function good() end\n");
        File.WriteAllText(Path.Combine(directory, "lua", "bad.lua"), "function bad()\n  return 1 +\nend\n");
        try
        {
            using var output = new StringWriter();
            int exit = CheckCommand.Run([Path.Combine(directory, "krakend.json")], output, TextWriter.Null);

            Assert.Equal(CheckCommand.ExitInvalid, exit);
            string line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("GW1024", StringComparison.Ordinal));
            Assert.Contains("(1,175): error GW1024: the Lua source \"lua/bad.lua\" does not compile: lua/bad.lua:3: unexpected symbol near 'end'", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Check_SameConfig_PrintsTheGeneratorsFindings(string config)
    {
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, config);
        try
        {
            var (_, _, generatorDiagnostics) = GeneratorHarness.Run(config, path: path);
            string[] expected = generatorDiagnostics.Select(d => d.ToString().Replace($" ({d.Descriptor.HelpLinkUri})", string.Empty, StringComparison.Ordinal)).ToArray();

            using var output = new StringWriter();
            using var error = new StringWriter();
            int exit = CheckCommand.Run([path], output, error);

            string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected, lines[..^1]);
            Assert.Equal(generatorDiagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) ? CheckCommand.ExitInvalid : CheckCommand.ExitValid, exit);
            Assert.Empty(error.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Check_Explain_PrintsEachEndpointsPlan()
    {
        const string Config = """
            {
              "version": 3,
              "host": ["http://svc:8080"],
              "endpoints": [
                {"endpoint": "/d/{id}", "backend": [
                  {"url_pattern": "/users/{id}", "group": "user", "extra_config": {"gateway/step": {"id": "user"}}},
                  {"url_pattern": "/orders/{resp.user.id}", "extra_config": {"gateway/step": {"id": "orders", "depends_on": ["user"], "retry": {"max": 2}}}},
                  {"url_pattern": "/profile/{resp.user.id}", "extra_config": {"gateway/step": {"id": "profile", "depends_on": ["user"], "when": {"value": "{resp.user.tier}", "equals": "gold"}}}},
                  {"url_pattern": "/summary", "extra_config": {"gateway/step": {"depends_on": ["orders", "profile"], "fallback": {}}}}
                ]},
                {"endpoint": "/s", "extra_config": {"proxy": {"sequential": true}}, "backend": [{"url_pattern": "/a"}, {"url_pattern": "/b/{resp0_x}"}]},
                {"endpoint": "/f", "extra_config": {"gateway/flow": {"pass_through": {"step": "o", "status": true, "headers": ["ETag"]}}}, "backend": [
                  {"url_pattern": "/o", "group": "o", "extra_config": {"gateway/step": {"id": "o"}}},
                  {"url_pattern": "/s/{item}", "group": "s", "extra_config": {"gateway/step": {"depends_on": ["o"], "for_each": {"in": "{resp.o.lines.*.sid}", "concurrency": 4}}}}
                ]}
              ]
            }
            """;
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Config);
        try
        {
            using var output = new StringWriter();
            Assert.Equal(CheckCommand.ExitValid, CheckCommand.Run([path, "--explain"], output, TextWriter.Null));

            string[] lines = output.ToString().Split('\n');
            Assert.Contains("GET /d/{id}: dependency graph, 4 step(s), within 2000 ms", lines);
            Assert.Contains("  0 user: GET /users/{id} (at once)", lines);
            Assert.Contains("  1 orders: GET /orders/{resp.user.id} (after user; reads user; retry 2x from 100 ms)", lines);
            Assert.Contains("  2 profile: GET /profile/{resp.user.id} (after user; reads user; when {resp0_user.tier} equals \"gold\")", lines);
            Assert.Contains("  3 backend3: GET /summary (after orders, profile; on failure: fallback)", lines);
            Assert.Contains("  runs as: [user] -> [orders, profile] -> [backend3]", lines);
            Assert.Contains("GET /s: sequential, 2 step(s), within 2000 ms", lines);
            Assert.Contains("  1 backend1: GET /b/{resp0_x} (after backend0; reads backend0)", lines);
            Assert.Contains("  0 o: GET /o (at once; passes its status and ETag to the client)", lines);
            Assert.Contains("  1 backend1: GET /s/{item} (after o; reads o; for each of {resp0_o.lines} by sid, 4 at a time, at most 100, collected)", lines);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Check_FormatJson_ListsFindingsWithPositions()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"version\": 1}");
        try
        {
            using var output = new StringWriter();
            int exit = CheckCommand.Run([path, "--format", "json"], output, TextWriter.Null);

            Assert.Equal(CheckCommand.ExitInvalid, exit);
            using var report = System.Text.Json.JsonDocument.Parse(output.ToString());
            Assert.False(report.RootElement.GetProperty("valid").GetBoolean());
            var finding = report.RootElement.GetProperty("diagnostics")[0];
            Assert.Equal("GW0003", finding.GetProperty("id").GetString());
            Assert.Equal("error", finding.GetProperty("severity").GetString());
            Assert.Equal(1, finding.GetProperty("line").GetInt32());
            Assert.Equal(13, finding.GetProperty("column").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("", "gateway check: no configuration file given")]
    [InlineData("/no/such/file.json", "gateway check: cannot read '/no/such/file.json': no such file")]
    [InlineData("/tmp", "gateway check: cannot read '/tmp': it is a directory, not a file")]
    [InlineData("a.json b.json", "gateway check: unknown argument 'b.json'; the options are --format text|json, --strict and --explain")]
    [InlineData("a.json --format yaml", "gateway check: --format needs text or json, not 'yaml'")]
    [InlineData("a.json --format", "gateway check: --format needs text or json")]
    [InlineData("a.json --verbose", "gateway check: unknown argument '--verbose'; the options are --format text|json, --strict and --explain")]
    public void Check_UsageErrors_Exit2WithALineAPersonCanActOn(string commandLine, string firstLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        using var error = new StringWriter();
        Assert.Equal(CheckCommand.ExitUsage, CheckCommand.Run(args, TextWriter.Null, error));
        Assert.Equal(firstLine, error.ToString().Split('\n')[0]);
    }

    [Fact]
    public void Check_Strict_AWarningMakesTheFileInvalid()
    {
        string path = Path.Combine(Path.GetTempPath(), $"gateway-check-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"version": 3, "x-owner-team": "payments", "endpoints": []}""");
        try
        {
            using var lenient = new StringWriter();
            using var strict = new StringWriter();

            Assert.Equal(CheckCommand.ExitValid, CheckCommand.Run([path], lenient, TextWriter.Null));
            Assert.Equal(CheckCommand.ExitInvalid, CheckCommand.Run([path, "--strict"], strict, TextWriter.Null));

            Assert.Contains("warning GW3001", lenient.ToString(), StringComparison.Ordinal);
            Assert.Contains($"{path}: valid (1 warning(s))", lenient.ToString(), StringComparison.Ordinal);
            Assert.Contains("error GW3001", strict.ToString(), StringComparison.Ordinal);
            Assert.Contains($"{path}: 1 error(s), 0 warning(s)", strict.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Check_TheReadmesFirstEndpointExample_IsValidWithoutWarnings()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int section = readme.IndexOf("## Your first endpoint", StringComparison.Ordinal);
        int start = readme.IndexOf("```json\n", section, StringComparison.Ordinal) + "```json\n".Length;
        int end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        Assert.True(section >= 0 && start > section && end > start, "the README's first-endpoint example was not found");

        string path = Path.Combine(Path.GetTempPath(), $"gateway-readme-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, readme[start..end]);
        try
        {
            using var output = new StringWriter();
            int exit = CheckCommand.Run([path, "--strict"], output, TextWriter.Null);

            Assert.Equal($"{path}: valid (0 warning(s))", output.ToString().Trim());
            Assert.Equal(CheckCommand.ExitValid, exit);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    [Fact]
    public void Migrate_AVersion2File_WritesV3NamesThatCheckAcceptsWithoutWarnings()
    {
        const string legacy = """
            {
              "version": 2,
              "host": ["http://users:8080"],
              "extra_config": {
                "github_com/devopsfaith/krakend-cors": { "allow_origins": ["https://app.example.com"] }
              },
              "endpoints": [
                {
                  "endpoint": "/users/{id}",
                  "headers_to_pass": ["Authorization"],
                  "querystring_params": ["page"],
                  "extra_config": { "github.com/devopsfaith/krakend/proxy": { "sequential": false } },
                  "backend": [
                    {
                      "url_pattern": "/users/{id}",
                      "whitelist": ["id", "name"],
                      "extra_config": { "github.com/devopsfaith/krakend-circuitbreaker/gobreaker": { "interval": 60, "timeout": 10, "maxErrors": 2 } }
                    }
                  ]
                }
              ]
            }
            """;
        string source = Path.Combine(Path.GetTempPath(), $"gateway-migrate-{Guid.NewGuid():N}.json");
        string target = source + ".v3.json";
        File.WriteAllText(source, legacy);
        try
        {
            using var legacyCheck = new StringWriter();
            Assert.Equal(CheckCommand.ExitValid, CheckCommand.Run([source], legacyCheck, TextWriter.Null));
            Assert.Equal(8, legacyCheck.ToString().Split('\n').Count(line => line.Contains("warning GW3003", StringComparison.Ordinal)));

            using var notes = new StringWriter();
            Assert.Equal(CheckCommand.ExitValid, MigrateCommand.Run([source, "-o", target], TextWriter.Null, notes));

            string migrated = File.ReadAllText(target);
            using var check = new StringWriter();
            Assert.Equal(CheckCommand.ExitValid, CheckCommand.Run([target, "--strict"], check, TextWriter.Null));
            Assert.Equal($"{target}: valid (0 warning(s))", check.ToString().Trim());
            Assert.Contains("\"version\": 3,", migrated, StringComparison.Ordinal);
            Assert.Contains("\"input_headers\": [\"Authorization\"],", migrated, StringComparison.Ordinal);
            Assert.Contains("\"qos/circuit-breaker\": { \"interval\": 60, \"timeout\": 10, \"max_errors\": 2 }", migrated, StringComparison.Ordinal);
            // Only names change: the layout is the file's own.
            Assert.Equal(legacy.Split('\n').Length, migrated.Split('\n').Length);
            Assert.Contains("\"whitelist\" -> \"allow\"", notes.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(source);
            File.Delete(target);
        }
    }

    [Theory]
    [InlineData("", "gateway migrate: no configuration file given")]
    [InlineData("/no/such/file.json", "gateway migrate: cannot read '/no/such/file.json': no such file")]
    [InlineData("a.json --force", "gateway migrate: unknown argument '--force'; the options are -o OUT and --in-place")]
    public void Migrate_UsageErrors_Exit2WithALineAPersonCanActOn(string commandLine, string firstLine)
    {
        using var error = new StringWriter();
        Assert.Equal(CheckCommand.ExitUsage, MigrateCommand.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries), TextWriter.Null, error));
        Assert.Equal(firstLine, error.ToString().Split('\n')[0]);
    }
}

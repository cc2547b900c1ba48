using System.Diagnostics;
using System.Text;
using Gateway.Config.Diagnostics;
using Gateway.Config.Parsing;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>
/// The configuration reader and parser never throw: any input ends in a model, diagnostics, or both — in bounded time.
/// A generator that throws would surface as CS8785 and hide every real finding.
/// </summary>
public class ParserFuzzTests
{
    private static readonly string[] s_seeds =
    [
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", "contract.krakend.json")),
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Configs", "chaining.krakend.json")),
    ];

    private static IEnumerable<string> Mutations(int seed, int count)
    {
        var random = new Random(seed);
        const string interesting = "{}[]\",:\\u0123456789eE+-.tfn \t\n\u0001\u00e9\ud800{resp0_}*";
        for (int i = 0; i < count; i++)
        {
            var text = new StringBuilder(s_seeds[i % s_seeds.Length]);
            int edits = random.Next(1, 6);
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(text.Length);
                switch (random.Next(4))
                {
                    case 0:
                        text[at] = interesting[random.Next(interesting.Length)];
                        break;
                    case 1:
                        text.Remove(at, Math.Min(random.Next(1, 40), text.Length - at));
                        break;
                    case 2:
                        text.Insert(at, interesting[random.Next(interesting.Length)]);
                        break;
                    default:
                        // Swap a value for one of another type.
                        text.Insert(at, random.Next(3) switch { 0 => "[]", 1 => "{}", _ => "1e999" });
                        break;
                }
            }

            yield return random.Next(5) == 0 ? text.ToString(0, random.Next(text.Length)) : text.ToString();
        }
    }

    [Fact]
    public void Parse_MutatedConfigs_NeverThrowsAndErrorsAlwaysSayWhere()
    {
        int withErrors = 0;
        foreach (string config in Mutations(seed: 7, count: 4000))
        {
            ConfigParseResult result = ConfigParser.Parse(new ConfigSource("fuzz.json", config), "Fuzz");
            foreach (ConfigDiagnostic diagnostic in result.Diagnostics)
            {
                Assert.InRange(diagnostic.Start, 0, config.Length);
                Assert.False(string.IsNullOrWhiteSpace(diagnostic.Message));
            }

            withErrors += result.Diagnostics.Any(d => d.Severity == ConfigSeverity.Error) ? 1 : 0;

            // Whatever parsed must also emit: the emitter trusts the model's invariants (indexes, captured headers).
            if (result.Model is not null)
            {
                Gateway.Generator.Emitters.GatewayEmitter.Emit(result.Model, (_, _) => { });
            }
        }

        // The mutations must actually break things, or the test proves nothing.
        Assert.True(withErrors > 1300, $"only {withErrors} of 4000 mutations produced errors");
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "deep arrays", new string('[', 100_000) },
        { "deep objects", string.Concat(Enumerable.Repeat("{\"a\":", 50_000)) },
        { "huge string", "{\"version\": 3, \"name\": \"" + new string('x', 5_000_000) + "\"}" },
        { "huge number", "{\"version\": 3, \"port\": " + new string('9', 100_000) + "}" },
        { "many endpoints", "{\"version\": 3, \"host\": [\"h\"], \"endpoints\": [" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"{{\"endpoint\": \"/e{i}/{{id}}\", \"backend\": [{{\"url_pattern\": \"/x/{{id}}\"}}]}}")) + "]}" },
        { "many braces in a pattern", "{\"version\": 3, \"host\": [\"h\"], \"endpoints\": [{\"endpoint\": \"/a\", \"backend\": [{\"url_pattern\": \"" + string.Concat(Enumerable.Repeat("{", 100_000)) + "\"}]}]}" },
        { "binary", Encoding.Latin1.GetString(Enumerable.Range(0, 4096).Select(i => (byte)(i * 31)).ToArray()) },
        { "empty", string.Empty },
        { "wrong root", "[1, 2, 3]" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Generate_HostileConfig_ReportsDiagnosticsInBoundedTime(string name, string config)
    {
        var clock = Stopwatch.StartNew();
        var (_, _, diagnostics) = GeneratorHarness.Run(config);
        clock.Stop();

        Assert.DoesNotContain(diagnostics, d => d.Id == "CS8785");
        // A hang guard, not a speed target (generation speed is measured in perf/).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{name}: {clock.Elapsed.TotalSeconds:F1} s");
        if (name is not ("many endpoints" or "huge string"))
        {
            Assert.Contains(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        }
    }
}

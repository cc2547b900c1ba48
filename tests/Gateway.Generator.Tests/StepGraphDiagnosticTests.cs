using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>Mistakes in an endpoint's dependency graph (<c>gateway/step.depends_on</c>), each reported where it is written.</summary>
public class StepGraphDiagnosticTests
{
    private static string Config(string backends, string endpointExtra = "") => $$"""
        {
          "version": 3,
          "host": ["http://127.0.0.1:9000"],
          "endpoints": [
            {
              "endpoint": "/a/{id}", {{endpointExtra}}"backend": [{{backends}}]
            }
          ]
        }
        """;

    private static string Step(string url, string step) => "{\"url_pattern\": \"" + url + "\", \"extra_config\": {\"gateway/step\": {" + step + "}}}";

    public static TheoryData<string, string, string, string> Mistakes => new()
    {
        // An unknown name, at the name.
        { Config(Step("/u", "\"id\": \"user\"") + ", " + Step("/o", "\"depends_on\": [\"usr\"]")), "GW1022", "\"usr\"", "no step has the id \"usr\" (the ids are \"user\")" },
        // An index past the end.
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": [5]")), "GW1022", "5]", "there is no backend 5" },
        // Itself.
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": [1]")), "GW1022", "1]", "backend 1 depends on itself" },
        // A duplicate id, at the second.
        { Config(Step("/u", "\"id\": \"x\"") + ", " + Step("/o", "\"id\": \"x\", \"depends_on\": [0]")), "GW1022", "\"x\", \"dep", "already the id of backend 0" },
        // A cycle, at the first step's depends_on.
        { Config(Step("/u", "\"id\": \"a\", \"depends_on\": [\"b\"]") + ", " + Step("/o", "\"id\": \"b\", \"depends_on\": [\"a\"]")), "GW1022", "[\"b\"]", "cycle (backend 0 \"a\" → backend 1 \"b\" → backend 0 \"a\")" },
        // A graph on a sequential endpoint.
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": [0]"), "\"extra_config\": {\"proxy\": {\"sequential\": true}}, "), "GW1022", "[0]", "remove \"sequential\": true" },
        // Reading a step it does not depend on (a sibling), at the placeholder.
        { Config(Step("/u", "") + ", " + Step("/o/{resp0_id}", "\"depends_on\": [0]") + ", " + Step("/p/{resp1_id}", "\"depends_on\": [0]")), "GW1023", "{resp1_id}", "backend 1, which it does not depend on" },
        // A step by an id no step has, at the placeholder.
        { Config(Step("/u", "\"id\": \"user\"") + ", " + Step("/o/{resp.usr.id}", "\"depends_on\": [0]")), "GW1008", "{resp.usr.id}", "names the step \"usr\", but the ids are \"user\"" },
        // A step by id that it does not depend on.
        { Config(Step("/u", "") + ", " + Step("/o", "\"id\": \"o\", \"depends_on\": [0]") + ", " + Step("/p/{resp.o.id}", "\"depends_on\": [0]")), "GW1023", "{resp.o.id}", "backend 1, which it does not depend on" },
        // Retrying a POST without saying it is safe, at the retry object.
        { Config("{\"url_pattern\": \"/u\", \"method\": \"POST\", \"extra_config\": {\"gateway/step\": {\"retry\": {\"max\": 2}}}}"), "GW1016", "{\"max\": 2}", "a POST step is not retried unless it says it is safe" },
        // Too many retries, at the number.
        { Config(Step("/u", "\"retry\": {\"max\": 11}")), "GW1016", "11}", "a whole number from 1 to 10" },
        // A step timeout that is not a duration.
        { Config(Step("/u", "\"timeout\": \"fast\"")), "GW1006", "\"fast\"", "a step's \"timeout\" is a duration" },
        // An unknown failure policy, at the value.
        { Config(Step("/u", "\"on_failure\": \"ignore\"")), "GW1016", "\"ignore\"", "\"on_failure\" is \"fail\"" },
        // A fallback that is not an object.
        { Config(Step("/u", "\"fallback\": [1]")), "GW1016", "[1]", "\"fallback\" is a JSON object" },
        // Conditions: a client value (a string) has no order, at the operand.
        { Config(Step("/u", "\"when\": {\"value\": \"{input_query.age}\", \"greater_than\": 17}")), "GW1016", "17}", "always a string: it has no order" },
        // ... and equals only strings ("1" is not 1).
        { Config(Step("/u", "\"when\": {\"value\": \"{id}\", \"equals\": 1}")), "GW1016", "1}", "compare it with a string (\"1\" is not 1)" },
        // One test per condition, at the second.
        { Config(Step("/u", "\"when\": {\"value\": \"{id}\", \"exists\": true, \"equals\": \"a\"}")), "GW1016", "\"a\"}", "\"when\" has one test" },
        // A condition reads only what the step may read.
        { Config(Step("/u", "") + ", " + Step("/o", "\"when\": {\"value\": \"{resp0_id}\", \"exists\": true}")), "GW1010", "{resp0_id}\", \"exists", "only a sequential endpoint" },
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": [0]") + ", " + Step("/p", "\"depends_on\": [0], \"when\": {\"value\": \"{resp1_id}\", \"exists\": true}")), "GW1023", "{resp1_id}\", \"exists", "which it does not depend on" },
        // Not on a sequential endpoint.
        { Config(Step("/u", "") + ", " + Step("/o", "\"when\": {\"value\": \"{id}\", \"exists\": true}"), "\"extra_config\": {\"proxy\": {\"sequential\": true}}, "), "GW1022", "{\"value\": \"{id}\"", "a sequential endpoint calls every step in order" },
        // A deadline status that is not an error status.
        { Config(Step("/u", ""), "\"extra_config\": {\"gateway/flow\": {\"deadline_status\": 200}}, "), "GW1016", "200}", "\"deadline_status\" is the error status" },
        // Not a list.
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": \"0\"")), "GW1022", "\"0\"}", "is a list of the steps" },
        // for_each: {item} outside a for_each step, at the placeholder.
        { Config(Step("/u", "") + ", " + Step("/o/{item.id}", "\"depends_on\": [0]")), "GW1008", "{item.id}", "can be used only in a step with \"gateway/step\": {\"for_each\"" },
        // ... an array in a step it does not depend on.
        { Config(Step("/u", "") + ", " + Step("/o", "\"depends_on\": [0]") + ", " + Step("/p/{item.id}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp1_items}\", \"join_as\": \"p\"}")), "GW1023", "{resp1_items}\", \"join", "which it does not depend on" },
        // ... an array that is a client value, not a response's.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{input_query.ids}\", \"join_as\": \"p\"}")), "GW1016", "{input_query.ids}", "one placeholder naming an array in a response" },
        // ... a '*' that is not a whole segment after the array.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items.*id}\", \"join_as\": \"p\"}")), "GW1016", "{resp0_items.*id}", "one '*', standing for the elements" },
        // ... a key both after the '*' and in "key".
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items.*.id}\", \"key\": \"id\", \"join_as\": \"p\"}")), "GW1016", "\"id\", \"join", "keep one of the two" },
        // ... results collected without a group to hold them, at the for_each object.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items}\"}")), "GW1016", "{\"in\": \"{resp0_items}\"}", "collected as an array under the step's \"group\"" },
        // ... a concurrency out of range, at the number.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\", \"concurrency\": 0}")), "GW1016", "0}", "a whole number from 1 to 64" },
        // ... max_items above its bound.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\", \"max_items\": 5000}")), "GW1016", "5000}", "a whole number from 1 to 1000" },
        // ... a key with a '*'.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\", \"key\": \"a.*\"}")), "GW1016", "\"a.*\"", "\"key\" is the path of the value" },
        // ... a condition on {item} (tested once, before the elements).
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"when\": {\"value\": \"{item.x}\", \"exists\": true}, \"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\"}")), "GW1016", "\"{item.x}\"", "a condition is tested once for the whole step" },
        // ... on a sequential endpoint.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\"}"), "\"extra_config\": {\"proxy\": {\"sequential\": true}}, "), "GW1022", "{\"in\"", "a sequential endpoint calls each step once" },
        // gateway/flow.pass_through: an unknown step, at the name.
        { Config(Step("/u", "\"id\": \"user\"") + ", " + Step("/o", ""), "\"extra_config\": {\"gateway/flow\": {\"pass_through\": {\"step\": \"usr\", \"status\": true}}}, "), "GW1022", "\"usr\"", "no step has the id \"usr\"" },
        // ... a for_each step (one status per element), at the step.
        { Config(Step("/u", "") + ", " + Step("/o/{item}", "\"depends_on\": [0], \"for_each\": {\"in\": \"{resp0_items}\", \"join_as\": \"p\"}"), "\"extra_config\": {\"gateway/flow\": {\"pass_through\": {\"step\": 1, \"status\": true}}}, "), "GW1016", "1, \"status", "a \"for_each\" step answers once per element" },
        // ... a hop-by-hop header, at the name.
        { Config(Step("/u", "") + ", " + Step("/o", ""), "\"extra_config\": {\"gateway/flow\": {\"pass_through\": {\"step\": 0, \"headers\": [\"Connection\"]}}}, "), "GW1016", "\"Connection\"", "hop-by-hop" },
        // ... a header the gateway writes itself.
        { Config(Step("/u", "") + ", " + Step("/o", ""), "\"extra_config\": {\"gateway/flow\": {\"pass_through\": {\"step\": 0, \"headers\": [\"Content-Length\"]}}}, "), "GW1016", "\"Content-Length\"", "the gateway's own" },
        // ... without a step.
        { Config(Step("/u", "") + ", " + Step("/o", ""), "\"extra_config\": {\"gateway/flow\": {\"pass_through\": {\"status\": true}}}, "), "GW1016", "{\"status\": true}", "needs \"step\"" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Graph_Mistake_ReportedAtItsPlace(string config, string id, string at, string message)
    {
        Diagnostic[] errors = GeneratorHarness.Run(config).Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();

        Diagnostic error = Assert.Single(errors);
        Assert.Equal(id, error.Id);
        Assert.Contains(message, error.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        string endpointLine = config.Split('\n')[5];
        FileLinePositionSpan span = error.Location.GetLineSpan();
        Assert.Equal(5, span.StartLinePosition.Line);
        Assert.Equal(endpointLine.IndexOf(at, StringComparison.Ordinal), span.StartLinePosition.Character);
    }

    [Fact]
    public void Graph_NamedReference_ReadsInsideTheStepsGroup()
    {
        string config = Config("{\"url_pattern\": \"/u\", \"group\": \"g\", \"extra_config\": {\"gateway/step\": {\"id\": \"user\"}}}, " + Step("/o/{resp.user.id}/{resp.user.headers.X-Id}", "\"depends_on\": [\"user\"]"));

        (_, Compilation output, var diagnostics) = GeneratorHarness.Run(config);

        Assert.DoesNotContain(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        string handler = string.Join("\n", output.SyntaxTrees.Select(t => t.ToString()));
        Assert.Contains("{resp0_g.id}", handler, StringComparison.Ordinal);
        Assert.Contains("{resp0.headers.X-Id}", handler, StringComparison.Ordinal);
    }

    [Fact]
    public void Graph_TransitiveDependency_MayBeRead()
    {
        string config = Config(Step("/u", "") + ", " + Step("/o/{resp0_id}", "\"depends_on\": [0]") + ", " + Step("/p/{resp0_id}/{resp1_id}", "\"depends_on\": [1]"));

        Assert.DoesNotContain(GeneratorHarness.Run(config).Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
    }
}

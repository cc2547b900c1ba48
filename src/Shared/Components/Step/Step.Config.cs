using System;
using System.Collections.Generic;
using System.Globalization;
using Gateway.Config.Diagnostics;
using Gateway.Config.Json;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Components.Step;

/// <summary>A step's own <c>timeout</c> and <c>retry</c> (<c>gateway/step</c>).</summary>
internal sealed record StepPolicyModel(long? TimeoutMilliseconds, int Retries, long BackoffMilliseconds);

/// <summary>
/// What a step's failure does (<c>gateway/step.on_failure</c>): <see cref="Continue"/> lets the steps that depend on it
/// run anyway; <see cref="Fallback"/> holds the JSON used as its data instead (its group added), which the answer and
/// the steps that depend on it read as if the backend had sent it (the merge puts it under the step's group).
/// </summary>
internal sealed record StepFailureModel(bool Continue, string? Fallback);

/// <summary>
/// A step's condition (<c>gateway/step.when</c>): <see cref="Operator"/> (<c>exists</c>, <c>missing</c>,
/// <c>equals</c>, <c>not_equals</c>, <c>in</c>, <c>greater_than</c>, <c>less_than</c>) applied to <see cref="Value"/>,
/// against <see cref="Literals"/> (compact JSON scalars; one, or the list of <c>in</c>).
/// </summary>
internal sealed record StepConditionModel(TemplatePartModel Value, string Operator, EquatableArray<string> Literals);

/// <summary>
/// A step that runs once per element of an array (<c>gateway/step.for_each</c>): <see cref="Array"/> is the placeholder
/// naming the array in a response the step depends on; <see cref="Key"/> the path, inside each element, of the value
/// that identifies it (empty: the whole element), so that elements with equal keys are called once; at most
/// <see cref="Concurrency"/> calls at a time and <see cref="MaxItems"/> elements (more fails the step). The results are
/// collected as an array under the step's group, or, with <see cref="JoinAs"/>, put into each element of the array under
/// that name.
/// </summary>
internal sealed record StepForEachModel(TemplatePartModel Array, EquatableArray<string> Key, int Concurrency, int MaxItems, string? JoinAs);

/// <summary>
/// An endpoint's steps as a dependency graph (<c>gateway/step.depends_on</c>): for each backend, the backends it waits
/// for, and every backend it may read (its dependencies, directly or through theirs).
/// </summary>
internal sealed class StepGraph
{
    public StepGraph(List<int>[] dependsOn, bool[][] ancestors)
    {
        DependsOn = dependsOn;
        Ancestors = ancestors;
    }

    /// <summary>
    /// The graph of an endpoint whose <c>depends_on</c> has an error (already reported): every step may read every other,
    /// so that its placeholders add no second error.
    /// </summary>
    public static StepGraph Invalid(int count)
    {
        var dependsOn = new List<int>[count];
        var ancestors = new bool[count][];
        for (int i = 0; i < count; i++)
        {
            dependsOn[i] = new List<int>();
            ancestors[i] = new bool[count];
            for (int k = 0; k < count; k++)
            {
                ancestors[i][k] = true;
            }
        }

        return new StepGraph(dependsOn, ancestors);
    }

    /// <summary>The direct dependencies of each backend, ascending.</summary>
    public List<int>[] DependsOn { get; }

    /// <summary><c>Ancestors[n][m]</c>: backend n runs after backend m has answered, so it may read its response.</summary>
    public bool[][] Ancestors { get; }
}

/// <summary>
/// The gateway's own <c>gateway/step</c> namespace on a backend (docs/configuration.md, required steps and dependency
/// graphs): how the endpoint treats this step. <c>required</c>: when the step fails (or is never called because a step
/// it needs failed), the endpoint answers as if no backend had answered, instead of 200 with the other steps' data.
/// <c>id</c> names the step; <c>depends_on</c> lists the steps (names or indexes) it waits for.
/// </summary>
internal static class StepConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/step", ConfigScope.Backend);

    private static readonly string[] Supported = { "required", "id", "depends_on", "timeout", "retry", "on_failure", "fallback", "when", "for_each", Keys.Comment };

    private static readonly string[] ForEachKeys = { "in", "key", "concurrency", "max_items", "join_as", Keys.Comment };

    /// <summary>Calls of a <c>for_each</c> step at a time, unless it says otherwise.</summary>
    public const int DefaultConcurrency = 8;

    /// <summary>The most calls at a time a <c>for_each</c> step may ask for.</summary>
    public const int MaxConcurrency = 64;

    /// <summary>Elements a <c>for_each</c> step accepts, unless it says otherwise; an array with more fails the step.</summary>
    public const int DefaultMaxItems = 100;

    /// <summary>The most elements a <c>for_each</c> step may accept.</summary>
    public const int MaxMaxItems = 1000;

    /// <summary>True when the backend's <c>gateway/step</c> has <c>for_each</c> (read before its templates, which may then use <c>{item}</c>).</summary>
    public static bool HasForEach(ExtraConfig extra) => extra.Find(Namespace)?.Find("for_each") is not null;

    /// <summary>
    /// Reads <c>for_each</c>: <c>{"in": "{resp.orders.items}", "key": "id", "concurrency": 8, "max_items": 100,
    /// "join_as": "shipment"}</c>. <c>in</c> names an array in a response the step depends on; without <c>join_as</c> the
    /// results are collected under the step's <c>group</c>, which it then needs.
    /// </summary>
    public static StepForEachModel? ReadForEach(ExtraConfig extra, ConfigReader read, TemplateParser templates, TemplateParser.Scope scope, string? group)
    {
        if (extra.Find(Namespace)?.Find("for_each") is not { } forEach)
        {
            return null;
        }

        DiagnosticBag diagnostics = read.Diagnostics;
        if (!read.Expect(forEach, JsonKind.Object, "an object such as {\"in\": \"{resp.orders.items}\", \"key\": \"id\"}"))
        {
            return null;
        }

        read.CheckKeys(forEach.Value, "\"for_each\"", ForEachKeys, Array.Empty<string>());
        if (scope.Sequential)
        {
            diagnostics.Report(DiagnosticKind.InvalidStepGraph, "a sequential endpoint calls each step once, in order; to run a step once per element of an array, describe the order with \"depends_on\" and remove \"sequential\": true", forEach.Value);
            return null;
        }

        JsonProperty? inProperty = forEach.Value.Find("in");
        if (inProperty is null || inProperty.Value.Kind != JsonKind.String)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"for_each\" needs \"in\": the array to run over, in a response this step depends on, as in \"{resp.orders.items}\"", inProperty?.Value ?? forEach.Value);
            return null;
        }

        TemplatePartModel? array = templates.ParseArraySource(inProperty.Value.Text!, inProperty.Value, scope, out string[]? starKey);
        if (array is null)
        {
            return null;
        }

        var key = new List<string>(starKey ?? Array.Empty<string>());
        if (forEach.Value.Find("key") is { } keyProperty)
        {
            if (starKey is not null)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "the key is already given after the '*' of \"in\": keep one of the two", keyProperty.Value);
                return null;
            }

            string? text = keyProperty.Value.Kind == JsonKind.String ? keyProperty.Value.Text : null;
            string[] segments = text is null || text.Length == 0 ? new[] { string.Empty } : text.Split('.');
            if (Array.Exists(segments, segment => segment.Length == 0 || segment.IndexOf('*') >= 0 || segment.IndexOf('{') >= 0 || segment.IndexOf('}') >= 0))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"key\" is the path of the value that identifies an element, inside it, as in \"id\" or \"shipment.id\" (elements with equal keys are called once)", keyProperty.Value);
                return null;
            }

            key.AddRange(segments);
        }

        int concurrency = ReadCount(forEach.Value.Find("concurrency"), DefaultConcurrency, MaxConcurrency, "\"concurrency\" is how many calls run at a time", diagnostics);
        int maxItems = ReadCount(forEach.Value.Find("max_items"), DefaultMaxItems, MaxMaxItems, "\"max_items\" is the most elements the step runs over (an array with more fails the step)", diagnostics);
        string? joinAs = null;
        if (forEach.Value.Find("join_as") is { } joinProperty)
        {
            if (joinProperty.Value.Kind != JsonKind.String || string.IsNullOrEmpty(joinProperty.Value.Text))
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"join_as\" is the name under which each element of the array receives its result, as in \"shipment\"", joinProperty.Value);
                return null;
            }

            joinAs = joinProperty.Value.Text;
        }
        else if (group is null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "the results of a \"for_each\" step are collected as an array under the step's \"group\": give the backend a \"group\", or put each result into its element with \"join_as\"", forEach.Value);
            return null;
        }

        return concurrency == 0 || maxItems == 0 ? null : new StepForEachModel(array, EquatableArray.From(key), concurrency, maxItems, joinAs);
    }

    /// <summary>A whole number from 1 to <paramref name="max"/>; <paramref name="fallback"/> when absent, 0 after reporting a wrong one.</summary>
    private static int ReadCount(JsonProperty? property, int fallback, int max, string meaning, DiagnosticBag diagnostics)
    {
        if (property is null)
        {
            return fallback;
        }

        if (property.Value.Kind == JsonKind.Number && int.TryParse(property.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= 1 && value <= max)
        {
            return value;
        }

        diagnostics.Report(DiagnosticKind.InvalidValue, $"{meaning}: a whole number from 1 to {max.ToString(CultureInfo.InvariantCulture)}", property.Value);
        return 0;
    }

    private static readonly string[] ConditionOperators = { "exists", "equals", "not_equals", "in", "greater_than", "less_than" };

    /// <summary>
    /// Reads <c>when</c>: <c>{"value": "{placeholder}", OPERATOR: operand}</c> with exactly one operator. Comparisons are
    /// typed: <c>"1"</c> is not <c>1</c>; a client value (header, query, route parameter) is a string, so only strings
    /// compare with it and it has no order. The value may read only what the step may read (its dependencies).
    /// </summary>
    public static StepConditionModel? ReadCondition(ExtraConfig extra, ConfigReader read, TemplateParser templates, TemplateParser.Scope scope)
    {
        if (extra.Find(Namespace)?.Find("when") is not { } when)
        {
            return null;
        }

        DiagnosticBag diagnostics = read.Diagnostics;
        const string Shape = "an object such as {\"value\": \"{resp.user.type}\", \"equals\": \"member\"}";
        if (!read.Expect(when, JsonKind.Object, Shape))
        {
            return null;
        }

        var keys = new List<string>(ConditionOperators) { "value", Keys.Comment };
        read.CheckKeys(when.Value, "\"when\"", keys.ToArray(), Array.Empty<string>());
        JsonProperty? valueProperty = when.Value.Find("value");
        if (valueProperty is null || valueProperty.Value.Kind != JsonKind.String)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"when\" needs \"value\": the placeholder it tests, as in \"{resp.user.type}\"", valueProperty?.Value ?? when.Value);
            return null;
        }

        var operators = new List<JsonProperty>();
        foreach (JsonProperty property in when.Value.Properties!)
        {
            if (Array.IndexOf(ConditionOperators, property.Name) >= 0)
            {
                operators.Add(property);
            }
        }

        if (operators.Count != 1)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, $"\"when\" has one test: one of {string.Join(", ", ConditionOperators)}", operators.Count > 1 ? operators[1].Value : when.Value);
            return null;
        }

        if (scope.Sequential)
        {
            diagnostics.Report(DiagnosticKind.InvalidStepGraph, "a sequential endpoint calls every step in order; to skip a step on a condition, describe the order with \"depends_on\" and remove \"sequential\": true", when.Value);
            return null;
        }

        TemplatePartModel? value = templates.ParseConditionValue(valueProperty.Value.Text!, valueProperty.Value, scope);
        if (value is null)
        {
            return null;
        }

        if (value.Kind == TemplatePartKind.Item)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "a condition is tested once for the whole step, before it runs over its array: it cannot read {item}", valueProperty.Value);
            return null;
        }

        if (value.Kind is TemplatePartKind.WholeResponse or TemplatePartKind.ResponseHeader)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "a condition tests a value: a field of a response, a claim, a client header or query value, or a route parameter (not a whole body or a response header)", valueProperty.Value);
            return null;
        }

        bool text = value.Kind is not (TemplatePartKind.ResponseValue or TemplatePartKind.Claim);
        JsonProperty test = operators[0];
        JsonNode operand = test.Value;
        switch (test.Name)
        {
            case "exists":
                if (operand.Kind is not (JsonKind.True or JsonKind.False))
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, "\"exists\" is true (the step runs when the value is there and not null) or false (when it is not)", operand);
                    return null;
                }

                return new StepConditionModel(value, operand.Kind == JsonKind.True ? "exists" : "missing", EquatableArray<string>.Empty);
            case "greater_than":
            case "less_than":
                if (operand.Kind != JsonKind.Number)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"\"{test.Name}\" compares with a number", operand);
                    return null;
                }

                if (text)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, $"{valueProperty.Value.Text} is a client value, always a string: it has no order; compare it with \"equals\" or \"in\"", operand);
                    return null;
                }

                return new StepConditionModel(value, test.Name, new EquatableArray<string>(new[] { operand.Text! }));
            case "in":
                if (operand.Kind != JsonKind.Array || operand.Items!.Count == 0)
                {
                    diagnostics.Report(DiagnosticKind.InvalidValue, "\"in\" is a list of the values that let the step run, as in [\"gold\", \"silver\"]", operand);
                    return null;
                }

                var literals = new List<string>();
                foreach (JsonNode item in operand.Items!)
                {
                    if (Scalar(item, text, valueProperty.Value.Text!, diagnostics) is not { } literal)
                    {
                        return null;
                    }

                    literals.Add(literal);
                }

                return new StepConditionModel(value, "in", EquatableArray.From(literals));
            default:
                return Scalar(operand, text, valueProperty.Value.Text!, diagnostics) is { } single
                    ? new StepConditionModel(value, test.Name, new EquatableArray<string>(new[] { single }))
                    : null;
        }
    }

    /// <summary>A literal to compare with: a JSON scalar (a string only, for a client value), as compact JSON.</summary>
    private static string? Scalar(JsonNode node, bool text, string value, DiagnosticBag diagnostics)
    {
        if (node.Kind is JsonKind.Object or JsonKind.Array)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "a condition compares with a string, a number, true, false or null", node);
            return null;
        }

        if (text && node.Kind != JsonKind.String)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, $"{value} is a client value, always a string: compare it with a string (\"1\" is not 1)", node);
            return null;
        }

        return JsonText.Compact(node);
    }

    private static readonly string[] RetryKeys = { "max", "backoff", "unsafe", Keys.Comment };

    /// <summary>The most retries a step may ask for: more would only hold the client longer.</summary>
    public const int MaxRetries = 10;

    /// <summary>
    /// Reads <c>on_failure</c> (<c>fail</c>, the default: the steps that depend on this one are not called;
    /// <c>continue</c>: they are; <c>fallback</c>: <c>fallback</c>'s JSON object is this step's data when it fails).
    /// Null for the default.
    /// </summary>
    public static StepFailureModel? ReadFailure(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } step)
        {
            return null;
        }

        DiagnosticBag diagnostics = read.Diagnostics;
        string mode = "fail";
        JsonProperty? onFailure = step.Find("on_failure");
        if (onFailure is not null)
        {
            if (onFailure.Value.Kind == JsonKind.String && onFailure.Value.Text is "fail" or "continue" or "fallback")
            {
                mode = onFailure.Value.Text!;
            }
            else
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"on_failure\" is \"fail\" (the steps that depend on this one are not called), \"continue\" (they are) or \"fallback\" (\"fallback\" is its data instead)", onFailure.Value);
                return null;
            }
        }

        JsonProperty? fallback = step.Find("fallback");
        if (fallback is not null && onFailure is null)
        {
            mode = "fallback";
        }

        if (mode == "fallback")
        {
            if (fallback is null)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"on_failure\": \"fallback\" needs \"fallback\": the JSON object used as this step's data when it fails", onFailure!.Value);
                return null;
            }

            if (fallback.Value.Kind != JsonKind.Object)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"fallback\" is a JSON object: the step's data when it fails, as its response would be after its own filtering", fallback.Value);
                return null;
            }

            // As the step's own response after its filtering: the merge puts it under the step's group, as any response.
            return new StepFailureModel(false, JsonText.Compact(fallback.Value));
        }

        if (fallback is not null)
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, $"\"fallback\" is used only with \"on_failure\": \"fallback\", not \"{mode}\"", fallback);
        }

        return mode == "continue" ? new StepFailureModel(true, null) : null;
    }

    /// <summary>
    /// Reads <c>timeout</c> (one attempt's limit, a duration) and <c>retry</c> (<c>max</c> attempts after the first, 1 to
    /// 10; <c>backoff</c>, the first wait, 100ms by default, doubling; <c>unsafe</c>, required to retry a method that is
    /// not idempotent, since the backend may have acted on the failed attempt). Null when the step sets neither.
    /// </summary>
    public static StepPolicyModel? ReadPolicy(ExtraConfig extra, ConfigReader read, string method)
    {
        if (extra.Find(Namespace) is not { } step)
        {
            return null;
        }

        DiagnosticBag diagnostics = read.Diagnostics;
        long? timeout = null;
        if (step.Find("timeout") is { } timeoutProperty)
        {
            if (timeoutProperty.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(timeoutProperty.Value.Text!, out long milliseconds))
            {
                timeout = milliseconds;
            }
            else
            {
                diagnostics.Report(DiagnosticKind.InvalidDuration, "a step's \"timeout\" is a duration above zero, such as \"300ms\" or \"2s\"", timeoutProperty.Value);
            }
        }

        int retries = 0;
        long backoff = 100;
        if (step.Find("retry") is { } retry && read.Expect(retry, JsonKind.Object, "an object such as {\"max\": 2, \"backoff\": \"100ms\"}"))
        {
            read.CheckKeys(retry.Value, "\"retry\"", RetryKeys, Array.Empty<string>());
            if (retry.Value.Find("max") is not { } max)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, "\"retry\" needs \"max\": how many more attempts a failed one gets (1 to 10)", retry.Value);
            }
            else if (max.Value.Kind != JsonKind.Number || !int.TryParse(max.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out retries) || retries < 1 || retries > MaxRetries)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"\"max\" is how many more attempts a failed one gets: a whole number from 1 to {MaxRetries}", max.Value);
                retries = 0;
            }

            if (retry.Value.Find("backoff") is { } backoffProperty)
            {
                if (backoffProperty.Value.Kind == JsonKind.String && Durations.TryParseMilliseconds(backoffProperty.Value.Text!, out long milliseconds, allowZero: true))
                {
                    backoff = milliseconds;
                }
                else
                {
                    diagnostics.Report(DiagnosticKind.InvalidDuration, "\"backoff\" is the wait before the first retry, a duration such as \"100ms\" (each later wait doubles, up to 5s)", backoffProperty.Value);
                }
            }

            bool declaredUnsafe = read.ParseBool(retry.Value.Find("unsafe"));
            if (retries > 0 && !declaredUnsafe && Array.IndexOf(Gateway.Http.HttpRules.IdempotentMethods, method) < 0)
            {
                diagnostics.Report(DiagnosticKind.InvalidValue, $"a {method} step is not retried unless it says it is safe: the backend may have acted on the attempt that failed; add \"unsafe\": true to \"retry\" if repeating it is harmless", retry.Value);
            }
        }

        return timeout is null && retries == 0 ? null : new StepPolicyModel(timeout, retries, backoff);
    }

    /// <summary>Reads the namespace; returns <c>required</c>.</summary>
    public static bool ReadRequired(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } step)
        {
            return false;
        }

        read.CheckKeys(step, "\"gateway/step\"", Supported, Array.Empty<string>());
        return read.ParseBool(step.Find("required"));
    }

    /// <summary>
    /// Reads the endpoint's dependency graph from its backends' <c>gateway/step</c> (before the backends themselves are
    /// read, so that their placeholders can be checked against it). Null when no backend declares <c>depends_on</c>:
    /// the endpoint is parallel or sequential as KrakenD's. Every mistake is reported where it is written: an unknown
    /// or duplicate name, a step depending on itself, a cycle, a graph on a <c>sequential</c> endpoint.
    /// </summary>
    /// <param name="backends">The endpoint's backends as written.</param>
    /// <param name="sequential">Whether the endpoint is KrakenD's sequential proxy.</param>
    /// <param name="diagnostics">Where mistakes are reported.</param>
    /// <param name="names">The steps' ids and their indexes (for <c>{resp.id.field}</c> placeholders), graph or not.</param>
    public static StepGraph? ReadGraph(List<JsonNode> backends, bool sequential, DiagnosticBag diagnostics, out Dictionary<string, int> names)
    {
        int count = backends.Count;
        var steps = new JsonNode?[count];
        names = new Dictionary<string, int>(StringComparer.Ordinal);
        JsonNode? declared = null;
        for (int i = 0; i < count; i++)
        {
            if (backends[i].Find("extra_config") is { Value.Kind: JsonKind.Object } extra
                && extra.Value.Find(Namespace.Name) is { Value.Kind: JsonKind.Object } step)
            {
                steps[i] = step.Value;
                declared ??= step.Value.Find("depends_on")?.Value;
                if (step.Value.Find("id") is { } id)
                {
                    if (id.Value.Kind != JsonKind.String || string.IsNullOrEmpty(id.Value.Text) || IsIndex(id.Value.Text!))
                    {
                        diagnostics.Report(DiagnosticKind.InvalidStepGraph, "a step's \"id\" is a name such as \"user\" (not empty, not a number: steps are also known by their index)", id.Value);
                    }
                    else if (names.TryGetValue(id.Value.Text!, out int first))
                    {
                        diagnostics.Report(DiagnosticKind.InvalidStepGraph, $"the step id \"{id.Value.Text}\" is already the id of backend {first}; each step's id is unique in its endpoint", id.Value);
                    }
                    else
                    {
                        names.Add(id.Value.Text!, i);
                    }
                }
            }
        }

        if (declared is null)
        {
            return null;
        }

        if (sequential)
        {
            diagnostics.Report(DiagnosticKind.InvalidStepGraph, "\"depends_on\" describes the order of the steps itself; remove \"sequential\": true from the endpoint's proxy options (a chain is a graph where each step depends on the one before)", declared);
            return StepGraph.Invalid(count);
        }

        int errorsBefore = diagnostics.ErrorCount;
        var dependsOn = new List<int>[count];
        for (int i = 0; i < count; i++)
        {
            dependsOn[i] = new List<int>();
            if (steps[i]?.Find("depends_on") is not { } property)
            {
                continue;
            }

            if (property.Value.Kind != JsonKind.Array)
            {
                diagnostics.Report(DiagnosticKind.InvalidStepGraph, "\"depends_on\" is a list of the steps this one waits for: their ids or indexes, as in [\"user\", 2]", property.Value);
                continue;
            }

            foreach (JsonNode item in property.Value.Items!)
            {
                int? target = Resolve(item, names, count, diagnostics);
                if (target is not { } m)
                {
                    continue;
                }

                if (m == i)
                {
                    diagnostics.Report(DiagnosticKind.InvalidStepGraph, $"backend {i} depends on itself", item);
                }
                else if (dependsOn[i].Contains(m))
                {
                    diagnostics.Report(DiagnosticKind.InvalidStepGraph, $"backend {m} is listed twice in \"depends_on\"", item);
                }
                else
                {
                    dependsOn[i].Add(m);
                }
            }

            dependsOn[i].Sort();
        }

        if (diagnostics.ErrorCount > errorsBefore)
        {
            return StepGraph.Invalid(count);
        }

        // Ancestors by depth-first search; a step met again while it is being visited closes a cycle.
        var ancestors = new bool[count][];
        var state = new int[count]; // 0 unvisited, 1 visiting, 2 done
        for (int i = 0; i < count; i++)
        {
            var path = new List<int>();
            if (!Visit(i, dependsOn, ancestors, state, path))
            {
                Dictionary<string, int> ids = names;
                string cycle = string.Join(" → ", path.ConvertAll(n => Describe(n, ids)));
                diagnostics.Report(DiagnosticKind.InvalidStepGraph, $"the steps depend on each other in a cycle ({cycle}): no step of it could ever start", steps[path[0]]?.Find("depends_on")?.Value ?? backends[path[0]]);
                return StepGraph.Invalid(count);
            }
        }

        return new StepGraph(dependsOn, ancestors);
    }

    private static bool Visit(int n, List<int>[] dependsOn, bool[][] ancestors, int[] state, List<int> path)
    {
        if (state[n] == 2)
        {
            return true;
        }

        if (state[n] == 1)
        {
            int start = path.IndexOf(n);
            path.RemoveRange(0, start);
            path.Add(n);
            return false;
        }

        state[n] = 1;
        path.Add(n);
        var mine = new bool[dependsOn.Length];
        foreach (int m in dependsOn[n])
        {
            if (!Visit(m, dependsOn, ancestors, state, path))
            {
                return false;
            }

            mine[m] = true;
            for (int k = 0; k < mine.Length; k++)
            {
                mine[k] |= ancestors[m][k];
            }
        }

        path.RemoveAt(path.Count - 1);
        ancestors[n] = mine;
        state[n] = 2;
        return true;
    }

    /// <summary>A step named by its id or its index; null after reporting an unknown one.</summary>
    internal static int? Resolve(JsonNode item, Dictionary<string, int> names, int count, DiagnosticBag diagnostics)
    {
        if (item.Kind == JsonKind.Number && int.TryParse(item.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            if (index < count)
            {
                return index;
            }

            diagnostics.Report(DiagnosticKind.InvalidStepGraph, $"there is no backend {index}: the endpoint has {count} (0 to {count - 1})", item);
            return null;
        }

        if (item.Kind == JsonKind.String && names.TryGetValue(item.Text!, out int named))
        {
            return named;
        }

        string known = names.Count == 0 ? "no step has an \"id\"" : "the ids are " + string.Join(", ", SortedNames(names));
        diagnostics.Report(DiagnosticKind.InvalidStepGraph, item.Kind == JsonKind.String
            ? $"no step has the id \"{item.Text}\" ({known}); name a step with \"id\" in its \"gateway/step\", or use its index"
            : "a dependency is a step's id (a string) or its index (a whole number from 0)", item);
        return null;
    }

    /// <summary>The steps' ids, quoted and in order, for messages that list them.</summary>
    internal static List<string> SortedNames(Dictionary<string, int> names)
    {
        var sorted = new List<string>();
        foreach (string name in names.Keys)
        {
            sorted.Add("\"" + name + "\"");
        }

        sorted.Sort(StringComparer.Ordinal);
        return sorted;
    }

    private static string Describe(int n, Dictionary<string, int> names)
    {
        foreach (KeyValuePair<string, int> pair in names)
        {
            if (pair.Value == n)
            {
                return $"backend {n} \"{pair.Key}\"";
            }
        }

        return "backend " + n.ToString(CultureInfo.InvariantCulture);
    }

    private static bool IsIndex(string text)
    {
        foreach (char c in text)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// The gateway's own <c>gateway/flow</c> namespace on an endpoint (docs/configuration.md, dependency graphs):
/// <c>server_timing</c> adds a <c>Server-Timing</c> header with one entry per step (its id or index, duration and
/// outcome), so that browser tools show the steps' timing. Off by default: it reveals how long each backend takes.
/// </summary>
internal static class FlowConfig
{
    public static readonly ConfigNamespace Namespace = new("gateway/flow", ConfigScope.Endpoint);

    private static readonly string[] Supported = { "server_timing", "deadline_status", "pass_through", Keys.Comment };

    private static readonly string[] PassThroughKeys = { "step", "status", "headers", Keys.Comment };

    /// <summary>
    /// Reads <c>pass_through</c>: <c>{"step": "user", "status": true, "headers": ["ETag"]}</c>, the step whose HTTP status
    /// and listed response headers the client receives. The step is an id or an index; not a <c>for_each</c> step (it has
    /// one status per element), and not on a <c>no-op</c> endpoint (which passes everything already). Null when absent
    /// or after reporting why it cannot be.
    /// </summary>
    public static PassThroughModel? ReadPassThrough(ExtraConfig extra, ConfigReader read, Dictionary<string, int> stepIds, List<JsonNode> backends, string outputEncoding)
    {
        if (extra.Find(Namespace)?.Find("pass_through") is not { } passThrough)
        {
            return null;
        }

        DiagnosticBag diagnostics = read.Diagnostics;
        if (!read.Expect(passThrough, JsonKind.Object, "an object such as {\"step\": \"user\", \"status\": true, \"headers\": [\"ETag\"]}"))
        {
            return null;
        }

        int errorsBefore = diagnostics.ErrorCount;
        read.CheckKeys(passThrough.Value, "\"pass_through\"", PassThroughKeys, Array.Empty<string>());
        if (outputEncoding == "no-op")
        {
            diagnostics.ReportAtKey(DiagnosticKind.NoEffect, "\"pass_through\" has no effect with output_encoding \"no-op\": the backend's status and headers reach the client as they are", passThrough);
            return null;
        }

        if (passThrough.Value.Find("step") is not { } stepProperty)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "\"pass_through\" needs \"step\": the id or index of the step whose status and headers the client receives", passThrough.Value);
            return null;
        }

        int? step = StepConfig.Resolve(stepProperty.Value, stepIds, backends.Count, diagnostics);
        if (step is { } chosen && backends[chosen].Kind == JsonKind.Object
            && backends[chosen].Find("extra_config")?.Value is { Kind: JsonKind.Object } backendExtra
            && backendExtra.Find(StepConfig.Namespace.Name)?.Value is { Kind: JsonKind.Object } stepOptions
            && stepOptions.Find("for_each") is not null)
        {
            diagnostics.Report(DiagnosticKind.InvalidValue, "a \"for_each\" step answers once per element, with a status each: pass through a step that is called once", stepProperty.Value);
            return null;
        }

        bool status = read.ParseBool(passThrough.Value.Find("status"));
        List<string> headers = passThrough.Value.Find("headers") is { } headersProperty
            ? Components.ResponseHeaders.ResponseHeadersConfig.ReadNames(headersProperty, read)
            : new List<string>();
        if (step is null || diagnostics.ErrorCount > errorsBefore)
        {
            return null;
        }

        if (!status && headers.Count == 0)
        {
            diagnostics.Report(DiagnosticKind.NoEffect, "\"pass_through\" passes nothing: set \"status\": true, list \"headers\", or both", passThrough.Value);
            return null;
        }

        return new PassThroughModel(step.Value, status, EquatableArray.From(headers));
    }

    /// <summary>Reads the namespace; returns <c>server_timing</c>.</summary>
    public static bool ReadServerTiming(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace) is not { } flow)
        {
            return false;
        }

        read.CheckKeys(flow, "\"gateway/flow\"", Supported, Array.Empty<string>());
        return read.ParseBool(flow.Find("server_timing"));
    }

    /// <summary>
    /// Reads <c>deadline_status</c>: the status answered, without data, when the endpoint's <c>timeout</c> ran out before
    /// every step answered (504 is the usual choice); null keeps KrakenD's answer (what arrived in time, incomplete).
    /// </summary>
    public static int? ReadDeadlineStatus(ExtraConfig extra, ConfigReader read)
    {
        if (extra.Find(Namespace)?.Find("deadline_status") is not { } status)
        {
            return null;
        }

        if (status.Value.Kind == JsonKind.Number && int.TryParse(status.Value.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int code) && code >= 400 && code <= 599)
        {
            return code;
        }

        read.Diagnostics.Report(DiagnosticKind.InvalidValue, "\"deadline_status\" is the error status answered when the endpoint's timeout runs out, such as 504 (400 to 599)", status.Value);
        return null;
    }
}

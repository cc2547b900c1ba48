using System.Globalization;
using System.Text;
using Gateway.Components.Step;
using Gateway.Config.Model;
using Gateway.Config.Parsing;

namespace Gateway.Runtime.Hosting;

/// <summary>
/// <c>gateway check --explain</c>: each endpoint's plan as the build compiles it: its steps, what each waits for and
/// reads, its condition and failure policy, and the order in which the steps can run (each level starts when the one
/// before has answered; a step actually starts the moment its own dependencies have).
/// </summary>
internal static class PlanWriter
{
    public static void Write(GatewayModel model, TextWriter output)
    {
        foreach (EndpointModel endpoint in model.Endpoints)
        {
            output.WriteLine(Describe(endpoint));
        }
    }

    internal static string Describe(EndpointModel endpoint)
    {
        var text = new StringBuilder();
        bool graph = !endpoint.Sequential && endpoint.Backends.Any(b => b.DependsOn.Count > 0 || b.When is not null || b.ForEach is not null);
        string shape = endpoint.Backends.Count == 1 ? "one backend" : endpoint.Sequential ? "sequential" : graph ? "dependency graph" : "parallel";
        text.Append(CultureInfo.InvariantCulture, $"{endpoint.Method} {endpoint.Path}: {shape}, {endpoint.Backends.Count} step(s), within {endpoint.TimeoutMilliseconds} ms\n");
        for (int i = 0; i < endpoint.Backends.Count; i++)
        {
            BackendModel backend = endpoint.Backends[i];
            var notes = new List<string>();
            if (endpoint.Sequential)
            {
                notes.Add(i == 0 ? "first" : $"after {Name(endpoint, i - 1)}");
            }
            else
            {
                notes.Add(backend.DependsOn.Count == 0 ? "at once" : "after " + string.Join(", ", backend.DependsOn.Select(m => Name(endpoint, m))));
            }

            List<int> reads = ConfigParser.ResponsesRead(backend);
            if (reads.Count > 0)
            {
                notes.Add("reads " + string.Join(", ", reads.Select(m => Name(endpoint, m))));
            }

            if (backend.When is { } when)
            {
                notes.Add($"when {{{when.Value.Text}}} {when.Operator.Replace('_', ' ')}{(when.Literals.Count == 0 ? string.Empty : " " + string.Join(", ", when.Literals))}");
            }

            if (backend.ForEach is { } forEach)
            {
                string key = forEach.Key.Count == 0 ? string.Empty : $" by {string.Join(".", forEach.Key)}";
                string into = forEach.JoinAs is null ? "collected" : $"joined as \"{forEach.JoinAs}\"";
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"for each of {{{forEach.Array.Text}}}{key}, {forEach.Concurrency} at a time, at most {forEach.MaxItems}, {into}"));
            }

            if (endpoint.PassThrough is { } passed && passed.Step == i)
            {
                var what = new List<string>();
                if (passed.Status)
                {
                    what.Add("its status");
                }

                if (passed.Headers.Count > 0)
                {
                    what.Add(string.Join(", ", passed.Headers));
                }

                notes.Add("passes " + string.Join(" and ", what) + " to the client");
            }

            if (backend.Policy is { } policy)
            {
                if (policy.TimeoutMilliseconds is { } timeout)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"timeout {timeout} ms"));
                }

                if (policy.Retries > 0)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"retry {policy.Retries}x from {policy.BackoffMilliseconds} ms"));
                }
            }

            if (backend.OnFailure is { } failure)
            {
                notes.Add(failure.Continue ? "on failure: dependants continue" : "on failure: fallback");
            }

            if (backend.Required)
            {
                notes.Add("required");
            }

            text.Append(CultureInfo.InvariantCulture, $"  {i} {Name(endpoint, i)}: {backend.Method} {backend.UrlPattern} ({string.Join("; ", notes)})\n");
        }

        if (graph)
        {
            text.Append("  runs as: ").Append(string.Join(" -> ", Levels(endpoint).Select(level => "[" + string.Join(", ", level.Select(m => Name(endpoint, m))) + "]"))).Append('\n');
        }

        return text.ToString();
    }

    private static string Name(EndpointModel endpoint, int index) =>
        endpoint.Backends[index].StepId ?? "backend" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The steps by depth in the graph: a step's level is one more than its deepest dependency's.</summary>
    private static List<List<int>> Levels(EndpointModel endpoint)
    {
        int count = endpoint.Backends.Count;
        var level = new int[count];
        for (int pass = 0; pass < count; pass++)
        {
            for (int i = 0; i < count; i++)
            {
                foreach (int m in endpoint.Backends[i].DependsOn)
                {
                    level[i] = Math.Max(level[i], level[m] + 1);
                }
            }
        }

        var levels = new List<List<int>>();
        for (int depth = 0; depth <= (count == 0 ? -1 : level.Max()); depth++)
        {
            levels.Add(Enumerable.Range(0, count).Where(i => level[i] == depth).ToList());
        }

        return levels;
    }
}

using System.Reflection;
using Gateway.Config.Model;
using Microsoft.CodeAnalysis;

namespace Gateway.Generator.Tests;

/// <summary>The generator re-does work only when the configuration's meaning changes.</summary>
public class IncrementalTests
{
    private const string Original = """
        {
          "version": 3,
          "host": ["http://127.0.0.1:9000"],
          "endpoints": [
            {"endpoint": "/a/{id}", "backend": [{"url_pattern": "/x/{id}"}, {"url_pattern": "/y/{resp0_z}"}], "extra_config": {"proxy": {"sequential": true}}}
          ]
        }
        """;

    // Same meaning: re-indented, and a comment key added.
    private const string Reformatted = """
        {"version": 3,   "host": ["http://127.0.0.1:9000"],
          "@comment": "formatting only",
          "endpoints": [
            {
              "endpoint": "/a/{id}",
              "backend": [
                {"url_pattern": "/x/{id}", "@comment": "first"},
                {"url_pattern": "/y/{resp0_z}"}
              ],
              "extra_config": {"proxy": {"sequential": true}}
            }
          ]
        }
        """;

    [Fact]
    public void Regenerate_WhitespaceAndCommentEdit_ModelUnchangedAndNothingReEmitted()
    {
        var before = new GeneratorHarness.InMemoryAdditionalText(GeneratorHarness.ConfigPath, Original);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before);
        driver = driver.RunGenerators(GeneratorHarness.CreateCompilation());

        driver = driver.ReplaceAdditionalText(before, new GeneratorHarness.InMemoryAdditionalText(GeneratorHarness.ConfigPath, Reformatted));
        GeneratorRunResult result = driver.RunGenerators(GeneratorHarness.CreateCompilation()).GetRunResult().Results[0];

        Assert.Empty(result.Diagnostics);
        // The text changed, but the parse result (model and position-free diagnostics) compares equal.
        IncrementalGeneratorRunStep parse = Assert.Single(result.TrackedSteps[GatewayGenerator.Steps.Parse]);
        Assert.Equal(IncrementalStepRunReason.Modified, parse.Inputs[0].Source.Outputs[parse.Inputs[0].OutputIndex].Reason);
        Assert.Equal(IncrementalStepRunReason.Unchanged, parse.Outputs[0].Reason);
        IncrementalGeneratorRunStep model = Assert.Single(result.TrackedSteps[GatewayGenerator.Steps.Model]);
        Assert.True(model.Outputs[0].Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, model.Outputs[0].Reason.ToString());
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void Regenerate_MeaningfulEdit_ModelModified()
    {
        var before = new GeneratorHarness.InMemoryAdditionalText(GeneratorHarness.ConfigPath, Original);
        GeneratorDriver driver = GeneratorHarness.CreateDriver(before).RunGenerators(GeneratorHarness.CreateCompilation());

        driver = driver.ReplaceAdditionalText(before, new GeneratorHarness.InMemoryAdditionalText(GeneratorHarness.ConfigPath, Original.Replace("/x/{id}", "/x2/{id}", StringComparison.Ordinal)));
        GeneratorRunResult result = driver.RunGenerators(GeneratorHarness.CreateCompilation()).GetRunResult().Results[0];

        IncrementalGeneratorRunStep model = Assert.Single(result.TrackedSteps[GatewayGenerator.Steps.Model]);
        Assert.Equal(IncrementalStepRunReason.Modified, model.Outputs[0].Reason);
    }

    [Fact]
    public void Model_ReachableTypes_ContainNoRoslynObjects()
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>(new[] { typeof(GatewayModel) });
        while (pending.Count > 0)
        {
            Type type = pending.Pop();
            if (!seen.Add(type))
            {
                continue;
            }

            Assert.False(type.Assembly.GetName().Name!.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal), $"{type} is a Roslyn type");
            if (type.IsGenericType)
            {
                foreach (Type argument in type.GetGenericArguments())
                {
                    pending.Push(argument);
                }
            }

            if (type.Namespace?.StartsWith("Gateway", StringComparison.Ordinal) == true)
            {
                foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
                {
                    pending.Push(field.FieldType.IsArray ? field.FieldType.GetElementType()! : field.FieldType);
                }
            }
        }

        Assert.Contains(typeof(TemplatePartModel), seen);
    }
}

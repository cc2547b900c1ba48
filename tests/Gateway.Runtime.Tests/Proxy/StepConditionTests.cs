using System.Text;
using Gateway.Runtime.Json;
using Gateway.Runtime.Proxy;

namespace Gateway.Runtime.Tests.Proxy;

public class StepConditionTests
{
    private const string Document = """{"id": 7, "price": 10.50, "code": "1", "name": "A\u00f1a \"x\"", "vip": true, "none": null, "tags": ["a"]}""";

    [Theory]
    [InlineData("id", "equals", "7", true)]
    [InlineData("id", "equals", "7.0", true)]
    [InlineData("id", "equals", "\"7\"", false)]
    [InlineData("code", "equals", "1", false)]
    [InlineData("code", "equals", "\"1\"", true)]
    [InlineData("name", "equals", "\"Aña \\\"x\\\"\"", true)]
    [InlineData("vip", "equals", "true", true)]
    [InlineData("vip", "equals", "\"true\"", false)]
    [InlineData("price", "greater_than", "10.4", true)]
    [InlineData("price", "less_than", "10.5", false)]
    [InlineData("code", "greater_than", "0", false)]
    [InlineData("id", "not_equals", "8", true)]
    [InlineData("missing", "not_equals", "8", true)]
    [InlineData("none", "exists", null, false)]
    [InlineData("none", "missing", null, true)]
    [InlineData("tags", "exists", null, true)]
    [InlineData("tags", "equals", "\"a\"", false)]
    public void Test_JsonValue_IsTyped(string field, string op, string? literal, bool expected)
    {
        var condition = literal is null ? new StepCondition(op) : new StepCondition(op, literal);

        Assert.Equal(expected, condition.Test(Encoding.UTF8.GetBytes(Document), new JsonPath(Encoding.UTF8.GetBytes(field))));
    }

    [Fact]
    public void Test_In_AnyOfTheLiterals()
    {
        var condition = new StepCondition("in", "\"gold\"", "7");
        byte[] json = Encoding.UTF8.GetBytes(Document);

        Assert.True(condition.Test(json, new JsonPath("id"u8.ToArray())));
        Assert.False(condition.Test(json, new JsonPath("code"u8.ToArray())));
        Assert.False(condition.Test(json, new JsonPath("absent"u8.ToArray())));
    }

    [Theory]
    [InlineData("exists", null, null, false)]
    [InlineData("exists", "", null, true)]
    [InlineData("missing", null, null, true)]
    [InlineData("equals", "yes", "\"yes\"", true)]
    [InlineData("equals", "Yes", "\"yes\"", false)]
    [InlineData("not_equals", null, "\"yes\"", true)]
    public void Test_ClientValue_AsText(string op, string? value, string? literal, bool expected)
    {
        var condition = literal is null ? new StepCondition(op) : new StepCondition(op, literal);

        Assert.Equal(expected, condition.Test(value));
    }

    [Fact]
    public void Test_NotJson_False()
    {
        Assert.False(new StepCondition("exists").Test("not json"u8, new JsonPath("id"u8.ToArray())));
    }
}

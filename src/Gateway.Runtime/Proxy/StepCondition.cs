using System.Text.Json;
using Gateway.Runtime.Json;

namespace Gateway.Runtime.Proxy;

/// <summary>
/// A step's condition (<c>gateway/step.when</c>; docs/configuration.md): whether the step runs, from a value of a
/// response or of the client's request. Comparisons are typed: the string <c>"1"</c> is not the number <c>1</c>. The
/// literals are parsed once, when the gateway starts; a test reads the value where it lies, without copying the body.
/// </summary>
public sealed class StepCondition
{
    private readonly string _operator;
    private readonly JsonElement[] _literals;

    /// <param name="op"><c>exists</c>, <c>missing</c>, <c>equals</c>, <c>not_equals</c>, <c>in</c>, <c>greater_than</c> or <c>less_than</c>.</param>
    /// <param name="literals">The operands as JSON scalars (none for <c>exists</c> and <c>missing</c>).</param>
    public StepCondition(string op, params string[] literals)
    {
        ArgumentNullException.ThrowIfNull(literals);
        _operator = op;
        _literals = Array.ConvertAll(literals, literal =>
        {
            using JsonDocument document = JsonDocument.Parse(literal);
            return document.RootElement.Clone();
        });
    }

    /// <summary>Tests the JSON value at <paramref name="path"/> in <paramref name="json"/> (a response, the token's claims).</summary>
    public bool Test(ReadOnlySpan<byte> json, JsonPath path)
    {
        bool found = JsonValueLocator.TryLocate(json, path, out JsonValueRange range) && range.Kind != JsonTokenType.Null;
        ReadOnlySpan<byte> raw = found ? json.Slice(range.Start, range.Length) : default;
        return _operator switch
        {
            "exists" => found,
            "missing" => !found,
            "equals" => found && Equal(raw, _literals[0]),
            "not_equals" => !(found && Equal(raw, _literals[0])),
            "in" => found && In(raw),
            "greater_than" => found && Number(raw) is { } above && above > _literals[0].GetDouble(),
            "less_than" => found && Number(raw) is { } below && below < _literals[0].GetDouble(),
            _ => false,
        };
    }

    /// <summary>Tests a client value (a header, a query value, a route parameter): a string, or null when absent.</summary>
    public bool Test(string? value) => _operator switch
    {
        "exists" => value is not null,
        "missing" => value is null,
        "equals" => value is not null && value == _literals[0].GetString(),
        "not_equals" => value is null || value != _literals[0].GetString(),
        "in" => value is not null && Array.Exists(_literals, literal => value == literal.GetString()),
        _ => false,
    };

    /// <summary>Typed equality of one raw JSON value and a literal: same kind, same value (numbers by value, strings unescaped).</summary>
    private static bool Equal(ReadOnlySpan<byte> raw, JsonElement literal)
    {
        var reader = new Utf8JsonReader(raw);
        if (!reader.Read())
        {
            return false;
        }

        return reader.TokenType switch
        {
            JsonTokenType.String => literal.ValueKind == JsonValueKind.String && reader.ValueTextEquals(literal.GetString()),
            JsonTokenType.Number => literal.ValueKind == JsonValueKind.Number
                && (reader.TryGetDecimal(out decimal a) && literal.TryGetDecimal(out decimal b) ? a == b : reader.GetDouble() == literal.GetDouble()),
            JsonTokenType.True => literal.ValueKind == JsonValueKind.True,
            JsonTokenType.False => literal.ValueKind == JsonValueKind.False,
            _ => false,
        };
    }

    private bool In(ReadOnlySpan<byte> raw)
    {
        foreach (JsonElement literal in _literals)
        {
            if (Equal(raw, literal))
            {
                return true;
            }
        }

        return false;
    }

    private static double? Number(ReadOnlySpan<byte> raw)
    {
        var reader = new Utf8JsonReader(raw);
        return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out double value) ? value : null;
    }
}

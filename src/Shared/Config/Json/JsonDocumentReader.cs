using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Gateway.Config.Json;

/// <summary>A syntax error: what is wrong and the offset of the offending character.</summary>
internal sealed class JsonSyntaxError
{
    public JsonSyntaxError(string message, int offset)
    {
        Message = message;
        Offset = offset;
    }

    public string Message { get; }

    public int Offset { get; }
}

/// <summary>
/// A small, strict JSON (RFC 8259) reader that remembers where every value and member name was written.
/// It never throws on input: any fault becomes a <see cref="JsonSyntaxError"/> at the offending offset.
/// Nesting is bounded so a hostile file cannot exhaust the stack.
/// </summary>
internal sealed class JsonDocumentReader
{
    public const int MaxDepth = 64;

    private readonly string _text;
    private int _pos;
    private JsonSyntaxError? _error;

    private JsonDocumentReader(string text) => _text = text;

    public static JsonNode? Read(string text, out JsonSyntaxError? error)
    {
        var reader = new JsonDocumentReader(text);
        JsonNode? root = reader.ReadDocument();
        error = reader._error;
        return error is null ? root : null;
    }

    private JsonNode? ReadDocument()
    {
        // A UTF-8 byte order mark may survive decoding as U+FEFF.
        if (_text.Length > 0 && _text[0] == '\uFEFF')
        {
            _pos = 1;
        }

        SkipWhitespace();
        if (_pos >= _text.Length)
        {
            return Fail("the file is empty; expected a JSON object", _pos);
        }

        JsonNode? root = ReadValue(0);
        if (root is null)
        {
            return null;
        }

        SkipWhitespace();
        if (_pos < _text.Length)
        {
            return Fail($"unexpected '{Printable(_text[_pos])}' after the end of the document", _pos);
        }

        return root;
    }

    private JsonNode? ReadValue(int depth)
    {
        if (_pos >= _text.Length)
        {
            return Fail("unexpected end of file; expected a value", _pos);
        }

        char c = _text[_pos];
        switch (c)
        {
            case '{':
                return ReadObject(depth + 1);
            case '[':
                return ReadArray(depth + 1);
            case '"':
                int start = _pos;
                string? s = ReadString();
                return s is null ? null : JsonNode.CreateString(start, _pos - start, s);
            case 't':
                return ReadLiteral("true", JsonKind.True);
            case 'f':
                return ReadLiteral("false", JsonKind.False);
            case 'n':
                return ReadLiteral("null", JsonKind.Null);
            default:
                if (c == '-' || (c >= '0' && c <= '9'))
                {
                    return ReadNumber();
                }

                return Fail($"unexpected '{Printable(c)}'; expected a value", _pos);
        }
    }

    private JsonNode? ReadObject(int depth)
    {
        if (depth > MaxDepth)
        {
            return Fail($"nesting deeper than {MaxDepth} levels", _pos);
        }

        int start = _pos++;
        var properties = new List<JsonProperty>();
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            return JsonNode.CreateObject(start, _pos - start, properties);
        }

        while (true)
        {
            SkipWhitespace();
            if (Peek() != '"')
            {
                return _pos >= _text.Length
                    ? Fail("unexpected end of file inside an object", _pos)
                    : Fail($"unexpected '{Printable(_text[_pos])}'; expected a property name in double quotes", _pos);
            }

            int nameStart = _pos;
            string? name = ReadString();
            if (name is null)
            {
                return null;
            }

            int nameLength = _pos - nameStart;
            SkipWhitespace();
            if (Peek() != ':')
            {
                return Fail($"expected ':' after the property name \"{name}\"", _pos);
            }

            _pos++;
            SkipWhitespace();
            JsonNode? value = ReadValue(depth);
            if (value is null)
            {
                return null;
            }

            properties.Add(new JsonProperty(name, nameStart, nameLength, value));
            SkipWhitespace();
            char next = Peek();
            if (next == ',')
            {
                _pos++;
                continue;
            }

            if (next == '}')
            {
                _pos++;
                return JsonNode.CreateObject(start, _pos - start, properties);
            }

            return _pos >= _text.Length
                ? Fail("unexpected end of file; expected ',' or '}'", _pos)
                : Fail($"unexpected '{Printable(next)}'; expected ',' or '}}'", _pos);
        }
    }

    private JsonNode? ReadArray(int depth)
    {
        if (depth > MaxDepth)
        {
            return Fail($"nesting deeper than {MaxDepth} levels", _pos);
        }

        int start = _pos++;
        var items = new List<JsonNode>();
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            return JsonNode.CreateArray(start, _pos - start, items);
        }

        while (true)
        {
            SkipWhitespace();
            JsonNode? item = ReadValue(depth);
            if (item is null)
            {
                return null;
            }

            items.Add(item);
            SkipWhitespace();
            char next = Peek();
            if (next == ',')
            {
                _pos++;
                continue;
            }

            if (next == ']')
            {
                _pos++;
                return JsonNode.CreateArray(start, _pos - start, items);
            }

            return _pos >= _text.Length
                ? Fail("unexpected end of file; expected ',' or ']'", _pos)
                : Fail($"unexpected '{Printable(next)}'; expected ',' or ']'", _pos);
        }
    }

    /// <summary>Reads a string starting at the opening quote; leaves the position after the closing quote.</summary>
    private string? ReadString()
    {
        int open = _pos++;
        StringBuilder? builder = null;
        int runStart = _pos;
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c == '"')
            {
                string result = builder is null
                    ? _text.Substring(runStart, _pos - runStart)
                    : builder.Append(_text, runStart, _pos - runStart).ToString();
                _pos++;
                return result;
            }

            if (c < 0x20)
            {
                Fail(c == '\n' || c == '\r' ? "unterminated string (a line break must be written as \\n)" : "control character in a string; escape it", _pos);
                return null;
            }

            if (c != '\\')
            {
                _pos++;
                continue;
            }

            builder ??= new StringBuilder();
            builder.Append(_text, runStart, _pos - runStart);
            int escapeStart = _pos;
            _pos++;
            if (_pos >= _text.Length)
            {
                break;
            }

            char e = _text[_pos++];
            switch (e)
            {
                case '"': builder.Append('"'); break;
                case '\\': builder.Append('\\'); break;
                case '/': builder.Append('/'); break;
                case 'b': builder.Append('\b'); break;
                case 'f': builder.Append('\f'); break;
                case 'n': builder.Append('\n'); break;
                case 'r': builder.Append('\r'); break;
                case 't': builder.Append('\t'); break;
                case 'u':
                    if (_pos + 4 > _text.Length || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                    {
                        Fail("invalid \\u escape; expected four hexadecimal digits", escapeStart);
                        return null;
                    }

                    builder.Append((char)code);
                    _pos += 4;
                    break;
                default:
                    Fail($"invalid escape '\\{Printable(e)}' in a string", escapeStart);
                    return null;
            }

            runStart = _pos;
        }

        Fail("unterminated string", open);
        return null;
    }

    private JsonNode? ReadNumber()
    {
        int start = _pos;
        if (Peek() == '-')
        {
            _pos++;
        }

        if (Peek() == '0')
        {
            _pos++;
        }
        else if (IsDigit(Peek()))
        {
            while (IsDigit(Peek()))
            {
                _pos++;
            }
        }
        else
        {
            return Fail("invalid number; expected a digit", _pos);
        }

        if (Peek() == '.')
        {
            _pos++;
            if (!IsDigit(Peek()))
            {
                return Fail("invalid number; expected a digit after '.'", _pos);
            }

            while (IsDigit(Peek()))
            {
                _pos++;
            }
        }

        if (Peek() == 'e' || Peek() == 'E')
        {
            _pos++;
            if (Peek() == '+' || Peek() == '-')
            {
                _pos++;
            }

            if (!IsDigit(Peek()))
            {
                return Fail("invalid number; expected a digit in the exponent", _pos);
            }

            while (IsDigit(Peek()))
            {
                _pos++;
            }
        }

        if (IsDigit(Peek()))
        {
            return Fail("invalid number; leading zeros are not allowed", start);
        }

        return JsonNode.CreateNumber(start, _pos - start, _text.Substring(start, _pos - start));
    }

    private JsonNode? ReadLiteral(string word, JsonKind kind)
    {
        int start = _pos;
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
        {
            return Fail($"unexpected '{Printable(_text[_pos])}'; expected a value (strings need double quotes)", _pos);
        }

        _pos += word.Length;
        return JsonNode.CreateLiteral(kind, start, word.Length);
    }

    private void SkipWhitespace()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            {
                return;
            }

            _pos++;
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static string Printable(char c) => c < 0x20 || c == 0x7F ? $"\\u{(int)c:X4}" : c.ToString();

    private JsonNode? Fail(string message, int offset)
    {
        _error ??= new JsonSyntaxError(message, offset);
        return null;
    }
}

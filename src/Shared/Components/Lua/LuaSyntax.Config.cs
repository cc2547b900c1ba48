using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Gateway.Components.Lua;

/// <summary>A syntax error in a Lua script: where (an index into the script's text) and Lua's own wording.</summary>
internal sealed record LuaSyntaxError(int Index, int Line, string Message);

/// <summary>
/// A Lua 5.4 syntax checker, the grammar of the reference manual (§9) and the checks <c>luac</c> makes while it
/// compiles (<c>break</c> outside a loop, <c>goto</c> without a visible label, <c>...</c> outside a vararg function,
/// assignment to a <c>&lt;const&gt;</c> variable, attributes). It runs in the generator, where no native Lua can be
/// loaded, so every script of a configuration is checked by the build and by <c>gateway check</c>; the gateway compiles
/// each script again with the real Lua when it starts. It also collects the global names a script reads, so that a
/// script calling a standard function without <c>allow_open_libs</c> can be told about it.
/// </summary>
internal sealed class LuaSyntax
{
    private readonly string _text;
    private readonly HashSet<string> _globals = new(StringComparer.Ordinal);
    private int _pos;
    private int _scanStart = -1;
    private int _line = 1;

    // The current token.
    private Kind _kind;
    private string _value = string.Empty;
    private int _start;
    private int _tokenLine;

    // The token after it, when the grammar needs to look one further (a label, a method call).
    private bool _hasAhead;
    private Kind _aheadKind;
    private string _aheadValue = string.Empty;
    private int _aheadStart;
    private int _aheadLine;
    private int _aheadPos;
    private int _aheadPosLine;

    private FunctionScope _function = null!;

    private LuaSyntax(string text) => _text = text;

    private enum Kind
    {
        Eof,
        Name,
        Number,
        String,
        Keyword,
        Symbol,
    }

    /// <summary>Checks a whole chunk; null when it compiles.</summary>
    public static LuaSyntaxError? Check(string text) => Check(text, out _);

    /// <summary>Checks a whole chunk and returns the global names it reads or writes (empty after an error).</summary>
    public static LuaSyntaxError? Check(string text, out IReadOnlyCollection<string> globals)
    {
        var checker = new LuaSyntax(text);
        try
        {
            checker.Chunk();
            globals = checker._globals;
            return null;
        }
        catch (SyntaxException e)
        {
            globals = Array.Empty<string>();
            return e.Error;
        }
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
        "not", "or", "repeat", "return", "then", "true", "until", "while",
    };

    // ---------------------------------------------------------------- grammar

    private void Chunk()
    {
        _function = new FunctionScope(null, isVararg: true);
        OpenBlock(loop: false);
        Next();
        Block();
        if (_kind != Kind.Eof)
        {
            throw Error($"'<eof>' expected near {Near()}");
        }

        CloseBlock();
    }

    private static bool BlockFollows(Kind kind, string value, bool withUntil) =>
        kind == Kind.Eof || (kind == Kind.Keyword && (value is "else" or "elseif" or "end" || (withUntil && value == "until")));

    private void Block()
    {
        while (!BlockFollows(_kind, _value, withUntil: true))
        {
            if (IsKeyword("return"))
            {
                Next();
                if (!BlockFollows(_kind, _value, withUntil: true) && !IsSymbol(";"))
                {
                    ExpressionList();
                }

                TestNext(";");
                return;
            }

            Statement();
        }
    }

    private void Statement()
    {
        int line = _tokenLine;
        if (_kind == Kind.Symbol)
        {
            switch (_value)
            {
                case ";":
                    Next();
                    return;
                case "::":
                    Next();
                    Label(CheckName());
                    return;
            }
        }

        if (_kind == Kind.Keyword)
        {
            switch (_value)
            {
                case "if":
                    IfStatement(line);
                    return;
                case "while":
                    Next();
                    Expression();
                    CheckNext("do");
                    OpenBlock(loop: true);
                    Block();
                    CloseBlock();
                    CheckMatch("end", "while", line);
                    return;
                case "do":
                    Next();
                    OpenBlock(loop: false);
                    Block();
                    CloseBlock();
                    CheckMatch("end", "do", line);
                    return;
                case "for":
                    ForStatement(line);
                    return;
                case "repeat":
                    Next();
                    OpenBlock(loop: true);
                    Block();
                    CheckMatch("until", "repeat", line);
                    Expression(); // the condition sees the block's locals
                    CloseBlock();
                    return;
                case "function":
                    FunctionStatement(line);
                    return;
                case "local":
                    Next();
                    if (TestNext("function"))
                    {
                        string name = CheckName();
                        Declare(name, constant: false);
                        FunctionBody(isMethod: false, line);
                    }
                    else
                    {
                        LocalStatement();
                    }

                    return;
                case "return":
                    // Handled by Block; reaching here means "return" was not last.
                    throw Error($"'<eof>' expected near {Near()}");
                case "break":
                    Next();
                    if (!_function.Block.InLoop())
                    {
                        throw Error($"break outside a loop at line {line}", line);
                    }

                    return;
                case "goto":
                    Next();
                    _function.Block.Gotos.Add(new PendingGoto(CheckName(), line, _function.Block.ActiveLocals()));
                    return;
            }
        }

        ExpressionStatement();
    }

    private void IfStatement(int line)
    {
        Next();
        Expression();
        CheckNext("then");
        OpenBlock(loop: false);
        Block();
        CloseBlock();
        while (IsKeyword("elseif"))
        {
            Next();
            Expression();
            CheckNext("then");
            OpenBlock(loop: false);
            Block();
            CloseBlock();
        }

        if (TestNext("else"))
        {
            OpenBlock(loop: false);
            Block();
            CloseBlock();
        }

        CheckMatch("end", "if", line);
    }

    private void ForStatement(int line)
    {
        Next();
        string first = CheckName();
        OpenBlock(loop: true);
        if (IsSymbol("="))
        {
            Next();
            Expression();
            CheckNext(",");
            Expression();
            if (TestNext(","))
            {
                Expression();
            }

            CheckNext("do");
            Declare(first, constant: false);
        }
        else if (IsSymbol(",") || IsKeyword("in"))
        {
            var names = new List<string> { first };
            while (TestNext(","))
            {
                names.Add(CheckName());
            }

            CheckNext("in");
            ExpressionList();
            CheckNext("do");
            foreach (string name in names)
            {
                Declare(name, constant: false);
            }
        }
        else
        {
            throw Error($"'=' or 'in' expected near {Near()}");
        }

        OpenBlock(loop: false);
        Block();
        CloseBlock();
        CloseBlock();
        CheckMatch("end", "for", line);
    }

    private void FunctionStatement(int line)
    {
        Next();
        string name = CheckName();
        Use(name);
        if (!IsSymbol(".") && !IsSymbol(":"))
        {
            CheckAssignable(name);
        }

        bool isMethod = false;
        while (IsSymbol("."))
        {
            Next();
            CheckName();
        }

        if (IsSymbol(":"))
        {
            Next();
            CheckName();
            isMethod = true;
        }

        FunctionBody(isMethod, line);
    }

    private void LocalStatement()
    {
        var names = new List<(string Name, bool Constant)>();
        bool toBeClosed = false;
        do
        {
            string name = CheckName();
            bool constant = false;
            if (IsSymbol("<"))
            {
                Next();
                string attribute = CheckName();
                CheckNext(">");
                switch (attribute)
                {
                    case "const":
                        constant = true;
                        break;
                    case "close":
                        if (toBeClosed)
                        {
                            throw Error("multiple to-be-closed variables in local list");
                        }

                        toBeClosed = true;
                        constant = true;
                        break;
                    default:
                        throw Error($"unknown attribute '{attribute}'");
                }
            }

            names.Add((name, constant));
        }
        while (TestNext(","));

        if (TestNext("="))
        {
            ExpressionList();
        }

        // The names are visible only after the statement.
        foreach ((string name, bool constant) in names)
        {
            Declare(name, constant);
        }
    }

    private void Label(string name)
    {
        CheckNext("::");
        for (BlockScope? block = _function.Block; block is not null && block.Function == _function; block = block.Parent)
        {
            if (block.Labels.TryGetValue(name, out int defined))
            {
                throw Error($"label '{name}' already defined on line {defined}");
            }
        }

        _function.Block.Labels.Add(name, _tokenLine);
        _function.Block.LabelLocals.Add(name, _function.Block.ActiveLocals());
    }

    private void ExpressionStatement()
    {
        bool call = SuffixedExpression(out bool assignable, out string? target);
        if (IsSymbol("=") || IsSymbol(","))
        {
            if (!assignable)
            {
                throw Error($"syntax error near {Near()}");
            }

            CheckAssignable(target);
            while (TestNext(","))
            {
                SuffixedExpression(out bool more, out string? next);
                if (!more)
                {
                    throw Error($"syntax error near {Near()}");
                }

                CheckAssignable(next);
            }

            CheckNext("=");
            ExpressionList();
            return;
        }

        if (!call)
        {
            throw Error($"syntax error near {Near()}");
        }
    }

    private void ExpressionList()
    {
        Expression();
        while (TestNext(","))
        {
            Expression();
        }
    }

    private static readonly Dictionary<string, (int Left, int Right)> BinaryPriority = new(StringComparer.Ordinal)
    {
        ["or"] = (1, 1), ["and"] = (2, 2),
        ["<"] = (3, 3), [">"] = (3, 3), ["<="] = (3, 3), [">="] = (3, 3), ["~="] = (3, 3), ["=="] = (3, 3),
        ["|"] = (4, 4), ["~"] = (5, 5), ["&"] = (6, 6), ["<<"] = (7, 7), [">>"] = (7, 7),
        [".."] = (9, 8), ["+"] = (10, 10), ["-"] = (10, 10),
        ["*"] = (11, 11), ["/"] = (11, 11), ["//"] = (11, 11), ["%"] = (11, 11),
        ["^"] = (14, 13),
    };

    private const int UnaryPriority = 12;

    private void Expression(int limit = 0)
    {
        if (IsKeyword("not") || IsSymbol("-") || IsSymbol("#") || IsSymbol("~"))
        {
            Next();
            Expression(UnaryPriority);
        }
        else
        {
            SimpleExpression();
        }

        while ((_kind == Kind.Symbol || (_kind == Kind.Keyword && _value is "and" or "or"))
            && BinaryPriority.TryGetValue(_value, out (int Left, int Right) priority) && priority.Left > limit)
        {
            Next();
            Expression(priority.Right);
        }
    }

    private void SimpleExpression()
    {
        switch (_kind)
        {
            case Kind.Number:
            case Kind.String:
                Next();
                return;
            case Kind.Keyword when _value is "nil" or "true" or "false":
                Next();
                return;
            case Kind.Keyword when _value == "function":
                int line = _tokenLine;
                Next();
                FunctionBody(isMethod: false, line);
                return;
            case Kind.Symbol when _value == "...":
                if (!_function.IsVararg)
                {
                    throw Error("cannot use '...' outside a vararg function near '...'");
                }

                Next();
                return;
            case Kind.Symbol when _value == "{":
                TableConstructor();
                return;
            default:
                SuffixedExpression(out _, out _);
                return;
        }
    }

    /// <summary>
    /// A primary expression and its suffixes; true when it ends in a call. <paramref name="assignable"/> when it can be
    /// assigned to, <paramref name="name"/> when it is a bare name.
    /// </summary>
    private bool SuffixedExpression(out bool assignable, out string? name)
    {
        bool call = false;
        assignable = true;
        name = null;
        if (_kind == Kind.Name)
        {
            name = _value;
            Next();
            Use(name);
        }
        else if (IsSymbol("("))
        {
            int line = _tokenLine;
            Next();
            Expression();
            CheckMatch(")", "(", line);
            assignable = false;
        }
        else
        {
            throw Error($"unexpected symbol near {Near()}");
        }


        while (true)
        {
            if (IsSymbol("."))
            {
                Next();
                CheckName();
                assignable = true;
                call = false;
                name = null;
            }
            else if (IsSymbol("["))
            {
                Next();
                Expression();
                CheckNext("]");
                assignable = true;
                call = false;
                name = null;
            }
            else if (IsSymbol(":"))
            {
                Next();
                CheckName();
                CallArguments();
                assignable = false;
                call = true;
                name = null;
            }
            else if (IsSymbol("(") || IsSymbol("{") || _kind == Kind.String)
            {
                CallArguments();
                assignable = false;
                call = true;
                name = null;
            }
            else
            {
                return call;
            }
        }
    }

    private void CallArguments()
    {
        if (_kind == Kind.String)
        {
            Next();
            return;
        }

        if (IsSymbol("{"))
        {
            TableConstructor();
            return;
        }

        if (!IsSymbol("("))
        {
            throw Error($"function arguments expected near {Near()}");
        }

        int line = _tokenLine;
        Next();
        if (!IsSymbol(")"))
        {
            ExpressionList();
        }

        CheckMatch(")", "(", line);
    }

    private void TableConstructor()
    {
        int line = _tokenLine;
        CheckNext("{");
        while (!IsSymbol("}"))
        {
            if (_kind == Kind.Name && PeekIsSymbol("="))
            {
                Next();
                Next();
                Expression();
            }
            else if (IsSymbol("["))
            {
                Next();
                Expression();
                CheckNext("]");
                CheckNext("=");
                Expression();
            }
            else
            {
                Expression();
            }

            if (!TestNext(",") && !TestNext(";"))
            {
                break;
            }
        }

        CheckMatch("}", "{", line);
    }

    private void FunctionBody(bool isMethod, int line)
    {
        var enclosing = _function;
        _function = new FunctionScope(enclosing, isVararg: false);
        OpenBlock(loop: false);
        if (isMethod)
        {
            Declare("self", constant: false);
        }

        CheckNext("(");
        if (!IsSymbol(")"))
        {
            do
            {
                if (_kind == Kind.Name)
                {
                    Declare(CheckName(), constant: false);
                }
                else if (IsSymbol("..."))
                {
                    Next();
                    _function.IsVararg = true;
                    break;
                }
                else
                {
                    throw Error($"<name> expected near {Near()}");
                }
            }
            while (TestNext(","));
        }

        CheckNext(")");
        Block();
        CheckMatch("end", "function", line);
        CloseBlock();
        _function = enclosing;
    }

    // ---------------------------------------------------------------- scopes

    private void OpenBlock(bool loop) => _function.Block = new BlockScope(_function.Block, loop) { Function = _function };

    /// <summary>Closes a block: its gotos find a label in it, or move out to the enclosing block (Lua's rules).</summary>
    private void CloseBlock()
    {
        BlockScope block = _function.Block;
        foreach (PendingGoto pending in block.Gotos)
        {
            if (block.Labels.ContainsKey(pending.Label))
            {
                // A forward jump into the scope of a local declared after the goto, unless the label ends the block.
                int localsAtLabel = block.LabelLocals[pending.Label];
                if (localsAtLabel > pending.Locals && !block.LabelAtEnd(pending.Label))
                {
                    throw Error($"<goto {pending.Label}> at line {pending.Line} jumps into the scope of local '{block.LocalName(pending.Locals)}'", pending.Line);
                }

                continue;
            }

            if (block.Parent is null || block.Parent.Function != block.Function)
            {
                throw Error($"no visible label '{pending.Label}' for goto at line {pending.Line}", pending.Line);
            }

            block.Parent.Gotos.Add(pending with { Locals = block.Parent.ActiveLocals() });
        }

        _function.Block = block.Parent!;
    }

    private void Declare(string name, bool constant) => _function.Block.Locals.Add((name, constant, _tokenLine));

    private void Use(string name)
    {
        if (Find(name) is null)
        {
            _globals.Add(name);
        }
    }

    /// <summary>An assignment to a bare name: refused when it names a &lt;const&gt; or &lt;close&gt; local.</summary>
    private void CheckAssignable(string? name)
    {
        if (name is not null && Find(name) is { Constant: true })
        {
            throw Error($"attempt to assign to const variable '{name}'");
        }
    }

    /// <summary>The local (of this function or, as an upvalue, of an enclosing one) a name refers to; null for a global.</summary>
    private (string Name, bool Constant, int Line)? Find(string name)
    {
        for (FunctionScope? function = _function; function is not null; function = function.Parent)
        {
            for (BlockScope? block = function.Block; block is not null && block.Function == function; block = block.Parent)
            {
                for (int i = block.Locals.Count - 1; i >= 0; i--)
                {
                    if (block.Locals[i].Name == name)
                    {
                        return block.Locals[i];
                    }
                }
            }
        }

        return null;
    }

    private sealed class FunctionScope
    {
        public FunctionScope(FunctionScope? parent, bool isVararg)
        {
            Parent = parent;
            IsVararg = isVararg;
            Block = parent?.Block!;
        }

        public FunctionScope? Parent { get; }

        public bool IsVararg { get; set; }

        public BlockScope Block { get; set; }
    }

    private sealed record PendingGoto(string Label, int Line, int Locals);

    private sealed class BlockScope
    {
        private readonly bool _loop;

        public BlockScope(BlockScope? parent, bool loop)
        {
            Parent = parent;
            _loop = loop;
        }

        public BlockScope? Parent { get; }

        /// <summary>The function the block belongs to: a look-up that leaves it continues in the enclosing function, as an upvalue.</summary>
        public object? Function { get; init; }

        public List<(string Name, bool Constant, int Line)> Locals { get; } = new();

        public Dictionary<string, int> Labels { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, int> LabelLocals { get; } = new(StringComparer.Ordinal);

        public List<PendingGoto> Gotos { get; } = new();

        public int ActiveLocals() => Locals.Count;

        public string LocalName(int index) => index < Locals.Count ? Locals[index].Name : "?";

        /// <summary>
        /// True when no local was declared after the label. Lua allows a jump into a local's scope only to a label that
        /// ends the block; a label with a declaration after it is never one, so this never refuses what Lua accepts
        /// (the rarer cases are left to the compile at start-up).
        /// </summary>
        public bool LabelAtEnd(string label) => LabelLocals[label] == Locals.Count;

        public bool InLoop()
        {
            for (BlockScope? block = this; block is not null && block.Function == Function; block = block.Parent)
            {
                if (block._loop)
                {
                    return true;
                }
            }

            return false;
        }
    }

    // ---------------------------------------------------------------- tokens

    private bool IsKeyword(string keyword) => _kind == Kind.Keyword && _value == keyword;

    private bool IsSymbol(string symbol) => _kind == Kind.Symbol && _value == symbol;

    private bool TestNext(string token)
    {
        if ((_kind == Kind.Keyword || _kind == Kind.Symbol) && _value == token)
        {
            Next();
            return true;
        }

        return false;
    }

    private void CheckNext(string token)
    {
        if (!TestNext(token))
        {
            throw Error($"'{token}' expected near {Near()}");
        }
    }

    private void CheckMatch(string what, string who, int line)
    {
        if (TestNext(what))
        {
            return;
        }

        throw Error(line == _tokenLine
            ? $"'{what}' expected near {Near()}"
            : $"'{what}' expected (to close '{who}' at line {line}) near {Near()}");
    }

    private string CheckName()
    {
        if (_kind != Kind.Name)
        {
            throw Error($"<name> expected near {Near()}");
        }

        string name = _value;
        Next();
        return name;
    }

    private bool PeekIsSymbol(string symbol)
    {
        if (!_hasAhead)
        {
            int savedPos = _pos;
            int savedLine = _line;
            (Kind kind, string value, int start, int line) = Scan();
            _aheadKind = kind;
            _aheadValue = value;
            _aheadStart = start;
            _aheadLine = line;
            _aheadPos = _pos;
            _aheadPosLine = _line;
            _pos = savedPos;
            _line = savedLine;
            _hasAhead = true;
        }

        return _aheadKind == Kind.Symbol && _aheadValue == symbol;
    }

    private void Next()
    {
        if (_hasAhead)
        {
            _hasAhead = false;
            _kind = _aheadKind;
            _value = _aheadValue;
            _start = _aheadStart;
            _tokenLine = _aheadLine;
            _pos = _aheadPos;
            _line = _aheadPosLine;
            return;
        }

        (_kind, _value, _start, _tokenLine) = Scan();
    }

    /// <summary>The current token as Lua's messages quote it.</summary>
    private string Near() => _kind switch
    {
        Kind.Eof => "<eof>",
        Kind.String or Kind.Number => $"'{_text.Substring(_start, Math.Min(_pos - _start, 40))}'",
        _ => $"'{_value}'",
    };

    private static readonly string[] Symbols =
    {
        "...", "..", "::", "<<", ">>", "//", "==", "~=", "<=", ">=",
        "+", "-", "*", "/", "%", "^", "#", "&", "~", "|", "<", ">", "=", "(", ")", "{", "}", "[", "]", ";", ":", ",", ".",
    };

    private (Kind Kind, string Value, int Start, int Line) Scan()
    {
        try
        {
            return ScanToken();
        }
        finally
        {
            _scanStart = -1;
        }
    }

    private (Kind Kind, string Value, int Start, int Line) ScanToken()
    {
        while (true)
        {
            if (_pos >= _text.Length)
            {
                return (Kind.Eof, string.Empty, _pos, _line);
            }

            char c = _text[_pos];
            switch (c)
            {
                case '\n':
                case '\r':
                    NewLine();
                    continue;
                case ' ':
                case '\t':
                case '\f':
                case '\v':
                    _pos++;
                    continue;
                case '-' when Peek(1) == '-':
                    _scanStart = _pos;
                    _pos += 2;
                    if (Peek(0) == '[' && LongBracketLevel() is int level and >= 0)
                    {
                        LongString(level, "comment");
                    }
                    else
                    {
                        while (_pos < _text.Length && _text[_pos] != '\n' && _text[_pos] != '\r')
                        {
                            _pos++;
                        }
                    }

                    continue;
            }

            int start = _pos;
            int line = _line;
            _scanStart = start;
            if (c == '[' && LongBracketLevel() is int stringLevel and >= 0)
            {
                LongString(stringLevel, "string");
                return (Kind.String, string.Empty, start, line);
            }

            if (c == '[' && Peek(1) == '=')
            {
                // '[=' not followed by a complete opening bracket.
                _pos++;
                throw Error("invalid long string delimiter near '[='");
            }

            if (c is '"' or '\'')
            {
                ShortString(c);
                return (Kind.String, string.Empty, start, line);
            }

            if (IsDigit(c) || (c == '.' && IsDigit(Peek(1))))
            {
                NumberLiteral();
                return (Kind.Number, _text.Substring(start, _pos - start), start, line);
            }

            if (IsNameStart(c))
            {
                while (_pos < _text.Length && IsNamePart(_text[_pos]))
                {
                    _pos++;
                }

                string word = _text.Substring(start, _pos - start);
                return (Keywords.Contains(word) ? Kind.Keyword : Kind.Name, word, start, line);
            }

            foreach (string symbol in Symbols)
            {
                if (string.CompareOrdinal(_text, _pos, symbol, 0, symbol.Length) == 0)
                {
                    _pos += symbol.Length;
                    return (Kind.Symbol, symbol, start, line);
                }
            }

            _pos++;
            throw Error($"unexpected symbol near '{Printable(c)}'");
        }
    }

    private static string Printable(char c) => c < 0x20 || c == 0x7F ? $"<\\{(int)c}>" : c.ToString();

    private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private void NewLine()
    {
        char first = _text[_pos++];
        if (_pos < _text.Length && (_text[_pos] == '\n' || _text[_pos] == '\r') && _text[_pos] != first)
        {
            _pos++; // \r\n or \n\r
        }

        _line++;
    }

    /// <summary>At '[': the level of a long bracket <c>[==[</c>, or -1 when it is not one.</summary>
    private int LongBracketLevel()
    {
        int i = _pos + 1;
        int level = 0;
        while (i < _text.Length && _text[i] == '=')
        {
            level++;
            i++;
        }

        return i < _text.Length && _text[i] == '[' ? level : -1;
    }

    private void LongString(int level, string what)
    {
        int line = _line;
        _pos += level + 2;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error($"unfinished long {what} (starting at line {line}) near '<eof>'");
            }

            char c = _text[_pos];
            if (c == ']')
            {
                int i = _pos + 1;
                int closing = 0;
                while (i < _text.Length && _text[i] == '=')
                {
                    closing++;
                    i++;
                }

                if (closing == level && i < _text.Length && _text[i] == ']')
                {
                    _pos = i + 1;
                    return;
                }

                _pos++;
            }
            else if (c is '\n' or '\r')
            {
                NewLine();
            }
            else
            {
                _pos++;
            }
        }
    }

    private void ShortString(char quote)
    {
        int start = _pos;
        _pos++;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error($"unfinished string near '{_text.Substring(start, Math.Min(_pos - start, 40))}'");
            }

            char c = _text[_pos];
            if (c == quote)
            {
                _pos++;
                return;
            }

            if (c is '\n' or '\r')
            {
                throw Error($"unfinished string near '{_text.Substring(start, Math.Min(_pos - start, 40))}'");
            }

            if (c != '\\')
            {
                _pos++;
                continue;
            }

            _pos++;
            char escape = Peek(0);
            switch (escape)
            {
                case 'a':
                case 'b':
                case 'f':
                case 'n':
                case 'r':
                case 't':
                case 'v':
                case '\\':
                case '"':
                case '\'':
                    _pos++;
                    break;
                case '\n':
                case '\r':
                    NewLine();
                    break;
                case 'x':
                    _pos++;
                    for (int i = 0; i < 2; i++)
                    {
                        if (!IsHexDigit(Peek(0)))
                        {
                            throw Error($"hexadecimal digit expected near '{_text.Substring(start, Math.Min(_pos + 1 - start, 40))}'");
                        }

                        _pos++;
                    }

                    break;
                case 'z':
                    _pos++;
                    while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
                    {
                        if (_text[_pos] is '\n' or '\r')
                        {
                            NewLine();
                        }
                        else
                        {
                            _pos++;
                        }
                    }

                    break;
                case 'u':
                    UnicodeEscape(start);
                    break;
                default:
                    if (!IsDigit(escape))
                    {
                        if (_pos >= _text.Length)
                        {
                            throw Error($"unfinished string near '{_text.Substring(start, Math.Min(_pos - start, 40))}'");
                        }

                        throw Error($"invalid escape sequence near '{_text.Substring(start, Math.Min(_pos + 1 - start, 40))}'");
                    }

                    int value = 0;
                    for (int i = 0; i < 3 && IsDigit(Peek(0)); i++)
                    {
                        value = (value * 10) + (Peek(0) - '0');
                        _pos++;
                    }

                    if (value > 255)
                    {
                        throw Error($"decimal escape too large near '{_text.Substring(start, Math.Min(_pos - start, 40))}'");
                    }

                    break;
            }
        }
    }

    private void UnicodeEscape(int start)
    {
        _pos++;
        if (Peek(0) != '{')
        {
            throw Error($"missing '{{' in \\u{{xxxx}} near '{_text.Substring(start, Math.Min(_pos + 1 - start, 40))}'");
        }

        _pos++;
        long value = 0;
        int digits = 0;
        while (IsHexDigit(Peek(0)))
        {
            value = (value * 16) + HexValue(Peek(0));
            digits++;
            _pos++;
            if (value > 0x7FFFFFFFL)
            {
                throw Error($"UTF-8 value too large near '{_text.Substring(start, Math.Min(_pos - start, 40))}'");
            }
        }

        if (digits == 0)
        {
            throw Error($"hexadecimal digit expected near '{_text.Substring(start, Math.Min(_pos + 1 - start, 40))}'");
        }

        if (Peek(0) != '}')
        {
            throw Error($"missing '}}' in \\u{{xxxx}} near '{_text.Substring(start, Math.Min(_pos + 1 - start, 40))}'");
        }

        _pos++;
    }

    /// <summary>Reads a numeral as Lua's lexer does (greedily), then checks it is one.</summary>
    private void NumberLiteral()
    {
        int start = _pos;
        string exponent = "Ee";
        if (Peek(0) == '0' && (Peek(1) == 'x' || Peek(1) == 'X'))
        {
            _pos += 2;
            exponent = "Pp";
        }

        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (exponent.IndexOf(c) >= 0 && (Peek(1) == '+' || Peek(1) == '-'))
            {
                _pos += 2;
            }
            else if (IsHexDigit(c) || c == '.')
            {
                _pos++;
            }
            else
            {
                break;
            }
        }

        // Lua reads a numeral followed by a letter or '_' as one malformed token ("3x").
        while (_pos < _text.Length && IsNamePart(_text[_pos]))
        {
            _pos++;
        }

        string numeral = _text.Substring(start, _pos - start);
        if (!IsValidNumeral(numeral))
        {
            throw Error($"malformed number near '{numeral}'");
        }
    }

    private static bool IsValidNumeral(string s)
    {
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            int i = 2;
            int digits = 0;
            while (i < s.Length && IsHexDigit(s[i]))
            {
                i++;
                digits++;
            }

            if (i < s.Length && s[i] == '.')
            {
                i++;
                while (i < s.Length && IsHexDigit(s[i]))
                {
                    i++;
                    digits++;
                }
            }

            if (digits == 0)
            {
                return false;
            }

            if (i < s.Length && (s[i] == 'p' || s[i] == 'P'))
            {
                i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-'))
                {
                    i++;
                }

                int exponentDigits = 0;
                while (i < s.Length && IsDigit(s[i]))
                {
                    i++;
                    exponentDigits++;
                }

                if (exponentDigits == 0)
                {
                    return false;
                }
            }

            return i == s.Length;
        }

        return double.TryParse(s, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out _)
            && s.IndexOf(',') < 0;
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    private static bool IsHexDigit(char c) => IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

    private static int HexValue(char c) => IsDigit(c) ? c - '0' : (char.ToLowerInvariant(c) - 'a') + 10;

    private static bool IsNameStart(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

    private static bool IsNamePart(char c) => IsNameStart(c) || IsDigit(c);

    private SyntaxException Error(string message, int? line = null)
    {
        // While a token is being read, the error is at that token (an unfinished string); otherwise at the current one.
        int at = _scanStart >= 0 ? _scanStart : _kind == Kind.Eof ? _text.Length : _start;
        int errorLine = line ?? (_scanStart >= 0 || _kind == Kind.Eof ? _line : _tokenLine);
        return new SyntaxException(new LuaSyntaxError(Math.Min(at, _text.Length), errorLine, message));
    }

    private sealed class SyntaxException : Exception
    {
        public SyntaxException(LuaSyntaxError error)
            : base(error.Message) => Error = error;

        public LuaSyntaxError Error { get; }
    }

    /// <summary>The text of a Lua string as the lexer would read it; used only for tests of the checker itself.</summary>
    internal static string Describe(LuaSyntaxError error)
    {
        var text = new StringBuilder();
        text.Append(error.Line.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(error.Message);
        return text.ToString();
    }
}

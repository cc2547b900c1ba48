using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Gateway.Components.Lua.LuaNative;

namespace Gateway.Components.Lua;

/// <summary>How a script's run ended.</summary>
public enum LuaOutcomeKind
{
    /// <summary>The script ran to its end.</summary>
    Completed,

    /// <summary>The script called <c>custom_error</c>: its message, status (null: 500) and content type are the answer.</summary>
    CustomError,

    /// <summary>A Lua error (a runtime error, <c>error()</c>).</summary>
    Failed,

    /// <summary>The script ran more instructions than a call may.</summary>
    InstructionBudget,

    /// <summary>The script needed more memory than a call may.</summary>
    MemoryBudget,
}

/// <summary>How a script's run ended, and for errors what was said (docs/configuration.md, Lua errors).</summary>
public readonly record struct LuaOutcome(LuaOutcomeKind Kind, string? Message = null, int? Status = null, string? ContentType = null)
{
    public bool Completed => Kind == LuaOutcomeKind.Completed;

    public static LuaOutcome Done => default;
}

/// <summary>The bounds of one request's scripts in one VM.</summary>
/// <param name="Instructions">Lua VM instructions a call may run (sources, pre and post together).</param>
/// <param name="MemoryBytes">Memory a call may hold beyond what the compiled scripts need.</param>
public sealed record LuaLimits(long Instructions, long MemoryBytes)
{
    /// <summary>
    /// Ten million instructions (tens of milliseconds of Lua; far more than a script that reshapes a request needs) and
    /// 32 MiB (docs/configuration.md, Lua limits).
    /// </summary>
    public static LuaLimits Default { get; } = new(10_000_000, 32 * 1024 * 1024);
}

/// <summary>
/// One Lua state, used by one request at a time (<see cref="LuaScriptPool"/>): the prelude, the configuration's
/// scripts compiled once, a counting allocator that refuses memory over the call's cap, and a count hook that ends a
/// script over its instruction budget. A script's error ends only that script; the state stays usable.
/// </summary>
internal sealed class LuaVm : IDisposable
{
    /// <summary>Instructions between two visits of the hook; the budget is checked at this granularity.</summary>
    private const int HookInterval = 1000;

    private static readonly LuaAlloc s_allocate = Allocate;
    private static readonly LuaHook s_hook = CountHook;
    private static readonly LuaFunction s_host = Host;
    private static readonly IntPtr s_allocatePointer = Marshal.GetFunctionPointerForDelegate(s_allocate);
    private static readonly IntPtr s_hookPointer = Marshal.GetFunctionPointerForDelegate(s_hook);
    private static readonly IntPtr s_hostPointer = Marshal.GetFunctionPointerForDelegate(s_host);

    // luaL_error, installed as the hook of a thread whose budget is spent: it raises the error natively, so no longjmp
    // ever crosses a .NET frame (the count hook itself only decides).
    private static readonly IntPtr s_errorHook = NativeLibrary.GetExport(NativeLibrary.Load("lua54", typeof(LuaVm).Assembly, null), "luaL_error");

    private readonly LuaLimits _limits;
    private readonly GCHandle _self;
    private readonly IntPtr _state;
    private readonly IntPtr _thread;
    private readonly List<JsonNode?> _handles = new();
    private readonly int _begin;
    private readonly int _run;
    private readonly int _finish;
    private readonly int _classify;
    private readonly int _exposeResponse;
    private readonly int _handleKey;
    private readonly int _tableMeta;
    private readonly int _listMeta;
    private readonly int _nilMeta;

    private long _used;
    private long _cap = long.MaxValue;
    private bool _capped;
    private long _remaining;
    private bool _exceeded;
    private bool _disposed;

    /// <summary>The request the scripts act on while a call runs.</summary>
    private LuaCall? _call;

    private LuaVm(LuaScriptSet scripts, LuaLimits limits)
    {
        _limits = limits;
        _self = GCHandle.Alloc(this);
        _state = lua_newstate(s_allocatePointer, GCHandle.ToIntPtr(_self));
        if (_state == IntPtr.Zero)
        {
            _self.Free();
            throw new LuaStartupException("the Lua state could not be created (out of memory)");
        }

        try
        {
            // The callbacks find this object through the state's extra space, which threads inherit.
            Marshal.WriteIntPtr(_state, -IntPtr.Size, GCHandle.ToIntPtr(_self));
            luaL_openlibs(_state);
            _thread = lua_newthread(_state);
            luaL_ref(_state, RegistryIndex); // keeps the thread
            lua_sethook(_thread, s_hookPointer, MaskCount, HookInterval);

            // The prelude: (host, allow_open_libs) -> entry table.
            if (Load(_thread, LuaPrelude.Source, "=prelude") is { } preludeError)
            {
                throw new LuaStartupException("the gateway's Lua prelude does not compile: " + preludeError);
            }

            lua_pushcclosure(_thread, s_hostPointer, 0);
            lua_pushboolean(_thread, scripts.AllowOpenLibs ? 1 : 0);
            if (lua_pcallk(_thread, 2, 1, 0, IntPtr.Zero, IntPtr.Zero) != Ok)
            {
                throw new LuaStartupException("the gateway's Lua prelude failed: " + ToText(_thread, -1));
            }

            _begin = Field(_thread, "begin");
            _run = Field(_thread, "run");
            _finish = Field(_thread, "finish");
            _classify = Field(_thread, "classify");
            _exposeResponse = Field(_thread, "expose_response");
            _handleKey = Field(_thread, "H");
            _tableMeta = Field(_thread, "TableMT");
            _listMeta = Field(_thread, "ListMT");
            _nilMeta = Field(_thread, "NilMT");
            int compile = Field(_thread, "compile");
            lua_settop(_thread, 0);

            // The sources first (their number is the order they run in), then pre and post.
            foreach (LuaScriptSource source in scripts.Sources)
            {
                Compile(compile, "@" + source.Name, source.Text, isSource: true);
            }

            PreChunk = scripts.Pre is null ? 0 : Compile(compile, "=pre", scripts.Pre, isSource: false);
            PostChunk = scripts.Post is null ? 0 : Compile(compile, "=post", scripts.Post, isSource: false);
            lua_gc(_state, GcCollect, 0);
            _cap = _used + limits.MemoryBytes;
        }
        catch
        {
            lua_close(_state);
            _self.Free();
            throw;
        }
    }

    /// <summary>The chunk number of <c>pre</c>; 0 when there is none.</summary>
    public int PreChunk { get; }

    /// <summary>The chunk number of <c>post</c>; 0 when there is none.</summary>
    public int PostChunk { get; }

    /// <summary>Bytes the state holds now.</summary>
    public long MemoryInUse => _used;

    /// <summary>Collects the state's garbage now (after a call that spent a budget).</summary>
    public void Collect() => lua_gc(_state, GcCollect, 0);

    /// <summary>Creates a state and compiles the scripts in it; a script that does not compile is a <see cref="LuaStartupException"/>.</summary>
    public static LuaVm Create(LuaScriptSet scripts, LuaLimits limits) => new(scripts, limits);

    /// <summary>Starts a request: a fresh environment, the objects it may load, the sources run in it.</summary>
    public LuaOutcome Begin(LuaCall call)
    {
        _call = call;
        _handles.Clear();
        _remaining = _limits.Instructions;
        lua_settop(_thread, 0);
        lua_rawgeti(_thread, RegistryIndex, _begin);
        lua_pushboolean(_thread, call.HasRequest ? 1 : 0);
        lua_pushboolean(_thread, call.HasResponse ? 1 : 0);
        lua_pushboolean(_thread, call.HasContext ? 1 : 0);
        return Protected(3);
    }

    /// <summary>Runs a compiled chunk (<see cref="PreChunk"/>, <see cref="PostChunk"/>) in the request's environment.</summary>
    public LuaOutcome Run(int chunk)
    {
        lua_settop(_thread, 0);
        lua_rawgeti(_thread, RegistryIndex, _run);
        lua_pushinteger(_thread, chunk);
        return Protected(1);
    }

    /// <summary>From now on <c>response.load()</c> works (the post script).</summary>
    public void ExposeResponse()
    {
        lua_settop(_thread, 0);
        lua_rawgeti(_thread, RegistryIndex, _exposeResponse);
        lua_pcallk(_thread, 0, 0, 0, IntPtr.Zero, IntPtr.Zero);
        lua_settop(_thread, 0);
    }

    /// <summary>Ends a request: its environment becomes garbage, its handles are dropped.</summary>
    public void Finish()
    {
        lua_settop(_thread, 0);
        lua_rawgeti(_thread, RegistryIndex, _finish);
        lua_pcallk(_thread, 0, 0, 0, IntPtr.Zero, IntPtr.Zero);
        lua_settop(_thread, 0);
        _handles.Clear();
        _call = null;
    }

    /// <summary>Calls the function below <paramref name="arguments"/> arguments with the budgets armed; classifies an error.</summary>
    private LuaOutcome Protected(int arguments)
    {
        _exceeded = false;
        _capped = true;
        int status;
        try
        {
            status = lua_pcallk(_thread, arguments, 0, 0, IntPtr.Zero, IntPtr.Zero);
        }
        finally
        {
            _capped = false;
        }

        if (_exceeded)
        {
            // The thread's hook is luaL_error now: put the counting hook back before anything else runs on it.
            lua_sethook(_thread, s_hookPointer, MaskCount, HookInterval);
        }

        if (status == Ok)
        {
            lua_settop(_thread, 0);
            return LuaOutcome.Done;
        }

        LuaOutcome outcome = _exceeded
            ? new LuaOutcome(LuaOutcomeKind.InstructionBudget, $"the script ran more than {_limits.Instructions} Lua instructions")
            : status == ErrorMemory
                ? new LuaOutcome(LuaOutcomeKind.MemoryBudget, $"the script needed more than {_limits.MemoryBytes} bytes")
                : Classify();
        lua_settop(_thread, 0);
        return outcome;
    }

    /// <summary>Reads the error value on the top of the thread's stack (the prelude tells a custom_error from any other).</summary>
    private LuaOutcome Classify()
    {
        lua_rawgeti(_thread, RegistryIndex, _classify);
        lua_pushvalue(_thread, -2);
        _remaining = long.MaxValue;
        if (lua_pcallk(_thread, 1, 4, 0, IntPtr.Zero, IntPtr.Zero) != Ok)
        {
            return new LuaOutcome(LuaOutcomeKind.Failed, "a script raised an error that cannot be described");
        }

        string kind = ToText(_thread, -4) ?? "error";
        string message = ToText(_thread, -3) ?? string.Empty;
        if (kind != "custom")
        {
            return new LuaOutcome(LuaOutcomeKind.Failed, message);
        }

        int? status = lua_type(_thread, -2) == TypeNumber ? (int)Math.Clamp(lua_tointegerx(_thread, -2, out _), int.MinValue, int.MaxValue) : null;
        return new LuaOutcome(LuaOutcomeKind.CustomError, message, status, ToText(_thread, -1));
    }

    private int Compile(int compile, string name, string text, bool isSource)
    {
        lua_rawgeti(_thread, RegistryIndex, compile);
        PushString(_thread, name);
        PushString(_thread, text);
        lua_pushboolean(_thread, isSource ? 1 : 0);
        if (lua_pcallk(_thread, 3, 2, 0, IntPtr.Zero, IntPtr.Zero) != Ok || lua_type(_thread, -2) != TypeNumber)
        {
            string message = ToText(_thread, -1) ?? "unknown error";
            throw new LuaStartupException($"the Lua {(isSource ? "source " + name.TrimStart('@') : name.TrimStart('=') + " script")} does not compile: {message}");
        }

        int chunk = (int)lua_tointegerx(_thread, -2, out _);
        lua_settop(_thread, 0);
        return chunk;
    }

    private static string? Load(IntPtr thread, string text, string name)
    {
        byte[] code = Encoding.UTF8.GetBytes(text);
        byte[] chunkName = Encoding.UTF8.GetBytes(name + "\0");
        byte[] mode = "t\0"u8.ToArray();
        GCHandle pinned = GCHandle.Alloc(mode, GCHandleType.Pinned);
        try
        {
            return luaL_loadbufferx(thread, ref code[0], (nuint)code.Length, ref chunkName[0], pinned.AddrOfPinnedObject()) == Ok ? null : ToText(thread, -1);
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>Takes a field of the table on the top of the stack into the registry; returns its reference.</summary>
    private static int Field(IntPtr thread, string name)
    {
        PushString(thread, name);
        lua_rawget(thread, -2);
        return luaL_ref(thread, RegistryIndex);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lua_close(_state);
        _self.Free();
    }

    // ------------------------------------------------------------------ callbacks (never raise a Lua error)

    private static LuaVm Of(IntPtr state) => (LuaVm)GCHandle.FromIntPtr(Marshal.ReadIntPtr(state, -IntPtr.Size)).Target!;

    private static IntPtr Allocate(IntPtr userData, IntPtr pointer, nuint oldSize, nuint newSize)
    {
        try
        {
            var vm = (LuaVm)GCHandle.FromIntPtr(userData).Target!;
            long old = pointer == IntPtr.Zero ? 0 : (long)oldSize;
            long size = (long)newSize;
            if (size == 0)
            {
                if (pointer != IntPtr.Zero)
                {
                    Marshal.FreeHGlobal(pointer);
                    vm._used -= old;
                }

                return IntPtr.Zero;
            }

            // Only growth can be refused: Lua counts on shrinking never failing.
            if (vm._capped && size > old && vm._used - old + size > vm._cap)
            {
                return IntPtr.Zero;
            }

            IntPtr result = pointer == IntPtr.Zero ? Marshal.AllocHGlobal((nint)size) : Marshal.ReAllocHGlobal(pointer, (nint)size);
            vm._used += size - old;
            return result;
        }
        catch (OutOfMemoryException)
        {
            return IntPtr.Zero;
        }
    }

    private static void CountHook(IntPtr state, IntPtr debug)
    {
        LuaVm vm = Of(state);
        vm._remaining -= HookInterval;
        if (vm._remaining < 0)
        {
            // From now on every instruction of this thread raises an error, from native code, until the script has
            // unwound (a pcall in the script catches it only to meet it again at its next instruction).
            vm._exceeded = true;
            lua_sethook(state, s_errorHook, MaskCount, 1);
        }
    }

    private static int Host(IntPtr state)
    {
        LuaVm vm = Of(state);
        bool capped = vm._capped;
        vm._capped = false; // what the gateway pushes for a script is not the script's allocation
        try
        {
            lua_checkstack(state, 8);
            return vm.Dispatch(state);
        }
        catch (Exception e)
        {
            return Fail(state, "the gateway failed to answer the script: " + e.Message);
        }
        finally
        {
            vm._capped = capped;
        }
    }

    private int Dispatch(IntPtr state)
    {
        var op = (LuaPrelude.Op)lua_tointegerx(state, 1, out _);
        if (op == LuaPrelude.Op.Print)
        {
            _call?.Print(ToText(state, 2) ?? string.Empty);
            return Done(state);
        }

        if (op >= LuaPrelude.Op.TableNew)
        {
            return Table(state, op);
        }

        if (_call is null)
        {
            return Fail(state, "no request is being handled");
        }

        int count = (int)lua_tointegerx(state, 2, out _);
        var args = new LuaArgs(this, state, count);
        return op >= LuaPrelude.Op.ResponseIsComplete ? _call.Response(op, args) : _call.Request(op, args);
    }

    // ------------------------------------------------------------------ results

    internal static int Done(IntPtr state)
    {
        lua_pushboolean(state, 1);
        return 1;
    }

    internal static int Fail(IntPtr state, string message)
    {
        lua_pushboolean(state, 0);
        PushString(state, message);
        return 2;
    }

    internal static int Value(IntPtr state, string? text)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)LuaPrelude.Kind.Plain);
        PushString(state, text ?? string.Empty);
        return 3;
    }

    internal static int Value(IntPtr state, ReadOnlySpan<byte> text)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)LuaPrelude.Kind.Plain);
        PushBytes(state, text);
        return 3;
    }

    internal static int Value(IntPtr state, long number)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)LuaPrelude.Kind.Plain);
        lua_pushinteger(state, number);
        return 3;
    }

    internal static int Value(IntPtr state, bool flag)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)LuaPrelude.Kind.Plain);
        lua_pushboolean(state, flag ? 1 : 0);
        return 3;
    }

    /// <summary>Returns a JSON object or array to the script as a <c>luaTable</c> or <c>luaList</c>.</summary>
    internal int Node(IntPtr state, JsonNode node)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)(node is JsonArray ? LuaPrelude.Kind.List : LuaPrelude.Kind.Table));
        lua_pushinteger(state, NewHandle(node));
        return 3;
    }

    internal int NewHandle(JsonNode node)
    {
        _handles.Add(node);
        return _handles.Count - 1;
    }

    // ------------------------------------------------------------------ luaTable and luaList

    private int Table(IntPtr state, LuaPrelude.Op op)
    {
        switch (op)
        {
            case LuaPrelude.Op.TableNew:
                return HandleResult(state, new JsonObject());
            case LuaPrelude.Op.ListNew:
                return HandleResult(state, new JsonArray());
        }

        JsonNode? target = HandleArg(state, 2);
        if (op <= LuaPrelude.Op.TableKeyExists)
        {
            if (target is not JsonObject table)
            {
                return Fail(state, "luaTable expected");
            }

            string key = ToText(state, 3) ?? string.Empty;
            switch (op)
            {
                case LuaPrelude.Op.TableGet:
                    return table.TryGetPropertyValue(key, out JsonNode? found) ? Push(state, found, present: true) : Done(state);
                case LuaPrelude.Op.TableSet:
                    if (ToNode(state, 4, 5, table, out JsonNode? value, out string? problem) is false)
                    {
                        return problem is null ? Done(state) : Fail(state, problem);
                    }

                    table[key] = value;
                    return Done(state);
                case LuaPrelude.Op.TableLen:
                    return NumberResult(state, table.Count);
                case LuaPrelude.Op.TableDel:
                    table.Remove(key);
                    return Done(state);
                case LuaPrelude.Op.TableKeyExists:
                    lua_pushboolean(state, 1);
                    lua_pushboolean(state, table.ContainsKey(key) ? 1 : 0);
                    return 2;
                default:
                    var keys = new List<string>(table.Count);
                    foreach (KeyValuePair<string, JsonNode?> property in table)
                    {
                        keys.Add(property.Key);
                    }

                    keys.Sort(StringComparer.Ordinal);
                    var list = new JsonArray();
                    foreach (string name in keys)
                    {
                        list.Add((JsonNode?)JsonValue.Create(name));
                    }

                    return HandleResult(state, list);
            }
        }

        if (target is not JsonArray array)
        {
            return Fail(state, "luaList expected");
        }

        long index = lua_tointegerx(state, 3, out int isIndex);
        switch (op)
        {
            case LuaPrelude.Op.ListGet:
                return isIndex != 0 && index >= 0 && index < array.Count ? Push(state, array[(int)index], present: true) : Done(state);
            case LuaPrelude.Op.ListSet:
                if (isIndex == 0 || index < 0 || index > 1_000_000)
                {
                    return Done(state);
                }

                if (ToNode(state, 4, 5, array, out JsonNode? item, out string? problem) is false)
                {
                    return problem is null ? Done(state) : Fail(state, problem);
                }

                while (array.Count <= index)
                {
                    array.Add(null);
                }

                array[(int)index] = item;
                return Done(state);
            case LuaPrelude.Op.ListLen:
                return NumberResult(state, array.Count);
            default:
                if (isIndex != 0 && index >= 0 && index < array.Count)
                {
                    array.RemoveAt((int)index);
                }

                return Done(state);
        }
    }

    private int HandleResult(IntPtr state, JsonNode node)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, NewHandle(node));
        return 2;
    }

    private static int NumberResult(IntPtr state, long number)
    {
        lua_pushboolean(state, 1);
        lua_pushinteger(state, number);
        return 2;
    }

    private JsonNode? HandleArg(IntPtr state, int index)
    {
        long handle = lua_tointegerx(state, index, out int isNumber);
        return isNumber != 0 && handle >= 0 && handle < _handles.Count ? _handles[(int)handle] : null;
    }

    /// <summary>Pushes a JSON value for the script: a scalar as itself, JSON null as <c>luaNil</c>, an object or array as a handle.</summary>
    internal int Push(IntPtr state, JsonNode? node, bool present)
    {
        if (node is null)
        {
            lua_pushboolean(state, 1);
            lua_pushinteger(state, present ? (int)LuaPrelude.Kind.Nil : (int)LuaPrelude.Kind.Plain);
            lua_pushnil(state);
            return 3;
        }

        if (node is JsonObject or JsonArray)
        {
            return Node(state, node);
        }

        lua_pushboolean(state, 1);
        lua_pushinteger(state, (int)LuaPrelude.Kind.Plain);
        JsonValue value = node.AsValue();
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                PushString(state, value.GetValue<string>());
                break;
            case JsonValueKind.Number:
                if (value.TryGetValue(out long integer))
                {
                    lua_pushinteger(state, integer);
                }
                else
                {
                    lua_pushnumber(state, value.TryGetValue(out double real) ? real : double.NaN);
                }

                break;
            case JsonValueKind.True:
                lua_pushboolean(state, 1);
                break;
            case JsonValueKind.False:
                lua_pushboolean(state, 0);
                break;
            default:
                lua_pushnil(state);
                break;
        }

        return 3;
    }

    /// <summary>
    /// The JSON a script's value stands for (kind at <paramref name="kindIndex"/>, value at <paramref name="valueIndex"/>):
    /// false when nothing is to be set (a Lua nil, as KrakenD) or with a problem to report.
    /// </summary>
    internal bool ToNode(IntPtr state, int kindIndex, int valueIndex, JsonNode? into, out JsonNode? node, out string? problem)
    {
        problem = null;
        node = null;
        var kind = (LuaPrelude.Kind)lua_tointegerx(state, kindIndex, out _);
        switch (kind)
        {
            case LuaPrelude.Kind.Nil:
                return true;
            case LuaPrelude.Kind.Table:
            case LuaPrelude.Kind.List:
                JsonNode? handled = HandleArg(state, valueIndex);
                if (handled is null)
                {
                    problem = "unknown luaTable or luaList";
                    return false;
                }

                // A node lives in one place: one already placed (or the target itself) goes in as a copy.
                node = handled.Parent is not null || Contains(handled, into) ? handled.DeepClone() : handled;
                return true;
            case LuaPrelude.Kind.LuaTable:
                node = FromLuaTable(state, lua_absindex(state, valueIndex), 0, out problem);
                return problem is null;
            default:
                return Scalar(state, valueIndex, out node);
        }
    }

    private static bool Contains(JsonNode node, JsonNode? descendant)
    {
        for (JsonNode? n = descendant; n is not null; n = n.Parent)
        {
            if (ReferenceEquals(n, node))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Scalar(IntPtr state, int index, out JsonNode? node)
    {
        node = null;
        switch (lua_type(state, index))
        {
            case TypeString:
                node = JsonValue.Create(ToText(state, index));
                return true;
            case TypeNumber:
                if (lua_isinteger(state, index) != 0)
                {
                    node = JsonValue.Create(lua_tointegerx(state, index, out _));
                }
                else
                {
                    double real = lua_tonumberx(state, index, out _);
                    node = double.IsFinite(real) ? JsonValue.Create(real) : null;
                }

                return true;
            case TypeBoolean:
                node = JsonValue.Create(lua_toboolean(state, index) != 0);
                return true;
            default:
                return false; // nil, a function...: nothing is set, as in KrakenD
        }
    }

    /// <summary>
    /// A plain Lua table as JSON: with only integer keys, an array in key order (KrakenD's rule; an empty table is an
    /// empty array); otherwise an object, keys in sorted order. Functions and other values JSON cannot hold are left out.
    /// </summary>
    private JsonNode? FromLuaTable(IntPtr state, int index, int depth, out string? problem)
    {
        problem = null;
        if (depth > 64)
        {
            problem = "a table nested more than 64 deep (or holding itself) cannot become JSON";
            return null;
        }

        if (Wrapped(state, index) is { } wrapped)
        {
            return wrapped.Parent is null ? wrapped : wrapped.DeepClone();
        }

        lua_checkstack(state, 4);
        var entries = new List<(string Key, long? Index, JsonNode? Value)>();
        bool allIntegers = true;
        lua_pushnil(state);
        while (lua_next(state, index) != 0)
        {
            long? integer = null;
            string key;
            int keyType = lua_type(state, -2);
            if (keyType == TypeNumber && lua_isinteger(state, -2) != 0)
            {
                integer = lua_tointegerx(state, -2, out _);
                key = integer.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (keyType == TypeString || keyType == TypeNumber)
            {
                // A copy converts a number without touching the key lua_next needs.
                lua_pushvalue(state, -2);
                key = ToText(state, -1) ?? string.Empty;
                lua_settop(state, -2);
                if (long.TryParse(key, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long parsed))
                {
                    integer = parsed;
                }
            }
            else
            {
                lua_settop(state, -2);
                continue;
            }

            JsonNode? value;
            int valueType = lua_type(state, -1);
            if (valueType == TypeTable)
            {
                value = FromLuaTable(state, lua_absindex(state, -1), depth + 1, out problem);
                if (problem is not null)
                {
                    lua_settop(state, -3);
                    return null;
                }
            }
            else if (!Scalar(state, -1, out value))
            {
                lua_settop(state, -2);
                continue;
            }

            allIntegers &= integer is not null;
            entries.Add((key, integer, value));
            lua_settop(state, -2);
        }

        if (allIntegers)
        {
            entries.Sort((a, b) => a.Index!.Value.CompareTo(b.Index!.Value));
            var array = new JsonArray();
            foreach ((string _, long? _, JsonNode? value) in entries)
            {
                array.Add(value);
            }

            return array;
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var table = new JsonObject();
        foreach ((string key, long? _, JsonNode? value) in entries)
        {
            table[key] = value;
        }

        return table;
    }

    /// <summary>The node a <c>luaTable</c>/<c>luaList</c> inside a plain table stands for; JSON null for <c>luaNil</c>; null otherwise.</summary>
    private JsonNode? Wrapped(IntPtr state, int index)
    {
        if (lua_getmetatable(state, index) == 0)
        {
            return null;
        }

        int meta = lua_gettop(state);
        bool isTable = IsRegistryValue(state, meta, _tableMeta);
        bool isList = IsRegistryValue(state, meta, _listMeta);
        lua_settop(state, meta - 1);
        if (!isTable && !isList)
        {
            return null;
        }

        lua_rawgeti(state, RegistryIndex, _handleKey);
        lua_rawget(state, index);
        JsonNode? node = HandleArg(state, -1);
        lua_settop(state, -2);
        return node;
    }

    private static bool IsRegistryValue(IntPtr state, int index, int reference)
    {
        lua_rawgeti(state, RegistryIndex, reference);
        bool equal = lua_rawequal(state, index, -1) != 0;
        lua_settop(state, -2);
        return equal;
    }

    /// <summary>Whether the value at <paramref name="index"/> is the script's <c>luaNil</c>.</summary>
    internal bool IsLuaNil(IntPtr state, int index)
    {
        if (lua_getmetatable(state, index) == 0)
        {
            return false;
        }

        bool isNil = IsRegistryValue(state, lua_gettop(state), _nilMeta);
        lua_settop(state, -2);
        return isNil;
    }

    /// <summary>The node a handle argument stands for (a <c>luaList</c> given to <c>headerList</c>).</summary>
    internal JsonNode? NodeOf(IntPtr state, int index) => HandleArg(state, index);
}

/// <summary>The arguments of a request or response function: <c>r:headers("X", "1")</c> has the count 2.</summary>
internal readonly struct LuaArgs
{
    public LuaArgs(LuaVm vm, IntPtr state, int count)
    {
        Vm = vm;
        State = state;
        Count = count;
    }

    public LuaVm Vm { get; }

    public IntPtr State { get; }

    /// <summary>How many arguments the script gave (after the object itself).</summary>
    public int Count { get; }

    /// <summary>The <paramref name="n"/>-th argument (1-based) as text; null when it is not a string or a number.</summary>
    public string? Text(int n) => LuaNative.ToText(State, n + 2);

    public byte[]? Bytes(int n) => LuaNative.ToBytes(State, n + 2);

    public bool IsNil(int n) => LuaNative.lua_type(State, n + 2) <= LuaNative.TypeNil;

    public bool Boolean(int n) => LuaNative.lua_toboolean(State, n + 2) != 0;

    public long? Integer(int n)
    {
        double number = LuaNative.lua_tonumberx(State, n + 2, out int isNumber);
        return isNumber != 0 && double.IsFinite(number) ? (long)Math.Floor(number) : null;
    }

    /// <summary>The second argument of a setter given a <c>luaList</c> (<c>headerList(name, list)</c>): its strings; null when it is not one.</summary>
    public List<string>? List()
    {
        if ((LuaPrelude.Kind)LuaNative.lua_tointegerx(State, 4, out _) != LuaPrelude.Kind.List || Vm.NodeOf(State, 5) is not JsonArray array)
        {
            return null;
        }

        var values = new List<string>(array.Count);
        foreach (JsonNode? item in array)
        {
            values.Add(item is null ? string.Empty : item is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : item.ToJsonString());
        }

        return values;
    }

    public int Done() => LuaVm.Done(State);

    public int Fail(string message) => LuaVm.Fail(State, message);

    public int Value(string? text) => LuaVm.Value(State, text);

    public int Value(ReadOnlySpan<byte> text) => LuaVm.Value(State, text);

    public int Value(long number) => LuaVm.Value(State, number);

    public int Value(bool flag) => LuaVm.Value(State, flag);

    public int Node(JsonNode node) => Vm.Node(State, node);
}

/// <summary>A Lua source compiled into the gateway.</summary>
public sealed record LuaScriptSource(string Name, string Text);

/// <summary>A Lua namespace's scripts, as compiled from the configuration.</summary>
public sealed record LuaScriptSet(LuaScriptSource[] Sources, string? Pre, string? Post, bool AllowOpenLibs, bool SkipNext);

/// <summary>A script could not be compiled when the gateway started (the build's own check missed it), or Lua could not start.</summary>
public sealed class LuaStartupException : Exception
{
    public LuaStartupException(string message)
        : base(message)
    {
    }

    public LuaStartupException()
    {
    }

    public LuaStartupException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

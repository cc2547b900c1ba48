using System.Runtime.InteropServices;

namespace Gateway.Components.Lua;

/// <summary>
/// The part of Lua 5.4's C API the gateway calls, from the <c>lua54</c> library the KeraLua package ships (liblua54.so
/// next to the gateway; Native AOT binds these imports only when a configuration has Lua, so a gateway without Lua never
/// loads the library). Only blittable signatures: no marshalling stubs, nothing for the trimmer to keep.
/// </summary>
/// <remarks>
/// A Lua error is a <c>longjmp</c>, which must never cross a .NET frame. So the gateway never calls a function that can
/// raise one outside <see cref="lua_pcallk"/>, its callbacks (<see cref="LuaFunction"/>) never raise one (they return a
/// failure that the prelude's Lua code raises), and the instruction budget raises its error from a native function
/// (<c>luaL_error</c>, installed as the hook once the budget is spent), not from .NET.
/// </remarks>
internal static class LuaNative
{
    private const string Library = "lua54";

    public const int RegistryIndex = -1000000 - 1000;
    public const int MultipleResults = -1;

    public const int Ok = 0;
    public const int ErrorRun = 2;
    public const int ErrorSyntax = 3;
    public const int ErrorMemory = 4;

    public const int TypeNone = -1;
    public const int TypeNil = 0;
    public const int TypeBoolean = 1;
    public const int TypeLightUserData = 2;
    public const int TypeNumber = 3;
    public const int TypeString = 4;
    public const int TypeTable = 5;
    public const int TypeFunction = 6;

    public const int MaskCount = 1 << 3;

    public const int GcCollect = 2;
    public const int GcCount = 3;
    public const int GcCountBytes = 4;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate IntPtr LuaAlloc(IntPtr userData, IntPtr pointer, nuint oldSize, nuint newSize);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void LuaHook(IntPtr state, IntPtr debug);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate int LuaFunction(IntPtr state);

#pragma warning disable SYSLIB1054 // DllImport with blittable signatures only: nothing to generate.
    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr lua_newstate(IntPtr allocator, IntPtr userData);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_close(IntPtr state);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr lua_newthread(IntPtr state);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void luaL_openlibs(IntPtr state);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_sethook(IntPtr state, IntPtr hook, int mask, int count);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int luaL_loadbufferx(IntPtr state, ref byte buffer, nuint size, ref byte name, IntPtr mode);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_pcallk(IntPtr state, int arguments, int results, int handler, IntPtr context, IntPtr continuation);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_gettop(IntPtr state);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_settop(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushvalue(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_type(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern long lua_tointegerx(IntPtr state, int index, out int isNumber);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern double lua_tonumberx(IntPtr state, int index, out int isNumber);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_isinteger(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_toboolean(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr lua_tolstring(IntPtr state, int index, out nuint length);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushnil(IntPtr state);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushinteger(IntPtr state, long value);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushnumber(IntPtr state, double value);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushboolean(IntPtr state, int value);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern IntPtr lua_pushlstring(IntPtr state, ref byte text, nuint length);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_pushcclosure(IntPtr state, IntPtr function, int upvalues);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_createtable(IntPtr state, int arrayCount, int hashCount);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_rawgeti(IntPtr state, int index, long key);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern void lua_rawseti(IntPtr state, int index, long key);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_next(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int luaL_ref(IntPtr state, int table);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_gc(IntPtr state, int what, int argument);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_checkstack(IntPtr state, int slots);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_getmetatable(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_rawequal(IntPtr state, int index1, int index2);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_rawget(IntPtr state, int index);

    [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
    public static extern int lua_absindex(IntPtr state, int index);
#pragma warning restore SYSLIB1054

    /// <summary>Pushes UTF-8 bytes as a Lua string (an empty string for an empty span).</summary>
    public static void PushBytes(IntPtr state, ReadOnlySpan<byte> bytes)
    {
        byte empty = 0;
        lua_pushlstring(state, ref bytes.IsEmpty ? ref empty : ref MemoryMarshal.GetReference(bytes), (nuint)bytes.Length);
    }

    public static void PushString(IntPtr state, string text) => PushBytes(state, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>The bytes of the string (or number, converted in place) at <paramref name="index"/>; null for any other type.</summary>
    public static byte[]? ToBytes(IntPtr state, int index)
    {
        int type = lua_type(state, index);
        if (type != TypeString && type != TypeNumber)
        {
            return null;
        }

        IntPtr pointer = lua_tolstring(state, index, out nuint length);
        if (pointer == IntPtr.Zero)
        {
            return null;
        }

        var bytes = new byte[(int)length];
        Marshal.Copy(pointer, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>The string at <paramref name="index"/> as text (UTF-8; invalid bytes become U+FFFD); null when not a string or number.</summary>
    public static string? ToText(IntPtr state, int index) => ToBytes(state, index) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;
}

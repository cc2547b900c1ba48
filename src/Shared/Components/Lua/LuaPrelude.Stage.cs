namespace Gateway.Components.Lua;

/// <summary>
/// The Lua side of the scripting API, run once in every VM (<see cref="LuaVm"/>): KrakenD's objects (<c>request</c>,
/// <c>response</c>, <c>ctx</c>, <c>luaTable</c>, <c>luaList</c>, <c>luaNil</c>, <c>custom_error</c>) written in Lua over one
/// host function, the sandbox the scripts run in, and the entry points the gateway calls for each request.
/// </summary>
/// <remarks>
/// The host function never raises a Lua error (a <c>longjmp</c> must not cross .NET frames): it returns <c>true</c> and
/// its results, or <c>false</c> and a message, which <c>ret</c> raises here, at the script's line. Scripts see a base
/// environment built here, never the VM's real globals: without <c>allow_open_libs</c> it holds the API only (as KrakenD,
/// which opens no library either); with it, the safe part of the standard library, read-only. Each request gets a fresh
/// environment over that base, so nothing a script sets outlives its request.
/// </remarks>
internal static class LuaPrelude
{
    /// <summary>The operations of the host function; the numbers are the prelude's <c>OP_*</c> values.</summary>
    public enum Op
    {
        Print = 1,
        RequestMethod = 10,
        RequestPath = 11,
        RequestQuery = 12,
        RequestUrl = 13,
        RequestParams = 14,
        RequestHeaders = 15,
        RequestHeaderList = 16,
        RequestBody = 17,
        RequestHost = 18,
        ResponseIsComplete = 30,
        ResponseStatusCode = 31,
        ResponseData = 32,
        ResponseHeaders = 33,
        ResponseHeaderList = 34,
        ResponseBody = 35,
        TableNew = 50,
        TableGet = 51,
        TableSet = 52,
        TableLen = 53,
        TableDel = 54,
        TableKeys = 55,
        TableKeyExists = 56,
        ListNew = 60,
        ListGet = 61,
        ListSet = 62,
        ListLen = 63,
        ListDel = 64,
    }

    /// <summary>What a value handed to or returned by the host is (the prelude's <c>K_*</c> values).</summary>
    public enum Kind
    {
        Plain = 0,
        Table = 1,
        List = 2,
        Nil = 3,
        LuaTable = 4,
    }

    public const string Source = """
local host, allow_open_libs = ...
local setmetatable, getmetatable, rawget, rawset, rawequal, rawlen = setmetatable, getmetatable, rawget, rawset, rawequal, rawlen
local type, select, error, pcall, next, tostring, tonumber, pairs, ipairs = type, select, error, pcall, next, tostring, tonumber, pairs, ipairs
local load, assert = load, assert
local setupvalue = debug.setupvalue
local table_pack, table_unpack, string_format, table_concat = table.pack, table.unpack, string.format, table.concat

local function ret(ok, ...)
  if not ok then error((...), 3) end
  return ...
end

local function count(...) return select('#', ...) end

-- handles: the host's tables and lists, wrapped so that a script cannot forge one
local H = {}
local TableMT, ListMT, NilMT = {}, {}, {}
local luaTable, luaList, luaNil = {}, {}, {}
TableMT.__index = luaTable; TableMT.__metatable = false
ListMT.__index = luaList; ListMT.__metatable = false
NilMT.__metatable = false
local the_nil = setmetatable({}, NilMT)

local K = {}
local function wrap(kind, value)
  if kind == 1 then return setmetatable({[H] = value, [K] = 1}, TableMT) end
  if kind == 2 then return setmetatable({[H] = value, [K] = 2}, ListMT) end
  if kind == 3 then return the_nil end
  return value
end

-- getmetatable cannot tell (the metatables are protected); the private keys can
local function unwrap(value)
  if type(value) == 'table' then
    local id = rawget(value, H)
    if id ~= nil then return rawget(value, K), id end
    if rawequal(value, the_nil) then return 3, nil end
    return 4, value
  end
  return 0, value
end

local function handle(self, kind, what)
  if type(self) ~= 'table' or rawget(self, K) ~= kind then error(what .. ' expected (call it with a colon: t:get(k))', 3) end
  return rawget(self, H)
end

local function got(ok, kind, value)
  if not ok then error(kind, 3) end
  return wrap(kind, value)
end

function luaTable.new() return wrap(1, ret(host(50))) end
function luaTable.get(self, key) return got(host(51, handle(self, 1, 'luaTable'), key)) end
function luaTable.set(self, key, value) local k, v = unwrap(value); return ret(host(52, handle(self, 1, 'luaTable'), key, k, v)) end
function luaTable.len(self) return ret(host(53, handle(self, 1, 'luaTable'))) end
function luaTable.del(self, key) return ret(host(54, handle(self, 1, 'luaTable'), key)) end
function luaTable.keys(self) return wrap(2, ret(host(55, handle(self, 1, 'luaTable')))) end
function luaTable.keyExists(self, key) return ret(host(56, handle(self, 1, 'luaTable'), key)) end
function luaList.new() return wrap(2, ret(host(60))) end
function luaList.get(self, index) return got(host(61, handle(self, 2, 'luaList'), index)) end
function luaList.set(self, index, value) local k, v = unwrap(value); return ret(host(62, handle(self, 2, 'luaList'), index, k, v)) end
function luaList.len(self) return ret(host(63, handle(self, 2, 'luaList'))) end
function luaList.del(self, index) return ret(host(64, handle(self, 2, 'luaList'), index)) end
function luaNil.new() return the_nil end

-- request, response and ctx: one object per call; the host knows which request and response they stand for
local Request, Response, Context = {}, {}, {}
local RequestMT = {__index = Request, __metatable = false}
local ResponseMT = {__index = Response, __metatable = false}
local ContextMT = {__index = Context, __metatable = false}

local function accessor(op, kinds)
  return function(self, ...)
    local n = count(...)
    if kinds and n >= 2 then
      local k, v = unwrap((select(2, ...)))
      return got(host(op, n, (select(1, ...)), k, v))
    end
    return got(host(op, n, ...))
  end
end

Request.method = accessor(10); Request.path = accessor(11); Request.query = accessor(12); Request.url = accessor(13)
Request.params = accessor(14); Request.headers = accessor(15); Request.headerList = accessor(16, true); Request.body = accessor(17)
Context.method = Request.method; Context.query = Request.query; Context.url = Request.url; Context.params = Request.params
Context.headers = Request.headers; Context.headerList = Request.headerList; Context.body = Request.body; Context.host = accessor(18)
Response.isComplete = accessor(30); Response.statusCode = accessor(31); Response.data = accessor(32)
Response.headers = accessor(33); Response.headerList = accessor(34, true); Response.body = accessor(35)

local available = {}
local request = {load = function() if not available.request then error('request.load() is not available here', 2) end return setmetatable({}, RequestMT) end}
local response = {load = function() if not available.response then error('response.load() is not available here', 2) end return setmetatable({}, ResponseMT) end}
local ctx = {load = function() if not available.ctx then error('ctx.load() is not available here', 2) end return setmetatable({}, ContextMT) end}

-- custom_error(message [, status [, content_type]]): ends the script and the request with that answer
local CustomError = {}
local function custom_error(...)
  if count(...) == 0 then error('custom_error needs a message', 2) end
  local message, status, content_type = ...
  error({[CustomError] = true, message = tostring(message), status = status, content_type = content_type}, 0)
end

local function readonly(real, name)
  return setmetatable({}, {__index = real, __metatable = false,
    __newindex = function() error('the standard library is read-only here (' .. name .. ')', 2) end})
end

local protected = setmetatable({}, {__mode = 'k'})
local base = {
  request = readonly(request, 'request'), response = readonly(response, 'response'), ctx = readonly(ctx, 'ctx'),
  luaTable = readonly(luaTable, 'luaTable'), luaList = readonly(luaList, 'luaList'), luaNil = readonly(luaNil, 'luaNil'),
  custom_error = custom_error,
}
for _, v in pairs(base) do protected[v] = true end

local current_env
if allow_open_libs then
  local function copy(t, names)
    local c = {}
    for name in names:gmatch('[%w_]+') do c[name] = t[name] end
    return c
  end
  local libraries = {
    string = copy(string, 'byte char find format gmatch gsub len lower match rep reverse sub upper pack packsize unpack'),
    table = copy(table, 'concat insert move pack remove sort unpack'),
    math = math, utf8 = utf8,
    coroutine = copy(coroutine, 'create isyieldable resume running status wrap yield'),
    os = copy(os, 'clock date difftime time'),
  }
  for name, lib in pairs(libraries) do
    local proxy = readonly(lib, name)
    protected[proxy] = true
    base[name] = proxy
  end
  base.assert, base.error, base.ipairs, base.next, base.pairs, base.pcall = assert, error, ipairs, next, pairs, pcall
  base.rawequal, base.rawget, base.rawlen, base.select = rawequal, rawget, rawlen, select
  base.tonumber, base.tostring, base.type = tonumber, tostring, type
  base._VERSION = _VERSION
  base.unpack = table_unpack -- Lua 5.1's name, which KrakenD's scripts use
  base.getmetatable = getmetatable
  base.setmetatable = function(t, mt)
    if type(mt) == 'table' and rawget(mt, '__gc') ~= nil then error('finalizers (__gc) are not available to scripts', 2) end
    return setmetatable(t, mt)
  end
  base.rawset = function(t, k, v)
    if protected[t] then error('the standard library is read-only here', 2) end
    return rawset(t, k, v)
  end
  -- The message handler runs after the error, as with pcall: never inside the error itself.
  base.xpcall = function(f, handler, ...)
    local result = table_pack(pcall(f, ...))
    if result[1] then return table_unpack(result, 1, result.n) end
    return false, handler(result[2])
  end
  -- Text chunks only (a binary chunk could crash the VM), in the request's environment unless one is given.
  base.load = function(chunk, name, mode, env)
    if type(chunk) ~= 'string' then error('load accepts Lua source text only', 2) end
    return load(chunk, name, 't', env or current_env)
  end
  base.loadstring = base.load
  base.print = function(...)
    local parts = table_pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    host(1, table_concat(parts, '\t', 1, parts.n))
  end
end

-- The string methods ("x"):upper() use the real string table, out of a script's reach; without allow_open_libs a
-- script has none, as in KrakenD.
local string_mt = getmetatable('')
if not allow_open_libs then string_mt.__index = nil end
string_mt.__metatable = false

local EnvMT = {__index = base, __metatable = false}
local chunks = {}
local sources = 0

local entry = {}

-- Compiles a chunk once per VM; returns its number, or nil and Lua's message.
function entry.compile(name, text, is_source)
  local f, message = load(text, name, 't', base)
  if not f then return nil, message end
  chunks[#chunks + 1] = f
  if is_source then sources = sources + 1 end
  return #chunks
end

-- A request starts: a fresh environment, the objects it may load, and the sources run in it.
function entry.begin(has_request, has_response, has_ctx)
  current_env = setmetatable({}, EnvMT)
  rawset(current_env, '_G', current_env)
  available.request, available.response, available.ctx = has_request, has_response, has_ctx
  for i = 1, sources do
    setupvalue(chunks[i], 1, current_env)
    chunks[i]()
  end
end

function entry.expose_response() available.response = true end

function entry.run(index)
  local f = chunks[index]
  setupvalue(f, 1, current_env)
  f()
end

function entry.finish()
  current_env = nil
  available.request, available.response, available.ctx = nil, nil, nil
end

-- What an error was: 'custom', message, status, content type; or 'error', message.
function entry.classify(e)
  if type(e) == 'table' and rawget(e, CustomError) then
    local status = tonumber(e.status)
    return 'custom', e.message, status and math.floor(status) or nil, e.content_type and tostring(e.content_type) or nil
  end
  if type(e) == 'string' then return 'error', e end
  return 'error', 'a script raised an error value of type ' .. type(e)
end

-- for the host: what a wrapped table, list or nil looks like
entry.H, entry.TableMT, entry.ListMT, entry.NilMT = H, TableMT, ListMT, NilMT
return entry
""";
}

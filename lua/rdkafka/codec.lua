--- Codecs for the service runtime: how an event becomes message bytes and
-- back. A codec is a table `{name=, content_type=, encode=, decode=}`;
-- `encode(value)` returns a string, `decode(bytes)` returns the value, or
-- nil and a reason. Either may also raise: the runtime catches it.
-- @module rdkafka.codec
local M = {}

local cjson_safe -- loaded on first use: a service on raw bytes needs no JSON
local function json()
  if not cjson_safe then
    local ok, mod = pcall(require, "cjson.safe")
    if not ok then
      error("the json codec needs lua-cjson (Debian: apt-get install lua-cjson; LuaRocks: lua-cjson)", 0)
    end
    cjson_safe = mod.new()
  end
  return cjson_safe
end

-- lua-cjson decodes every number as a float: on Lua 5.3+ whole numbers
-- become integers again (1, not 1.0), as the sender meant them.
local tointeger = math.tointeger
local function integers(value)
  local t = type(value)
  if t == "number" and tointeger then
    return tointeger(value) or value
  elseif t == "table" then
    for k, v in pairs(value) do
      local tv = type(v)
      if tv == "table" or tv == "number" then value[k] = integers(v) end
    end
  end
  return value
end

--- JSON through lua-cjson. Tables encode as objects or arrays; decode gives
-- tables, with JSON null as `cjson.null`. Numbers keep 14 significant
-- digits (lua-cjson's limit in Debian 12): send large ids as strings.
M.json = {
  name = "json",
  content_type = "application/json",
  encode = function(value)
    local s, err = json().encode(value)
    if s == nil then error("cannot encode the event as JSON: " .. tostring(err), 0) end
    return s
  end,
  decode = function(bytes)
    if bytes == nil then return nil, "no value (a tombstone?)" end
    local value, err = json().decode(bytes)
    if value == nil then return nil, "not JSON: " .. tostring(err) end
    return integers(value)
  end,
}

--- Raw bytes: the event is the message value itself (a string).
M.raw = {
  name = "raw",
  content_type = "application/octet-stream",
  encode = function(value)
    if type(value) ~= "string" then
      error("the raw codec sends strings, got " .. type(value), 0)
    end
    return value
  end,
  decode = function(bytes) return bytes end,
}

--- The codec a name or table stands for; raises naming `what` when it is
-- neither a known name nor a table with encode and decode functions.
function M.resolve(codec, what)
  if codec == nil then return M.json end
  if type(codec) == "string" then
    local known = M[codec]
    if type(known) ~= "table" or codec == "resolve" then
      error(("%s: unknown codec '%s' (json, raw, or a table with encode and decode)"):format(what, codec), 0)
    end
    return known
  end
  if type(codec) ~= "table" or type(codec.encode) ~= "function" or type(codec.decode) ~= "function" then
    error(("%s: codec must be \"json\", \"raw\" or a table with encode and decode functions, got %s")
      :format(what, type(codec)), 0)
  end
  return codec
end

return M

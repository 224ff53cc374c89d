--- Option tables of the service runtime and the publisher: their own
-- options (keys without a dot) checked by name and type, librdkafka
-- properties (keys with a dot, and acks, debug, partitioner, log_level)
-- passed through.
-- @module rdkafka.options
local M = {}

-- librdkafka properties without a dot in their name (`retries` is the
-- service's own option: librdkafka's is also `message.send.max.retries`).
local DOTLESS = { acks = true, debug = true, partitioner = true, log_level = true }

local function is_property(key)
  return key:find(".", 1, true) ~= nil or DOTLESS[key] ~= nil
end

local function fail(fname, fmt, ...)
  error(("%s: " .. fmt):format(fname, ...), 4)
end

--- Checks `opts` against `known` ({name = "type" | true}) and `required`
-- (a list of names); raises naming the option. With `own_only`, librdkafka
-- properties are unknown options too (the caller passes none on).
function M.check(fname, opts, known, required, own_only)
  if type(opts) ~= "table" then fail(fname, "options table expected, got %s", type(opts)) end
  for key, value in pairs(opts) do
    if type(key) ~= "string" then fail(fname, "option names must be strings, got %s", type(key)) end
    if not own_only and is_property(key) and known[key] == nil then
      local t = type(value)
      if t ~= "string" and t ~= "number" and t ~= "boolean" then
        fail(fname, "librdkafka property '%s' must be a string, number or boolean, got %s", key, t)
      end
    else
      local want = known[key]
      if want == nil then fail(fname, "unknown option '%s'", key) end
      if want ~= true and type(value) ~= want then
        fail(fname, "option '%s' must be a %s, got %s", key, want, type(value))
      end
    end
  end
  for _, key in ipairs(required or {}) do
    if opts[key] == nil then fail(fname, "option '%s' is required", key) end
  end
end

--- The librdkafka properties of `opts` (the keys with a dot), in a new table.
function M.librdkafka(opts)
  local conf = {}
  for key, value in pairs(opts) do
    if type(key) == "string" and is_property(key) then conf[key] = value end
  end
  return conf
end

--- The default log: one line on stderr.
function M.default_log(level, line)
  io.stderr:write(("[%s] %s\n"):format(level, line))
end

return M

--- rdkafka.admin: the admin handle's Lua half. `rdkafka.admin(conf)` makes
-- the handle; its C methods (topics, partitions, records, configs, groups, ACLs,
-- metadata) are in src/admin*.c. This file adds
-- @{rdkafka.Admin:alter_configs}, the safe form of Kafka's AlterConfigs,
-- and clear errors for the admin calls that librdkafka 2.0.2 does not have.
-- @module rdkafka.admin
local core = require("rdkafka.core")

local methods = core.admin_methods
local monotonic = core.monotonic
local INVALID_CONFIG = core.error_codes().INVALID_CONFIG
local BAD_MSG = core.error_codes()._BAD_MSG

local DEFAULT_TIMEOUT = 30

-- The source of a config set on this very resource, which AlterConfigs replaces.
local function own_source(entry)
  return entry.type == "topic" and "DYNAMIC_TOPIC_CONFIG" or "DYNAMIC_BROKER_CONFIG"
end

-- Each check_ function returns what is wrong with its argument, or nil.

-- The timeout in seconds and the other options of the trailing argument
-- (as a third and fourth result, after nil).
local function check_options(opts)
  local timeout, rest = opts, nil
  if type(opts) == "table" then
    timeout = nil
    rest = {}
    for k, v in pairs(opts) do
      if k == "timeout" then
        timeout = v
      elseif k == "validate_only" then
        if type(v) ~= "boolean" then return "option 'validate_only' must be a boolean, got " .. type(v) end
        rest[k] = v
      else
        return ("unknown option '%s' (expected timeout, validate_only)"):format(tostring(k))
      end
    end
    if timeout ~= nil and (type(timeout) ~= "number" or timeout ~= timeout or timeout < 0) then
      return "option 'timeout' must be a non-negative number of seconds"
    end
  elseif opts ~= nil and type(opts) ~= "number" then
    return "timeout (seconds) or options table expected, got " .. type(opts)
  elseif opts ~= nil and (opts ~= opts or opts < 0) then
    return "timeout must be a non-negative number of seconds"
  end
  return nil, timeout or DEFAULT_TIMEOUT, rest
end

local function check_name(i, r)
  if r.type == "topic" then
    if type(r.name) ~= "string" or r.name == "" or r.name:find("\0", 1, true) then
      return ("entry #%d: field 'name' must be a non-empty topic name"):format(i)
    end
  elseif r.type == "broker" then
    local id = tonumber(r.name)
    if not ((type(r.name) == "number" or (type(r.name) == "string" and r.name:match("^%d+$")))
        and id and id % 1 == 0 and id >= 0 and id <= 2147483647) then
      return ("entry #%d: field 'name' must be a broker id (an integer from 0 to 2147483647)"):format(i)
    end
  else
    return ("entry #%d: field 'type' must be \"topic\" or \"broker\""):format(i)
  end
end

local function check_entries(resources)
  if type(resources) ~= "table" or #resources == 0 then
    return "non-empty list of {type=, name=, configs=} tables expected"
  end
  for i, r in ipairs(resources) do
    if type(r) ~= "table" then return ("entry #%d must be a table, got %s"):format(i, type(r)) end
    for k in pairs(r) do
      if k ~= "type" and k ~= "name" and k ~= "configs" and k ~= "reset" then
        return ("entry #%d: unknown field '%s' (expected type, name, configs, reset)"):format(i, tostring(k))
      end
    end
    local wrong = check_name(i, r)
    if wrong then return wrong end
    if r.configs ~= nil and type(r.configs) ~= "table" then
      return ("entry #%d: field 'configs' must be a table, got %s"):format(i, type(r.configs))
    end
    for key, value in pairs(r.configs or {}) do
      if type(key) ~= "string" or key == "" then
        return ("entry #%d: config keys must be non-empty strings"):format(i)
      end
      local t = type(value)
      if t ~= "string" and t ~= "number" and t ~= "boolean" then
        return ("entry #%d: config '%s' must be a string, number or boolean, got %s"):format(i, key, t)
      end
    end
    if r.reset ~= nil and type(r.reset) ~= "table" then
      return ("entry #%d: field 'reset' must be a list of config names"):format(i)
    end
    for _, key in ipairs(r.reset or {}) do
      if type(key) ~= "string" or key == "" then
        return ("entry #%d: field 'reset' must hold config names"):format(i)
      end
    end
  end
end

-- The merged set of dynamic configs for resource r described as d, or nil
-- and the reason it cannot be made.
local function merge(r, d)
  local merged, reset, source = {}, {}, own_source(d)
  for _, key in ipairs(r.reset or {}) do reset[key] = true end
  for key, e in pairs(d.configs) do
    if e.source == "UNKNOWN_CONFIG" then -- a broker too old to say where a value comes from
      return nil, ("%s '%s': the broker does not say which configs are set on it, so they cannot be kept")
        :format(d.type, d.name)
    end
    if e.source == source and not reset[key] and (r.configs == nil or r.configs[key] == nil) then
      if e.value == nil then
        return nil, ("config '%s' is sensitive and set on %s '%s': its value cannot be read back, "
          .. "so give it in configs or name it in reset"):format(key, d.type, d.name)
      end
      merged[key] = e.value
    end
  end
  for key, value in pairs(r.configs or {}) do merged[key] = value end
  return merged
end

-- The same string for a resource as asked (a broker id as a number or a
-- string) and as answered.
local function resource_key(type_, name)
  if type_ == "broker" then return "broker:" .. ("%d"):format(tonumber(name)) end
  return type_ .. ":" .. name
end

local function by_resource(list)
  local map = {}
  for _, entry in ipairs(list) do map[resource_key(entry.type, entry.name)] = entry end
  return map
end

local function no_answer()
  return core.error(BAD_MSG, "the broker's answer has no entry for this resource")
end

-- a:alter_configs(resources [, opts]), a method of rdkafka.Admin (its LDoc
-- block is with the other methods, in src/admin_configs.c): changes some
-- configs of topics or brokers and keeps the others.
-- Kafka's AlterConfigs (the only form in librdkafka 2.0.2: incremental
-- alter came in 2.2) replaces a resource's whole set of dynamic configs.
-- This reads the set first, merges `configs` into it, drops the names in
-- `reset` (back to their defaults) and writes the result. It is not atomic:
-- a change another client makes between the read and the write is lost.
-- A sensitive config set on the resource cannot be read back, so unless
-- `configs` or `reset` names it, that resource is not written and gets an
-- INVALID_CONFIG error saying so. The timeout (30 s by default) bounds both
-- requests together.
function methods.alter_configs(a, resources, opts)
  local wrong = check_entries(resources)
  if wrong then error(("bad argument #1 to 'alter_configs' (%s)"):format(wrong), 2) end
  local timeout, rest
  wrong, timeout, rest = check_options(opts)
  if wrong then error(("bad argument #2 to 'alter_configs' (%s)"):format(wrong), 2) end
  local deadline = monotonic() + timeout
  local wanted = {}
  for i, r in ipairs(resources) do wanted[i] = { type = r.type, name = r.name } end
  local described, err = a:describe_configs(wanted, timeout)
  if not described then return nil, err end
  -- Paired by resource, not by position: an answer may leave one out.
  local found = by_resource(described)
  local results, writes, at = {}, {}, {}
  for i, r in ipairs(resources) do
    local d = found[resource_key(r.type, r.name)]
    if not d then
      d = { type = r.type, name = resource_key(r.type, r.name):match(":(.*)"), error = no_answer() }
    end
    results[i] = { type = d.type, name = d.name, error = d.error }
    if not d.error then
      local merged, why = merge(r, d)
      if merged then
        writes[#writes + 1] = { type = r.type, name = r.name, configs = merged }
        at[#writes] = i
      else
        results[i].error = core.error(INVALID_CONFIG, why)
      end
    end
  end
  if #writes == 0 then return results end
  local left = math.max(0, deadline - monotonic())
  if rest then rest.timeout = left end
  local written
  written, err = a:replace_configs(writes, rest or left)
  if not written then return nil, err end
  found = by_resource(written)
  for k, w in ipairs(writes) do
    local answer = found[resource_key(w.type, w.name)]
    if answer then
      results[at[k]].error = answer.error
    else
      results[at[k]].error = no_answer()
    end
  end
  return results
end

-- What librdkafka 2.0.2 lacks: a clear error naming the version that has
-- it and the way to do it here.
local MISSING = {
  list_offsets = { "2.3.0", "use consumer:watermarks() or consumer:offsets_for_times()" },
  describe_cluster = { "2.3.0", "use metadata(): brokers and controller_id" },
  describe_topics = { "2.3.0", "use metadata(topic)" },
  incremental_alter_configs = { "2.2.0", "use alter_configs, which reads, merges and writes" },
  describe_user_scram_credentials = { "2.2.0", "create SCRAM users with Kafka's own tools" },
  alter_user_scram_credentials = { "2.2.0", "create SCRAM users with Kafka's own tools" },
}
for name, what in pairs(MISSING) do
  methods[name] = function()
    error(("%s needs librdkafka >= %s, and this module wraps the admin API of librdkafka 2.0.2 "
      .. "(running %s): %s"):format(name, what[1], core.librdkafka_version, what[2]), 2)
  end
end

local M = {}

local DEFAULTS = {
  -- Asking for a topic's metadata must not create it.
  ["allow.auto.create.topics"] = false,
}

--- Creates an admin handle.
-- @tparam table conf librdkafka properties (`bootstrap.servers`, security
--   settings) plus `on_error(err)`, `on_log(level, facility, text)`, `on_stats(json)`
-- @treturn rdkafka.Admin
function M.new(conf)
  if type(conf) ~= "table" then
    error(("bad argument #1 to 'admin' (config table expected, got %s)"):format(type(conf)), 2)
  end
  local merged = {}
  for k, v in pairs(DEFAULTS) do merged[k] = v end
  for k, v in pairs(conf) do merged[k] = v end
  return core.admin(merged)
end

return M

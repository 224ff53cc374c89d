--- rdkafka.admin: the admin handle's Lua half. `rdkafka.admin(conf)` makes
-- the handle; its C methods (topics, partitions, records, configs, groups,
-- metadata) are in src/admin*.c. This file adds `alter_configs`, the safe
-- form of Kafka's AlterConfigs, and clear errors for the admin calls that
-- librdkafka 2.0.2 does not have.
-- @module rdkafka.admin
local core = require("rdkafka.core")

local methods = core.admin_methods
local monotonic = core.monotonic
local INVALID_CONFIG = core.error_codes().INVALID_CONFIG

local function argerror(n, fname, msg)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3)
end

-- The source of a config set on this very resource, which AlterConfigs replaces.
local function own_source(entry)
  if entry.type == "topic" then return "DYNAMIC_TOPIC_CONFIG" end
  if entry.name == "" then return "DYNAMIC_DEFAULT_BROKER_CONFIG" end
  return "DYNAMIC_BROKER_CONFIG"
end

-- The timeout in seconds and the other options of a trailing argument.
local function split_options(opts, fname)
  if opts == nil or type(opts) == "number" then return opts, nil end
  if type(opts) ~= "table" then
    argerror(2, fname, "timeout (seconds) or options table expected, got " .. type(opts))
  end
  local rest = {}
  for k, v in pairs(opts) do
    if k ~= "timeout" then rest[k] = v end
  end
  return opts.timeout, rest
end

local function check_entries(resources)
  if type(resources) ~= "table" or #resources == 0 then
    argerror(1, "alter_configs", "non-empty list of {type=, name=, configs=} tables expected")
  end
  for i, r in ipairs(resources) do
    if type(r) ~= "table" then argerror(1, "alter_configs", ("entry #%d must be a table"):format(i)) end
    if r.configs ~= nil and type(r.configs) ~= "table" then
      argerror(1, "alter_configs", ("entry #%d: field 'configs' must be a table"):format(i))
    end
    if r.reset ~= nil and type(r.reset) ~= "table" then
      argerror(1, "alter_configs", ("entry #%d: field 'reset' must be a list of config names"):format(i))
    end
    for _, key in ipairs(r.reset or {}) do
      if type(key) ~= "string" or key == "" then
        argerror(1, "alter_configs", ("entry #%d: field 'reset' must hold config names"):format(i))
      end
    end
    for k in pairs(r) do
      if k ~= "type" and k ~= "name" and k ~= "configs" and k ~= "reset" then
        argerror(1, "alter_configs", ("entry #%d: unknown field '%s' (expected type, name, configs, reset)")
          :format(i, tostring(k)))
      end
    end
  end
end

--- Changes some configs of topics or brokers and keeps the others.
-- Kafka's AlterConfigs (the only form in librdkafka 2.0.2: incremental
-- alter came in 2.2) replaces a resource's whole set of dynamic configs.
-- This reads the set first, merges `configs` into it, drops the names in
-- `reset` (back to their defaults) and writes the result. It is not atomic:
-- a change another client makes between the read and the write is lost.
-- A sensitive config set on the resource cannot be read back, so unless
-- `configs` or `reset` names it, that resource is not written and gets an
-- INVALID_CONFIG error saying so.
-- @tparam table resources `{{type="topic"|"broker", name=, configs={[key]=value}, reset={key, ...}}, ...}`
-- @param[opt] opts timeout in seconds (30 for each of the two requests), or `{timeout=, validate_only=}`
-- @return `{{type=, name=, error=}, ...}`, or nil and an error when a request failed as a whole
function methods.alter_configs(a, resources, opts)
  check_entries(resources)
  local timeout, rest = split_options(opts, "alter_configs")
  local started = monotonic()
  local wanted = {}
  for i, r in ipairs(resources) do wanted[i] = { type = r.type, name = r.name } end
  local described, err = a:describe_configs(wanted, timeout)
  if not described then return nil, err end
  local results, writes, at = {}, {}, {}
  for i, d in ipairs(described) do
    local r = resources[i]
    results[i] = { type = d.type, name = d.name, error = d.error }
    if not d.error then
      local merged, reset, source = {}, {}, own_source(d)
      for _, key in ipairs(r.reset or {}) do reset[key] = true end
      for key, e in pairs(d.configs) do
        if e.source == source and not reset[key] and (r.configs == nil or r.configs[key] == nil) then
          if e.value == nil then
            local why = ("config '%s' is sensitive and set on %s '%s': its value cannot be read back, "
              .. "so give it in configs or name it in reset"):format(key, d.type, d.name)
            results[i].error = core.error(INVALID_CONFIG, why)
            break
          end
          merged[key] = e.value
        end
      end
      for key, value in pairs(r.configs or {}) do merged[key] = value end
      if not results[i].error then
        writes[#writes + 1] = { type = r.type, name = r.name, configs = merged }
        at[#writes] = i
      end
    end
  end
  if #writes == 0 then return results end
  local left = timeout
  if left then left = math.max(0, left - (monotonic() - started)) end
  if rest then rest.timeout = left end
  local written
  written, err = a:replace_configs(writes, rest or left)
  if not written then return nil, err end
  for k, w in ipairs(written) do results[at[k]].error = w.error end
  return results
end

-- What librdkafka 2.0.2 lacks: a clear error naming the version that has
-- it and the way to do it here.
local MISSING = {
  list_offsets = { "2.3.0", "use consumer:watermarks() or consumer:offsets_for_times()" },
  describe_cluster = { "2.3.0", "use metadata(): brokers and controller_id" },
  describe_topics = { "2.3.0", "use metadata(topic)" },
  incremental_alter_configs = { "2.2.0", "use alter_configs, which reads, merges and writes" },
  describe_user_scram_credentials = { "2.3.0", "create SCRAM users with Kafka's own tools" },
  alter_user_scram_credentials = { "2.3.0", "create SCRAM users with Kafka's own tools" },
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
-- @return rdkafka.Admin
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

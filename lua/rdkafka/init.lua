--- rdkafka: Kafka producers, group consumers and an embedded mock cluster
-- for Lua, over librdkafka.
--
-- Misuse (a wrong argument type, an unknown config key, a closed handle)
-- raises an error that names the argument or key. Failures of Kafka itself
-- return `nil, err`, where `err` is an @{Error} object (see README).
-- @module rdkafka
local core = require("rdkafka.core")

local M = {
  _VERSION = "0.1.0",
  librdkafka_version = core.librdkafka_version,
  --- Every error code librdkafka knows, by name: `rdkafka.errors._TIMED_OUT`.
  errors = core.error_codes(),
  --- Builds an error object, for an application's own failure paths:
  -- `rdkafka.error(rdkafka.errors._TIMED_OUT, "no answer")`.
  -- @function error
  -- @tparam integer code a librdkafka error code (`rdkafka.errors.NAME`)
  -- @tparam[opt] string message default: librdkafka's text for `code`
  -- @treturn Error
  error = core.error,
}

--- The error object of a Kafka failure: the `err` of `nil, err`, of
-- `on_error(err)` and of an entry's `error` field in results.
-- `tostring(err)` gives `NAME: message`. An error about a partition, from a
-- consumer's `poll` or `consume`, also has `topic`, `partition` and, when
-- known, `offset`.
-- @table Error
-- @tfield integer code librdkafka's error code (`rdkafka.errors` lists them)
-- @tfield string name e.g. `_QUEUE_FULL`, `_TIMED_OUT`, `UNKNOWN_TOPIC_OR_PART`
-- @tfield string message human-readable text
-- @tfield boolean retriable trying again may succeed
-- @tfield boolean fatal the client is unusable: close it and create a new one
-- @tfield boolean txn_requires_abort the current transaction must be aborted

-- Safe defaults a user would want; anything given in conf wins.
local PRODUCER_DEFAULTS = {
  ["enable.idempotence"] = true,        -- no duplicates or reordering on retry
  ["partitioner"] = "murmur2_random",   -- same key, same partition as the Java client
}
local CONSUMER_DEFAULTS = {
  ["enable.auto.commit"] = false,       -- commit only what the application processed
  -- librdkafka before 2.2 stops fetching for up to a second once its local
  -- queue reaches queued.min.messages (100,000 by default): a consumer able
  -- to handle more per second idles. A higher count leaves the payload bound
  -- (queued.max.messages.kbytes, 64 MB) in charge; a full queue of small
  -- messages then costs a few hundred MB (README: the trade-off, measured).
  ["queued.min.messages"] = 1000000,
}
-- 2.2 made that pause configurable: wake up as soon as the queue drains.
if core.librdkafka_version_num >= 0x020200ff then
  CONSUMER_DEFAULTS["fetch.queue.backoff.ms"] = 10
end

local function with_defaults(fname, conf, defaults)
  if type(conf) ~= "table" then
    error(("bad argument #1 to '%s' (config table expected, got %s)"):format(fname, type(conf)), 3)
  end
  local merged = {}
  for k, v in pairs(defaults) do merged[k] = v end
  for k, v in pairs(conf) do merged[k] = v end
  return merged
end

--- Creates a producer.
-- @tparam table conf librdkafka properties plus `on_delivery(err, msg)`,
--   `on_error(err)`, `on_log(level, facility, text)`, `on_stats(json)`,
--   `on_throttle(broker, seconds, broker_id)`.
-- @treturn rdkafka.Producer
function M.producer(conf)
  return core.producer(with_defaults("producer", conf, PRODUCER_DEFAULTS))
end

--- Creates a group consumer. `group.id` is required.
-- @tparam table conf librdkafka properties plus `on_error`, `on_log`, `on_stats`,
--   `on_throttle`, `on_assign(c, partitions)`, `on_revoke(c, partitions)`, `on_lost(c, partitions)`,
--   `on_commit(err, partitions)`.
-- @treturn rdkafka.Consumer
function M.consumer(conf)
  local merged = with_defaults("consumer", conf, CONSUMER_DEFAULTS)
  local group = merged["group.id"]
  if type(group) ~= "string" or group == "" then
    error("config key 'group.id': a consumer needs a non-empty group id", 2)
  end
  return core.consumer(merged)
end

local monotonic = core.monotonic

-- c:lag([timeout]), a method of rdkafka.Consumer (its LDoc block is with
-- the other methods, in src/offsets.c): per assigned partition, the position
-- (else the committed offset, else the low watermark) against the high
-- watermark. One deadline bounds all the queries; timeout 0 asks no broker
-- and uses what the consumer already knows (cached_watermarks, position).
function core.consumer_methods.lag(c, timeout)
  if timeout == nil then timeout = 10 end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 then
    error("bad argument #1 to 'lag' (timeout must be a non-negative number of seconds)", 2)
  end
  local assigned, err = c:assignment()
  if not assigned then return nil, err end
  if #assigned == 0 then return assigned end
  if timeout == 0 then
    local positions, result = c:position(assigned), {}
    for i, entry in ipairs(assigned) do
      local _, high = c:cached_watermarks(entry.topic, entry.partition)
      local position = positions[i].offset
      result[i] = { topic = entry.topic, partition = entry.partition, position = position, high = high,
        lag = (position and high) and math.max(0, high - position) or nil }
    end
    return result
  end
  local deadline = monotonic() + timeout
  local function left() return math.max(0, deadline - monotonic()) end
  local positions = c:position(assigned)
  local committed
  committed, err = c:committed(assigned, left())
  if not committed then return nil, err end
  local result = {}
  for i, entry in ipairs(assigned) do
    local low, high = c:watermarks(entry.topic, entry.partition, left())
    if not low then return nil, high end
    local position, done = positions[i].offset, committed[i].offset
    result[i] = { topic = entry.topic, partition = entry.partition, position = position,
      committed = done, high = high, lag = math.max(0, high - (position or done or low)) }
  end
  return result
end

--- Creates an admin handle: topics, partitions, records, configs, consumer
-- groups and their offsets, metadata (see rdkafka.admin and the README).
-- @function admin
-- @tparam table conf librdkafka properties plus `on_error`, `on_log`, `on_stats`, `on_throttle`
-- @treturn rdkafka.Admin
M.admin = require("rdkafka.admin").new

--- Starts librdkafka's in-process mock cluster on 127.0.0.1.
-- @tparam[opt] table opts `{brokers = 1}`
-- @treturn rdkafka.MockCluster with `bootstrap_servers`, `create_topic(name, partitions, replication)`
function M.mock_cluster(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(("bad argument #1 to 'mock_cluster' (table expected, got %s)"):format(type(opts)), 2)
  end
  for k in pairs(opts) do
    if k ~= "brokers" then
      error(("bad argument #1 to 'mock_cluster' (unknown option '%s')"):format(tostring(k)), 2)
    end
  end
  local brokers = opts.brokers or 1
  if type(brokers) ~= "number" or brokers % 1 ~= 0 then
    error("bad argument #1 to 'mock_cluster' (option 'brokers' must be an integer)", 2)
  end
  return core.mock_cluster(brokers)
end

return M

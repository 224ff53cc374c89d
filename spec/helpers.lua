-- Shared by the specs: unique names, waiting with a deadline, the real broker.
local rdkafka = require("rdkafka")

local helpers = {}

local counter = 0
--- A topic or group name no other test (or earlier run) has used.
function helpers.unique(prefix)
  counter = counter + 1
  return ("%s-%d-%d-%d"):format(prefix, os.time(), math.random(1, 1e6), counter)
end

-- os.time has 1 s resolution; a monotonic clock is not in plain Lua, and a
-- second of slack is fine for deadlines of several seconds.
local function now() return os.time() end

--- Calls fn until it returns a true value or `seconds` pass; returns its last result.
function helpers.wait_until(seconds, fn)
  local deadline = now() + seconds
  repeat
    local result = fn()
    if result then return result end
  until now() > deadline
  return nil
end

--- Polls `consumer` until `n` messages arrived or `seconds` passed; returns them.
function helpers.consume(consumer, n, seconds)
  local got = {}
  helpers.wait_until(seconds, function()
    local msg, err = consumer:poll(0.2)
    if msg then got[#got + 1] = msg end
    assert(err == nil or err.name == "_PARTITION_EOF", tostring(err))
    return #got >= n
  end)
  return got
end

--- Polls `consumer` for `seconds` and returns every message that arrived.
function helpers.drain(consumer, seconds)
  local got = {}
  local deadline = now() + seconds
  while now() <= deadline do
    local msg = consumer:poll(0.2)
    if msg then got[#got + 1] = msg end
  end
  return got
end

--- The real broker's bootstrap servers (from `scripts/kafka up`), or nil.
function helpers.kafka_bootstrap()
  local env = os.getenv("KAFKA_BOOTSTRAP")
  if env and env ~= "" then return env end
  local pipe = io.popen("scripts/kafka bootstrap 2>/dev/null")
  local out = pipe and pipe:read("*l")
  if pipe then pipe:close() end
  return out ~= "" and out or nil
end

--- A mock cluster with the given topics ({name = partitions}); close it after.
function helpers.mock_with_topics(topics, brokers)
  local mc = rdkafka.mock_cluster { brokers = brokers or 1 }
  for name, partitions in pairs(topics) do
    assert(mc:create_topic(name, partitions, 1))
  end
  return mc
end

--- Consumer settings that make group joins quick on the mock cluster.
function helpers.consumer_conf(bootstrap, group, extra)
  local conf = {
    ["bootstrap.servers"] = bootstrap,
    ["group.id"] = group,
    ["auto.offset.reset"] = "earliest",
    ["session.timeout.ms"] = 6000,
    ["heartbeat.interval.ms"] = 500,
  }
  for k, v in pairs(extra or {}) do conf[k] = v end
  return conf
end

return helpers

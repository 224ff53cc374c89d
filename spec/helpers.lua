-- Shared by the specs: unique names, waiting with a deadline, the real broker.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")

local helpers = {}

local function merged(base, extra)
  for k, v in pairs(extra or {}) do base[k] = v end
  return base
end

local counter = 0
--- A topic or group name no other test (or earlier run) has used.
function helpers.unique(prefix)
  counter = counter + 1
  return ("%s-%d-%d-%d"):format(prefix, os.time(), math.random(1, 1e6), counter)
end

--- Seconds on a monotonic clock (plain Lua has none finer than a second).
local now = core.monotonic
helpers.now = now

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

-- The keys of a table, sorted.
function helpers.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

--- The message of the error fn raises (fails the spec when it raises none).
function helpers.errmsg(fn)
  local ok, err = pcall(fn)
  assert(not ok, "expected an error, got none")
  return tostring(err)
end

--- A producer pointed at a port where no broker listens: nothing is delivered.
function helpers.offline_producer(extra)
  return rdkafka.producer(merged({ ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0,
    on_delivery = function() end }, extra))
end

--- A consumer pointed at a port where no broker listens.
function helpers.offline_consumer(extra)
  return rdkafka.consumer(merged({ ["bootstrap.servers"] = "127.0.0.1:1", ["group.id"] = "g",
    ["log_level"] = 0 }, extra))
end

--- Waits (up to `seconds`) for closes still going on in the background, so
-- that they do not load the specs after (valgrind runs threads one at a time).
function helpers.settle(seconds)
  return helpers.wait_until(seconds or 60, function() return core._shutdowns() == 0 end)
end

--- Collects the handles earlier specs dropped and waits for their threads
-- to end: under valgrind, which runs threads one at a time, they would slow
-- a mock broker past librdkafka's request timeouts.
function helpers.quiet()
  collectgarbage()
  collectgarbage()
  return helpers.settle()
end

--- How many threads this process runs now (Linux: /proc/self/status).
function helpers.threads()
  local f = assert(io.open("/proc/self/status"))
  local status = f:read("*a")
  f:close()
  return tonumber(status:match("Threads:%s*(%d+)"))
end

--- The command that runs this Lua runtime, with this process's module paths.
function helpers.lua_command()
  local bin = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
  return ("LUA_PATH='%s' LUA_CPATH='%s' %s"):format(package.path, package.cpath, bin)
end

--- The directory of the compiled test helpers for this runtime.
function helpers.support_dir()
  local runtime = rawget(_G, "jit") and "luajit" or _VERSION:match("%d+%.%d+")
  return "build/" .. runtime .. "/spec"
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

--- Creates a topic on the real broker started by scripts/kafka (auto-created
-- topics get 3 partitions).
function helpers.create_topic(name, partitions, replication)
  local ok = os.execute(("scripts/kafka create-topic '%s' %d %d"):format(name, partitions, replication or 1))
  assert(ok == true or ok == 0, "scripts/kafka create-topic " .. name .. " failed")
end

local transactions_ready = {}
--- Waits (up to 3 minutes) until the broker at `bootstrap` runs transactions:
-- a fresh broker creates its transaction log (50 partitions) on the first
-- transactional producer, which takes long enough on a loaded machine to
-- time out a spec's first commit. Once per broker and process.
function helpers.transactions_ready(bootstrap)
  if transactions_ready[bootstrap] then return end
  local topic = "txn-warmup"
  local deadline = now() + 180
  local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["transactional.id"] = "txn-warmup",
    ["log_level"] = 0 }
  local ok, err = p:init_transactions(180)
  assert(ok, "init_transactions: " .. tostring(err))
  repeat
    assert(p:begin_transaction())
    assert(p:produce(topic, "warm-up"))
    ok, err = p:commit_transaction(math.max(1, deadline - now()))
    if not ok then
      assert(err.retriable or err.txn_requires_abort, "commit_transaction: " .. tostring(err))
      if err.txn_requires_abort then assert(p:abort_transaction(30)) end
    end
  until ok or now() > deadline
  p:close()
  assert(ok, "transactions never worked within 3 minutes: " .. tostring(err))
  transactions_ready[bootstrap] = true
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
  return merged({
    ["bootstrap.servers"] = bootstrap,
    ["group.id"] = group,
    ["auto.offset.reset"] = "earliest",
    ["session.timeout.ms"] = 6000,
    ["heartbeat.interval.ms"] = 500,
  }, extra)
end

return helpers

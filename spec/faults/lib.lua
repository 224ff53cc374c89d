-- Shared by the fault scenarios (spec/faults/*.lua, run by spec/faults/run):
-- the cluster's node commands, topics, leaders, reading a topic back whole,
-- counting what was lost, doubled or reordered, and the result line.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")

local lib = {}
lib.now = core.monotonic

local kafka_script = os.getenv("KAFKA_SCRIPT") or "scripts/kafka"
local log = os.getenv("FAULTS_LOG") or "/dev/null"

local function sh(command)
  local r = os.execute(command)
  return r == true or r == 0
end
lib.sh = sh

--- Runs `scripts/kafka ARGS...` (a node command) and waits for it; raises on failure.
function lib.kafka(...)
  local args = table.concat({ ... }, " ")
  assert(sh(("%s %s >>%s 2>&1"):format(kafka_script, args, log)), "scripts/kafka " .. args .. " failed")
  lib.say("kafka " .. args)
end

--- The same in the background, so the scenario goes on while a node starts;
--- returns a function that says whether the command has succeeded yet.
function lib.kafka_background(...)
  local args = table.concat({ ... }, " ")
  local marker = os.tmpname()
  os.remove(marker)
  assert(sh(("(%s %s >>%s 2>&1 && touch %s) &"):format(kafka_script, args, log, marker)))
  lib.say("kafka " .. args .. " (background)")
  return function()
    local f = io.open(marker)
    if not f then return false end
    f:close()
    os.remove(marker)
    return true
  end
end

local t0 = lib.now()
function lib.say(text)
  io.stderr:write(("[%7.2f] %s\n"):format(lib.now() - t0, text))
end

function lib.sleep(seconds)
  sh(("sleep %.3f"):format(seconds))
end

function lib.bootstrap()
  local b = os.getenv("KAFKA_BOOTSTRAP")
  if b and b ~= "" then return b end
  local f = assert(io.popen(kafka_script .. " bootstrap 2>/dev/null"))
  b = f:read("*l")
  f:close()
  assert(b and b ~= "", "no Kafka cluster: run `scripts/kafka up --brokers 3`")
  return b
end

--- conf plus the properties in FAULTS_CONF ("key=value,key=value"), for trying settings.
function lib.conf(conf)
  for k, v in (os.getenv("FAULTS_CONF") or ""):gmatch("([^=,]+)=([^,]*)") do conf[k] = v end
  return conf
end

--- A topic or group name no other run has used (the specs' own helper).
lib.unique = require("helpers").unique

--- Creates a topic replicated on all three brokers and waits until every
--- partition has a leader.
function lib.create_topic(bootstrap, name, partitions)
  local admin <close> = rdkafka.admin { ["bootstrap.servers"] = bootstrap }
  local res = assert(admin:create_topics { { name = name, partitions = partitions, replication_factor = 3 } })
  assert(res[1].error == nil, tostring(res[1].error))
  local deadline = lib.now() + 30
  repeat
    local md = admin:metadata(name)
    local t = md and md.topics[1]
    if t and t.error == nil and #t.partitions == partitions then
      local ok = true
      for _, p in ipairs(t.partitions) do ok = ok and p.leader >= 1 and #p.isrs == 3 end
      if ok then return end
    end
    lib.sleep(0.2)
  until lib.now() > deadline
  error("topic " .. name .. " did not get a leader for every partition")
end

--- partition -> leader's node id, as the cluster says now (-1: none).
function lib.leaders(bootstrap, topic)
  local admin <close> = rdkafka.admin { ["bootstrap.servers"] = bootstrap }
  local md = assert(admin:metadata(topic, 10))
  local leaders = {}
  for _, p in ipairs(md.topics[1].partitions) do leaders[p.id] = p.leader end
  return leaders
end

--- Reads every partition of `topic` from the beginning to its high watermark
--- (read_committed) and calls fn(msg) for each message in offset order.
function lib.read_all(bootstrap, topic, partitions, fn)
  local c <close> = rdkafka.consumer {
    ["bootstrap.servers"] = bootstrap, ["group.id"] = lib.unique("faults-reader"),
    ["enable.partition.eof"] = false,
  }
  local list, left = {}, 0
  local highs = {}
  for p = 0, partitions - 1 do
    local low, high
    local until_ = lib.now() + 60 -- right after a restart a partition may have no leader yet
    repeat
      low, high = c:watermarks(topic, p, 10)
      if not low then lib.sleep(0.5) end
    until low or lib.now() > until_
    assert(low, tostring(high))
    highs[p] = high
    list[#list + 1] = { topic = topic, partition = p, offset = "beginning" }
  end
  assert(c:assign(list))
  local at = {}
  for p = 0, partitions - 1 do
    at[p] = 0
    if highs[p] > 0 then left = left + 1 end
  end
  local n, deadline = 0, lib.now() + 300
  while left > 0 do
    assert(lib.now() < deadline, "reading the topic back took more than 300 s")
    local batch = c:consume(1000, 1)
    for _, msg in ipairs(batch) do
      fn(msg)
      n = n + 1
      if msg.offset + 1 >= highs[msg.partition] and at[msg.partition] < highs[msg.partition] then
        left = left - 1
      end
      at[msg.partition] = msg.offset + 1
    end
  end
  return n
end

--- Counts, for values "<key>:<seq>[:...]" with seq 1..sent[key] per key, how many
--- are missing, how many came more than once, and how many came after a
--- later one of the same key; `seen` holds every "<key>:<seq>" read.
function lib.check_keyed(bootstrap, topic, partitions, sent)
  local seen, last = {}, {}
  local dup, reordered, unknown = 0, 0, 0
  local read = lib.read_all(bootstrap, topic, partitions, function(msg)
    local key, seq = msg.value:match("^([^:]*):(%d+)")
    seq = tonumber(seq)
    if not key or key ~= msg.key or not sent[key] or seq > sent[key] then
      unknown = unknown + 1
      return
    end
    local id = key .. ":" .. seq
    if seen[id] then dup = dup + 1 else seen[id] = true end
    if last[key] and seq < last[key] then reordered = reordered + 1 end
    if not last[key] or seq > last[key] then last[key] = seq end
  end)
  local lost, total = 0, 0
  for key, n in pairs(sent) do
    total = total + n
    for seq = 1, n do
      if not seen[key .. ":" .. seq] then lost = lost + 1 end
    end
  end
  return { read = read, sent = total, lost = lost, duplicated = dup, reordered = reordered, unknown = unknown,
    seen = seen }
end

--- Process CPU seconds (every thread: librdkafka's too).
lib.cpu = os.clock

--- CPU seconds of each thread of this process, by "name/tid" (Linux /proc).
function lib.thread_cpu()
  local ticks = 100 -- USER_HZ on Linux
  local out = {}
  local dir = "/proc/" .. (io.open("/proc/self/stat"):read("*l"):match("^(%d+)")) .. "/task/"
  local list = io.popen("ls " .. dir)
  for tid in list:lines() do
    local f = io.open(dir .. tid .. "/stat")
    if f then
      local line = f:read("*l")
      f:close()
      local name, rest = line:match("%((.*)%) (.*)$")
      local fields = {}
      for v in rest:gmatch("%S+") do fields[#fields + 1] = v end
      out[name .. "/" .. tid] = (tonumber(fields[12]) + tonumber(fields[13])) / ticks
    end
  end
  list:close()
  return out
end

--- The threads that used the most CPU between two thread_cpu() readings.
function lib.busiest_threads(before, after, n)
  local list = {}
  for k, v in pairs(after) do list[#list + 1] = { k, v - (before[k] or 0) } end
  table.sort(list, function(a, b) return a[2] > b[2] end)
  local parts = {}
  for j = 1, math.min(n or 5, #list) do parts[j] = ("%s %.2fs"):format(list[j][1], list[j][2]) end
  return table.concat(parts, ", ")
end

--- The result line spec/faults/run collects (tab-separated):
--- fault, sent, lost, duplicated, seconds to recover, verdict, notes.
function lib.result(r)
  local ok = r.ok
  io.stdout:write(("RESULT\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n"):format(
    r.fault, r.sent, r.lost, r.duplicated,
    r.recover and ("%.1f"):format(r.recover) or "-", ok and "pass" or "FAIL", r.notes or ""))
  io.stdout:flush()
  if not ok then os.exit(1) end
end

return lib

-- Kill -9 the leader of the busiest partition while producing keyed messages
-- (acks=all, idempotence, RF 3, min.insync.replicas 2); restart it; kill
-- another leader; restart it. Then read the topic back: every message
-- exactly once, in order per key, and a delivery report for each.
--   lua5.4 spec/faults/kill_leader.lua [MESSAGES [SECONDS]]
local rdkafka = require("rdkafka")
local lib = require("faults.lib")

local N = tonumber(arg[1]) or 1000000
local SECONDS = tonumber(arg[2]) or 40
local KEYS, PARTITIONS = 1000, 6
local bootstrap = lib.bootstrap()
local topic = lib.unique("faults-kill")
lib.create_topic(bootstrap, topic, PARTITIONS)

local delivered, failed, per_partition = 0, 0, {}
local failures = {}
local watch = nil -- { affected = {partition = true}, since = t, recovered = seconds }
local recoveries = {}

local p = rdkafka.producer {
  ["bootstrap.servers"] = bootstrap,
  ["delivery.report.fields"] = "none",
  on_delivery = function(err, msg)
    if err then
      failed = failed + 1
      failures[err.name] = (failures[err.name] or 0) + 1
      return
    end
    delivered = delivered + 1
    per_partition[msg.partition] = (per_partition[msg.partition] or 0) + 1
    -- Recovered: a message produced after the kill is on one of the dead
    -- leader's partitions (reports already on their way do not count).
    if watch and not watch.recovered and watch.affected[msg.partition] and msg.opaque > watch.produced then
      watch.recovered = lib.now() - watch.since
      recoveries[#recoveries + 1] = watch.recovered
      lib.say(("partitions of node %d delivered again after %.1f s"):format(watch.node, watch.recovered))
    end
  end,
  on_error = function(err) lib.say("on_error: " .. tostring(err)) end,
}

local function busiest_leader(avoid)
  local best, count = nil, -1
  for part = 0, PARTITIONS - 1 do
    if (per_partition[part] or 0) > count then best, count = part, per_partition[part] or 0 end
  end
  local leaders = lib.leaders(bootstrap, topic)
  local node = leaders[best]
  if node == avoid or node < 1 then -- busiest led by the node just restarted: take another partition's leader
    for part = 0, PARTITIONS - 1 do
      if leaders[part] ~= avoid and leaders[part] >= 1 then best, node = part, leaders[part] break end
    end
  end
  local affected = {}
  for part, leader in pairs(leaders) do if leader == node then affected[part] = true end end
  return node, best, affected
end

local i = 0
local function kill_busiest(avoid)
  local node, part, affected = busiest_leader(avoid)
  lib.kafka("kill", node)
  lib.say(("killed node %d, leader of the busiest partition %d"):format(node, part))
  watch = { node = node, affected = affected, since = lib.now(), produced = i }
  return node
end

local sent, seq = {}, {}
local keys = {}
for k = 1, KEYS do keys[k] = "k" .. k end
local first, second, restarted
local start = lib.now()
while i < N do
  local due = math.min(N, math.floor((lib.now() - start) * N / SECONDS) + 500)
  while i < due do
    local key = keys[i % KEYS + 1]
    local s = (seq[key] or 0) + 1
    local ok, err = p:produce(topic, key .. ":" .. s, key, nil, i + 1)
    if ok then
      seq[key], i = s, i + 1
    elseif err.name == "_QUEUE_FULL" then
      p:poll(0.05)
    else
      error(err)
    end
  end
  if not first and i >= N * 0.15 then
    first = kill_busiest()
  elseif first and not restarted and i >= N * 0.3 then
    restarted = lib.kafka_background("start", first)
  elseif restarted and not second and i >= N * 0.6 and restarted() then
    second = kill_busiest(first)
  end
  p:poll(0.005)
end
lib.say(("produced %d in %.1f s; flushing"):format(N, lib.now() - start))
local left = p:flush(300)
if second then lib.kafka("start", second) else lib.say("the second kill never happened") end
p:close()
for k, v in pairs(seq) do sent[k] = v end
local r = lib.check_keyed(bootstrap, topic, PARTITIONS, sent)
local names = {}
for name, n in pairs(failures) do names[#names + 1] = name .. "=" .. n end
lib.say(("delivered %d, failed %d (%s), left %d; read %d: lost %d, duplicated %d, reordered %d, unknown %d")
  :format(delivered, failed, table.concat(names, ","), left, r.read, r.lost, r.duplicated, r.reordered, r.unknown))
local recover = math.max(recoveries[1] or math.huge, recoveries[2] or math.huge)
lib.result {
  fault = "kill -9 a partition leader, restart it, kill another (1 of 3 down at a time)",
  sent = N, lost = r.lost, duplicated = r.duplicated, recover = recover,
  ok = second ~= nil and #recoveries == 2 and delivered == N and failed == 0 and left == 0
    and r.lost == 0 and r.duplicated == 0 and r.reordered == 0 and r.unknown == 0,
  notes = ("partitions served again %.1f s and %.1f s after each kill; %d reports, %d failed; %d out of order per key")
    :format(recoveries[1] or -1, recoveries[2] or -1, delivered + failed, failed, r.reordered),
}

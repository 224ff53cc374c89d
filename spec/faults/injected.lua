-- Slow and failing brokers, injected into librdkafka's mock cluster (3
-- brokers in this process, no real Kafka): keyed messages produced in four
-- rounds, each after its own fault. Rounds 1-3 must each land exactly once
-- with every report a success, and the slowest delivery stay bounded; round
-- 4 must end with every message reported and the failures marked fatal.
--   lua5.4 spec/faults/injected.lua [MESSAGES_PER_ROUND]
local rdkafka = require("rdkafka")
local lib = require("faults.lib")

local N = tonumber(arg[1]) or 20000
local RTT = 0.2
local PARTITIONS = 6
local m = rdkafka.mock_cluster { brokers = 3 }
local topic = lib.unique("faults-injected")
assert(m:create_topic(topic, PARTITIONS, 3))

local function quantile(sorted, q) return sorted[math.max(1, math.ceil(#sorted * q))] end

-- Produces N keyed messages ("<key>:<seq>"), waits for every report; returns
-- the sorted delivery latencies (s), the failed reports and the seq per key.
local seq = {}
local function round(name, before)
  local latencies, failed, errors, accepted, refused = {}, {}, {}, 1, 0
  local p = rdkafka.producer {
    ["bootstrap.servers"] = m.bootstrap_servers,
    on_delivery = function(err, msg)
      if err then failed[#failed + 1] = err else latencies[#latencies + 1] = lib.now() - msg.opaque end
    end,
    on_error = function(err) errors[#errors + 1] = err end,
  }
  assert(p:produce(topic, "warm-up", nil, nil, lib.now())) -- connections and the producer id, before the fault
  assert(p:flush(30) == 0)
  before()
  for i = 1, N do
    local key = "k" .. (i % 500)
    local s = (seq[key] or 0) + 1
    local ok, err = p:produce(topic, key .. ":" .. s, key, nil, lib.now())
    while not ok and err.name == "_QUEUE_FULL" do
      p:poll(0.01)
      ok, err = p:produce(topic, key .. ":" .. s, key, nil, lib.now())
    end
    if ok then
      seq[key], accepted = s, accepted + 1
    elseif err.fatal then
      refused = refused + 1 -- a fatal producer refuses new messages at once: reported by produce itself
    else
      error(err)
    end
    if i % 1000 == 0 then p:poll(0) end
  end
  local left = p:flush(120)
  p:close()
  table.sort(latencies)
  lib.say(("%s: %d delivered, %d failed, %d left; latency p50 %.3f s, p99 %.3f s, max %.3f s; %d on_error")
    :format(name, #latencies, #failed, left, quantile(latencies, 0.5) or -1, quantile(latencies, 0.99) or -1,
      latencies[#latencies] or -1, #errors))
  return { latencies = latencies, failed = failed, errors = errors, left = left, accepted = accepted,
    refused = refused }
end

local base = round("no fault", function() end)
local slow = round(("%.0f ms round trips on broker 1"):format(RTT * 1000), function() assert(m:set_rtt(1, RTT)) end)
assert(m:set_rtt(1, 0))
local kinds = { "NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS", "LEADER_NOT_AVAILABLE" }
local burst = {}
for i = 1, 20 do burst[i] = kinds[(i - 1) % #kinds + 1] end
local retried = round("20 retriable Produce errors", function()
  assert(m:push_request_errors("Produce", table.unpack(burst)))
end)
local sent = {}
for k, v in pairs(seq) do sent[k] = v end
local fatal = round("OUT_OF_ORDER_SEQUENCE_NUMBER on Produce", function()
  assert(m:push_request_errors("Produce", "OUT_OF_ORDER_SEQUENCE_NUMBER"))
end)

local r = lib.check_keyed(m.bootstrap_servers, topic, PARTITIONS, sent)
local fatal_marked = 0
for _, err in ipairs(fatal.failed) do if err.fatal then fatal_marked = fatal_marked + 1 end end
local fatal_errors = 0
for _, err in ipairs(fatal.errors) do if err.fatal then fatal_errors = fatal_errors + 1 end end
local slowest = math.max(slow.latencies[#slow.latencies], retried.latencies[#retried.latencies])
lib.say(("rounds 1-3 read back: %d read, lost %d, duplicated %d, reordered %d; round 4: %d failed, %d marked fatal,"
  .. " %d fatal on_error"):format(r.read, r.lost, r.duplicated, r.reordered, #fatal.failed, fatal_marked, fatal_errors))
-- Round 4's messages are in the topic too (before the fatal error some were
-- delivered): the check above counts them as unknown values past sent[key].
lib.result {
  fault = ("mock cluster: %.0f ms round trips on one broker; 20 retriable Produce errors; then a fatal one")
    :format(RTT * 1000),
  sent = 4 * N, lost = r.lost, duplicated = r.duplicated, recover = slowest,
  ok = #base.failed + #slow.failed + #retried.failed == 0 and base.left + slow.left + retried.left == 0
    and r.lost == 0 and r.duplicated == 0 and r.reordered == 0 and slowest < 5
    and #fatal.latencies + #fatal.failed == fatal.accepted and fatal.accepted + fatal.refused == N + 1
    and fatal.left == 0 and #fatal.failed + fatal.refused > 0
    and fatal_marked == #fatal.failed and fatal_errors >= 1,
  notes = ("p99 delivery %.2f s with no fault, %.2f s with slow answers, %.2f s through the retriable errors"
    .. " (slowest %.2f s); after the fatal error %d reports failed, all marked fatal, and produce refused %d")
    :format(quantile(base.latencies, 0.99), quantile(slow.latencies, 0.99), quantile(retried.latencies, 0.99),
      slowest, #fatal.failed, fatal.refused),
}

-- Every broker killed with -9 for 30 s while producing, then all restarted.
-- "buffer": the default message.timeout.ms (300 s) outlasts the outage: the
-- producer keeps what it cannot send and delivers all of it after the
-- restart, each message once. "timeout": message.timeout.ms = 5 s: each
-- message that could not be delivered in time gets exactly one report with
-- _MSG_TIMED_OUT, none is dropped silently, and no message reported
-- delivered is missing.
--   lua5.4 spec/faults/all_down.lua buffer|timeout [DOWN_SECONDS [RATE]]
local rdkafka = require("rdkafka")
local lib = require("faults.lib")

local MODE = arg[1] or "buffer"
assert(MODE == "buffer" or MODE == "timeout", "mode must be buffer or timeout")
local DOWN = tonumber(arg[2]) or 30
local RATE = tonumber(arg[3]) or 2000
local BEFORE, AFTER = 5, 10
local KEYS, PARTITIONS = 100, 3
local bootstrap = lib.bootstrap()
local topic = lib.unique("faults-down")
lib.create_topic(bootstrap, topic, PARTITIONS)

local reports, twice, delivered, failed = {}, 0, 0, 0
local failures = {}
local restarted_at, recovered
local conf = {
  ["bootstrap.servers"] = bootstrap,
  ["delivery.report.fields"] = "none",
  on_delivery = function(err, msg)
    local i = msg.opaque
    if reports[i] ~= nil then twice = twice + 1 end
    reports[i] = err == nil
    if err then
      failed = failed + 1
      failures[err.name] = (failures[err.name] or 0) + 1
    else
      delivered = delivered + 1
      if restarted_at and not recovered then
        recovered = lib.now() - restarted_at
        lib.say(("delivering again %.1f s after the restart began"):format(recovered))
      end
    end
  end,
  on_error = function(err) if err.name ~= "_TRANSPORT" then lib.say("on_error: " .. tostring(err)) end end,
}
if MODE == "timeout" then conf["message.timeout.ms"] = 5000 end
local p = rdkafka.producer(lib.conf(conf))

local seq, keys, ids = {}, {}, {}
for k = 1, KEYS do keys[k] = "k" .. k end
local i, start = 0, lib.now()
local killed_at, killed_sent, started, restart_done, outage_sent
-- Producing goes on for AFTER seconds once the cluster serves again.
while not (restart_done and lib.now() - restarted_at - restart_done >= AFTER) do
  local t = lib.now() - start
  local due = math.floor(t * RATE)
  while i < due do
    local key = keys[i % KEYS + 1]
    local s = (seq[key] or 0) + 1
    local ok, err = p:produce(topic, ("%s:%d:%d"):format(key, s, i + 1), key, nil, i + 1)
    if ok then
      ids[i + 1] = key .. ":" .. s
      seq[key], i = s, i + 1
    elseif err.name == "_QUEUE_FULL" then break
    else error(err) end
  end
  p:poll(0.01)
  if not killed_at and t >= BEFORE then
    lib.kafka("kill", 1, 2, 3)
    killed_at, killed_sent = lib.now(), i
  elseif killed_at and not started and lib.now() - killed_at >= DOWN then
    restarted_at = lib.now()
    started = lib.kafka_background("start", 1, 2, 3)
  elseif started and not restart_done and started() then
    restart_done = lib.now() - restarted_at
    outage_sent = i - killed_sent
    lib.say(("cluster serving again %.1f s after the restart began"):format(restart_done))
  end
end
lib.say(("produced %d (%d while the cluster was down or starting); flushing"):format(i, outage_sent))
local left = p:flush(300)
p:close()
local sent = {}
for k, v in pairs(seq) do sent[k] = v end
local r = lib.check_keyed(bootstrap, topic, PARTITIONS, sent)
local silent, lost, written_anyway = 0, 0, 0
for j = 1, i do
  if reports[j] == nil then silent = silent + 1
  elseif reports[j] and not r.seen[ids[j]] then lost = lost + 1
  elseif not reports[j] and r.seen[ids[j]] then written_anyway = written_anyway + 1 end
end
local names = {}
for name, n in pairs(failures) do names[#names + 1] = name .. " " .. n end
table.sort(names)
lib.say(("sent %d: delivered %d, failed %d (%s), reported twice %d, never reported %d; read back %d:"
  .. " delivered but missing %d, failed but written %d, duplicated %d, reordered %d")
  :format(i, delivered, failed, table.concat(names, ", "), twice, silent, r.read, lost, written_anyway,
    r.duplicated, r.reordered))
local ok = silent == 0 and twice == 0 and left == 0 and lost == 0 and r.duplicated == 0 and r.unknown == 0
  and r.reordered == 0 and recovered ~= nil
local notes
if MODE == "buffer" then
  ok = ok and failed == 0 and delivered == i
  notes = ("%d produced while the cluster was down or starting, all delivered; first delivery %.1f s after"
    .. " the restart began (the cluster served again after %.1f s)")
    :format(outage_sent, recovered or -1, restart_done or -1)
else
  ok = ok and failed > 0 and failed == (failures._MSG_TIMED_OUT or 0)
  notes = ("message.timeout.ms 5 s: %d reported _MSG_TIMED_OUT (%d of them written anyway), %d delivered,"
    .. " 0 unreported"):format(failed, written_anyway, delivered)
end
lib.result {
  fault = ("all 3 brokers killed for %d s while producing %d/s, message.timeout.ms %s")
    :format(DOWN, RATE, MODE == "buffer" and "300 s (default)" or "5 s"),
  sent = i, lost = lost + silent, duplicated = r.duplicated + twice, recover = recovered, ok = ok, notes = notes,
}

-- The Lua side of the produce benchmark: the loop of bench/produce_c.c
-- (produce, poll(0) every 1024 messages, flush at the end), same settings.
-- Prints messages per second, first produce to the end of flush.
-- usage: lua produce.lua BOOTSTRAP TOPIC COUNT SIZE FORM [keyed|unkeyed] [key=value ...]
--   FORM positional: p:produce(topic, value [, key]) with on_delivery
--        table:      p:produce{topic=, value= [, key=]} with on_delivery
--        offsets:    positional, on_delivery with delivery.report.fields=none
--                    (a success's message without value, key, headers, timestamp)
--        failures:   positional, on_delivery for failed messages only
--                    (delivery.report.only.error: successes are counted in C)
--        no-report:  positional without on_delivery (the produce path alone)
local rdkafka = require("rdkafka")
local now = require("rdkafka.core").monotonic
local bootstrap, topic, count, size, form = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), arg[5]
local keyed = arg[6] == "keyed"
local value = ("x"):rep(size)
local keys = {}
for i = 0, 999 do keys[i] = "key-" .. i end
local delivered, failed = 0, 0
local conf = { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 5, ["enable.idempotence"] = true,
  partitioner = "murmur2_random" }
for i = 7, #arg do
  local k, v = arg[i]:match("^([^=]+)=(.*)$")
  conf[assert(k, "expected key=value")] = v
end
if form == "failures" then conf["delivery.report.only.error"] = true end
if form == "offsets" then conf["delivery.report.fields"] = "none" end
if form ~= "no-report" then
  conf.on_delivery = function(err) if err then failed = failed + 1 else delivered = delivered + 1 end end
end
local p = rdkafka.producer(conf)
local produce, poll = p.produce, p.poll
local start = now()
if form == "table" then
  for i = 1, count do
    local m = { topic = topic, value = value, key = keyed and keys[i % 1000] or nil }
    while not produce(p, m) do poll(p, 0.001) end
    if i % 1024 == 0 then poll(p, 0) end
  end
elseif keyed then
  for i = 1, count do
    while not produce(p, topic, value, keys[i % 1000]) do poll(p, 0.001) end
    if i % 1024 == 0 then poll(p, 0) end
  end
else
  for i = 1, count do
    while not produce(p, topic, value) do poll(p, 0.001) end
    if i % 1024 == 0 then poll(p, 0) end
  end
end
local left = p:flush(120)
local elapsed = now() - start
p:close()
-- Without a report per success, flush returning 0 and no failure mean all delivered.
if (form == "no-report" or form == "failures") and left == 0 then delivered = count - failed end
assert(left == 0 and delivered == count and failed == 0,
  ("produce.lua %s: %d delivered, %d failed, %d left of %d"):format(form, delivered, failed, left, count))
print(("%.0f"):format(count / elapsed))

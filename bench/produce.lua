-- The Lua side of the produce benchmark: the same loop as bench/produce_c.c.
-- usage: lua produce.lua BOOTSTRAP TOPIC COUNT SIZE positional|table|no-report
-- (no-report: positional, without on_delivery: the produce path alone)
local rdkafka = require("rdkafka")
local bootstrap, topic, count, size, form = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), arg[5]
local value = ("x"):rep(size)
local delivered, failed = 0, 0
local conf = { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 5 }
if form ~= "no-report" then
  conf.on_delivery = function(err) if err then failed = failed + 1 else delivered = delivered + 1 end end
end
local p = rdkafka.producer(conf)
-- Timed from the outside (bench/run), like the C peer: plain Lua has no wall clock finer than 1 s.
local produce = p.produce
if form == "table" then
  for i = 1, count do
    while not produce(p, { topic = topic, value = value }) do p:poll(0.001) end
    if i % 1024 == 0 then p:poll(0) end
  end
else
  for i = 1, count do
    while not produce(p, topic, value) do p:poll(0.001) end
    if i % 1024 == 0 then p:poll(0) end
  end
end
assert(p:flush(60) == 0)
p:close()
if form == "no-report" then delivered = count end -- flush returning 0 means all delivered
io.stderr:write(("lua %s: %d delivered, %d failed\n"):format(form, delivered, failed))
assert(delivered == count and failed == 0)

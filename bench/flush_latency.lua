-- One message at a time: produce, then wait for its delivery report, COUNT
-- times. usage: lua latency.lua BOOTSTRAP TOPIC COUNT flush|poll
--   flush  p:flush(10) after each message
--   poll   p:poll(0.1) until the report has been served (the peer)
local rdkafka = require("rdkafka")
local bootstrap, topic, count, mode = arg[1], arg[2], tonumber(arg[3]), arg[4]
local delivered = 0
local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 0,
  on_delivery = function(err) assert(not err, tostring(err)); delivered = delivered + 1 end }
for i = 1, count do
  assert(p:produce(topic, "x"))
  if mode == "flush" then
    assert(p:flush(10) == 0)
  else
    while delivered < i do p:poll(0.1) end
  end
end
assert(delivered == count)
p:close()

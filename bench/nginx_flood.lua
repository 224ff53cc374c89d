-- Produces JSON events to a topic at a fixed rate for a while (the traffic
-- the email service of examples/nginx/nginx.conf consumes during bench/nginx).
--   lua5.4 bench/nginx_flood.lua BROKERS TOPIC RATE SECONDS
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local brokers, topic = arg[1], arg[2]
local rate, seconds = tonumber(arg[3]), tonumber(arg[4])
local failed = 0
local p = rdkafka.producer { ["bootstrap.servers"] = brokers, ["linger.ms"] = 5,
  on_delivery = function(err) if err then failed = failed + 1 end end }
local start, sent = core.monotonic(), 0
while core.monotonic() - start < seconds do
  local due = math.floor((core.monotonic() - start) * rate)
  while sent < due do
    sent = sent + 1
    local user = "flood-" .. sent
    assert(p:produce { topic = topic, key = user, value = ('{"user":"%s","at":"now"}'):format(user) })
  end
  p:poll(0.01)
end
assert(p:close(30) == 0 and failed == 0, "the flood lost events")
print(sent)

-- The service runtime's throughput: events/s through a handler that gets
-- decoded JSON, against a plain consume(100) loop that decodes the same
-- JSON with lua-cjson (the runtime's own work left out), same broker, same
-- topic, fresh groups. Prints "plain N" and "service N" (events/s, first
-- event to last).
-- usage: lua bench/service.lua BROKERS TOPIC COUNT [produce]
-- (produce: publishes the COUNT events first, and nothing else)
local rdkafka = require("rdkafka")
local service = require("rdkafka.service")
local cjson = require("cjson.safe")
local now = require("rdkafka.core").monotonic
local brokers, topic, count = arg[1], arg[2], tonumber(arg[3])
if arg[4] == "produce" then
  local pub = service.publisher { brokers = brokers }
  for i = 1, count do
    local user = "user-" .. (i % 1000)
    assert(pub:publish(topic, { n = i, user = user, email = "someone@example.org" }, { key = user }))
  end
  assert(pub:close() == 0)
  return
end
local tag = tostring(math.floor(now() * 1000))

-- Plain: consume, decode, count; commit the positions at the end.
local c = rdkafka.consumer { ["bootstrap.servers"] = brokers, ["group.id"] = "bench-plain-" .. tag,
  ["auto.offset.reset"] = "earliest" }
assert(c:subscribe(topic))
local got, sum, start = 0, 0, nil
local deadline = now() + 120
while got < count and now() < deadline do
  local msgs = c:consume(100, 0.1)
  for i = 1, #msgs do
    local event = cjson.decode(msgs[i].value)
    if event then sum = sum + event.n end
    got = got + 1
    if got == 1 then start = now() end
  end
end
local plain = (count - 1) / (now() - start)
assert(c:commit())
c:close()
assert(got == count, "plain loop: " .. got .. " of " .. count)
print(("plain %.0f"):format(plain))

-- The service: the same work in a handler; offsets stored per event,
-- committed every 5 s and at the end.
local handled, first = 0, nil
local svc = service.new { name = "bench-service-" .. tag, brokers = brokers, log_interval = 0 }
svc:on(topic, function(event)
  sum = sum + event.n
  handled = handled + 1
  if handled == 1 then first = now() end
end)
deadline = now() + 120
while handled < count and now() < deadline do svc:step(0.1) end
local rate = (count - 1) / (now() - first)
assert(svc:close())
assert(handled == count, "service: " .. handled .. " of " .. count)
print(("service %.0f"):format(rate))

-- End-to-end latency, the loop of bench/latency_c.c: produce COUNT messages
-- at RATE messages/s (linger.ms=0) to partition 0 of TOPIC, consume them
-- from the same partition (assigned at its end) in the same process, each
-- value carrying its send time. Prints "p50 p99" in milliseconds.
-- usage: lua latency.lua BOOTSTRAP TOPIC COUNT RATE
local rdkafka = require("rdkafka")
local now = require("rdkafka.core").monotonic
local bootstrap, topic, count, rate = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 0, ["enable.idempotence"] = true }
local c = rdkafka.consumer { ["bootstrap.servers"] = bootstrap, ["group.id"] = "bench-latency-lua" }
assert(c:assign { { topic = topic, partition = 0, offset = "end" } })
local lat, got = {}, 0

local function receive(timeout) -- true when the warm-up message came
  local msg = c:poll(timeout)
  if not msg then return false end
  local t = now()
  if msg.value == "warm-up" then return true end
  got = got + 1
  lat[got] = t - tonumber(msg.value)
  return false
end

-- Warm-up: one message through, so that both ends are connected.
local deadline, warm = now() + 60, false
while not warm and now() < deadline do
  assert(p:produce(topic, "warm-up", nil, 0))
  local until_t = now() + 1
  while not warm and now() < until_t do p:poll(0); warm = receive(0.01) end
end
got = 0
local t0, sent = now(), 0
deadline = t0 + count / rate + 30
while got < count and now() < deadline do
  local t = now()
  local next = t0 + sent / rate
  if sent < count and t >= next then
    assert(p:produce(topic, ("%.9f"):format(t), nil, 0))
    sent = sent + 1
    p:poll(0)
  else
    receive(sent < count and math.floor((next - t) * 1000) / 1000 or 0.01)
    p:poll(0)
  end
end
c:close()
p:close()
assert(got >= count, ("latency.lua: %d of %d messages"):format(got, count))
table.sort(lat)
print(("%.3f %.3f"):format(lat[math.floor(count / 2) + 1] * 1000, lat[math.floor(count * 99 / 100) + 1] * 1000))

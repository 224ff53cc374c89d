-- Memory over a long run: a producer (positional form with on_delivery,
-- 100-byte values) or a group consumer (consume(1000) batches) moving COUNT
-- messages, printing its resident set size (MiB, from /proc/self/status)
-- after each tenth of the run, on one line.
-- usage: lua rss.lua produce|consume BOOTSTRAP TOPIC COUNT
local rdkafka = require("rdkafka")
local now = require("rdkafka.core").monotonic
local mode, bootstrap, topic, count = arg[1], arg[2], arg[3], tonumber(arg[4])
local step = math.max(1, math.floor(count / 10))

local function rss_mib()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then return tonumber(kb) / 1024 end
  end
end

local samples = {}
local function sample(n)
  if n % step == 0 then samples[#samples + 1] = ("%.1f"):format(rss_mib()) end
end

if mode == "produce" then
  local value, delivered, failed = ("x"):rep(100), 0, 0
  local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 5,
    on_delivery = function(err) if err then failed = failed + 1 else delivered = delivered + 1 end end }
  for i = 1, count do
    while not p:produce(topic, value) do p:poll(0.001) end
    if i % 1024 == 0 then p:poll(0) end
    sample(i)
  end
  assert(p:flush(120) == 0)
  p:close()
  assert(delivered == count and failed == 0, ("rss.lua: %d delivered, %d failed"):format(delivered, failed))
else
  local c = rdkafka.consumer { ["bootstrap.servers"] = bootstrap, ["auto.offset.reset"] = "earliest",
    ["group.id"] = "bench-rss-" .. math.floor(now() * 1000) }
  assert(c:subscribe(topic))
  local got, deadline = 0, now() + 600
  while got < count and now() < deadline do
    local msgs = c:consume(1000, 0.1)
    for i = 1, #msgs do
      got = got + 1
      assert(#msgs[i].value > 0)
      sample(got)
    end
  end
  c:close()
  assert(got >= count, ("rss.lua: %d of %d messages"):format(got, count))
end
print(table.concat(samples, " "))

-- A producer closed, or garbage-collected, while its messages are in flight
-- to brokers that hang (all three paused with SIGSTOP).
-- close: `close(2)` returns within its timeout plus the second it documents,
-- every message gets a report (the undelivered ones _PURGE_QUEUE or
-- _PURGE_INFLIGHT), and it returns the number not delivered.
-- gc: a child process drops its producer and collects it: the collection
-- returns at once, says on stderr how many messages were undelivered, and the
-- process exits.
--   lua5.4 spec/faults/producer_close.lua close|gc [MESSAGES]
local rdkafka = require("rdkafka")
local lib = require("faults.lib")

local MODE = arg[1] or "close"
local N = tonumber(arg[2]) or 10000
local CLOSE_TIMEOUT = 2

if MODE == "gc-child" then -- the child: brokers already paused by the parent
  local p = rdkafka.producer { ["bootstrap.servers"] = arg[3] }
  for i = 1, N do assert(p:produce(arg[4], "m" .. i)) end
  p:poll(0.5)
  p = nil -- luacheck: ignore 311
  local t = lib.now()
  collectgarbage()
  collectgarbage()
  io.stdout:write(("collected in %.3f s\n"):format(lib.now() - t))
  return
end

local bootstrap = lib.bootstrap()
local topic = lib.unique("faults-close")
lib.create_topic(bootstrap, topic, 3)
local warm = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
assert(warm:produce(topic, "warm"))
assert(warm:flush(30) == 0) -- the topic's leaders are known and serving
warm:close()

if MODE == "close" then
  local reports, delivered, by_name = 0, 0, {}
  local p = rdkafka.producer {
    ["bootstrap.servers"] = bootstrap,
    on_delivery = function(err)
      reports = reports + 1
      if err then by_name[err.name] = (by_name[err.name] or 0) + 1 else delivered = delivered + 1 end
    end,
  }
  assert(p:produce(topic, "first"))
  assert(p:flush(30) == 0)
  lib.kafka("pause", 1, 2, 3)
  for i = 1, N do assert(p:produce(topic, "m" .. i)) end
  p:poll(0.5) -- sent: in flight to brokers that do not answer
  local t = lib.now()
  local left = p:close(CLOSE_TIMEOUT)
  local took = lib.now() - t
  lib.kafka("resume", 1, 2, 3)
  local failed, names = 0, {}
  for name, n in pairs(by_name) do
    failed = failed + n
    names[#names + 1] = name .. " " .. n
  end
  table.sort(names)
  local purged = (by_name._PURGE_QUEUE or 0) + (by_name._PURGE_INFLIGHT or 0)
  lib.say(("close(%d) took %.2f s, returned %d; reports %d of %d: delivered %d, %s")
    :format(CLOSE_TIMEOUT, took, left, reports, N + 1, delivered, table.concat(names, ", ")))
  lib.result {
    fault = ("close(%d) with %d messages undelivered, the brokers hung (SIGSTOP)"):format(CLOSE_TIMEOUT, N),
    sent = N, lost = N + 1 - reports, duplicated = 0, recover = took,
    ok = reports == N + 1 and left == failed and purged == failed and took <= CLOSE_TIMEOUT + 1.5,
    notes = ("returned after %.2f s with %d not delivered, each reported (%s)")
      :format(took, left, table.concat(names, ", ")),
  }
elseif MODE == "gc" then
  lib.kafka("pause", 1, 2, 3)
  local err_path = os.tmpname()
  local t = lib.now()
  local f = assert(io.popen(("%s spec/faults/producer_close.lua gc-child %d %s %s 2>%s"):format(
    os.getenv("LUA") or "lua5.4", N, bootstrap, topic, err_path)))
  local out = f:read("a")
  local exited = f:close()
  local took = lib.now() - t
  lib.kafka("resume", 1, 2, 3)
  local ef = assert(io.open(err_path))
  local stderr = ef:read("a")
  ef:close()
  os.remove(err_path)
  local collected = tonumber(out:match("collected in ([%d.]+) s"))
  local said = tonumber(stderr:match("garbage%-collected with (%d+) undelivered"))
  lib.say(("child: %s; stderr said %s undelivered; the whole child took %.2f s")
    :format(out:gsub("\n", ""), tostring(said), took))
  lib.result {
    fault = ("a producer garbage-collected with %d messages undelivered, the brokers hung"):format(N),
    sent = N, lost = N - (said or 0), duplicated = 0, recover = collected,
    ok = exited and collected ~= nil and collected < 1 and said == N,
    notes = ("collected in %.3f s; stderr counted %s undelivered; the process exited %.1f s after it started")
      :format(collected or -1, tostring(said), took),
  }
else
  error("mode must be close or gc")
end

-- In a process of its own, as it aborted before the fix. Arguments: "close"
-- or "gc", the real broker's bootstrap servers, two topics. A member
-- subscribes again while its group's rebalance is under way (the second
-- subscribe waits in librdkafka for that rebalance to end), with an offset
-- commit in flight, then is closed or collected; another member, which does
-- not poll, holds the rebalance. librdkafka 2.0.2 applied the waiting
-- subscribe after the close had begun and aborted the process
-- (rd_kafka_cgrp_destroy_final). Prints how each close ended, then "done"
-- once both consumers are gone. (The mock cluster does not reproduce it: its
-- members have no member id while they wait to join, so nothing waits.)
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local mode, bootstrap, topic1, topic2 = arg[1], arg[2], arg[3], arg[4]
local group = ("resubscribe-%d-%d"):format(os.time(), math.random(1e6))
local function conf(extra)
  local t = { ["bootstrap.servers"] = bootstrap, ["group.id"] = group, on_log = function() end,
    on_commit = function() end }
  for k, v in pairs(extra) do t[k] = v end
  return t
end
local assigned = false
local a = assert(rdkafka.consumer(conf { on_assign = function() assigned = true end, on_revoke = function() end }))
assert(a:subscribe(topic1))
local deadline = core.monotonic() + 30
while not assigned and core.monotonic() < deadline do a:poll(0.1) end
assert(assigned, "the first member was never assigned")
-- a stops polling: the rebalance b's join starts waits for it.
local b = assert(rdkafka.consumer(conf {}))
assert(b:subscribe(topic1))
os.execute("sleep 1")
assert(b:commit_async { { topic = topic1, partition = 0, offset = 0 } })
assert(b:subscribe(topic2))
if mode == "gc" then
  b = nil -- luacheck: ignore (collected with the subscribe waiting)
  collectgarbage()
  collectgarbage()
else
  print("close b", (b:close(10)))
end
print("close a", (a:close(10)))
deadline = core.monotonic() + 30
while core._shutdowns() > 0 and core.monotonic() < deadline do os.execute("sleep 0.1") end
print(core._shutdowns() == 0 and "done" or "still closing")

-- In a process of its own (so no other handle's background close counts): a
-- consumer with rebalance callbacks closed with no time left. Prints
-- "ended" once its background close ended, "still closing" after 30 s.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local mc = rdkafka.mock_cluster { brokers = 1 }
assert(mc:create_topic("grp", 3, 1))
local c = rdkafka.consumer { ["bootstrap.servers"] = mc.bootstrap_servers, ["group.id"] = "g",
  ["session.timeout.ms"] = 6000, ["heartbeat.interval.ms"] = 500, debug = "cgrp",
  on_log = function() end, on_revoke = function() end }
assert(c:subscribe("grp"))
local deadline = core.monotonic() + 30
repeat c:poll(0.1) until #c:assignment() == 3 or core.monotonic() > deadline
assert(#c:assignment() == 3, "never assigned")
c:close(0)
deadline = core.monotonic() + 30
while core._shutdowns() > 0 and core.monotonic() < deadline do os.execute("sleep 0.1") end
print(core._shutdowns() == 0 and "ended" or "still closing")
mc:close()

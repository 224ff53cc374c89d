-- A service in a process of its own, for the specs that kill it: handles
-- the events of TOPIC as group GROUP and appends "partition offset key seq"
-- per handled event to OUT (flushed at once, so a kill -9 loses no line).
-- usage: lua service_child.lua BROKERS TOPIC GROUP OUT
local service = require("rdkafka.service")
local brokers, topic, group, out = arg[1], arg[2], arg[3], arg[4]
local f = assert(io.open(out, "a"))
-- A short session: the group notices the killed process soon after.
local svc = service.new { name = group, brokers = brokers, commit_interval = 0.2, log_interval = 0, batch = 10,
  ["session.timeout.ms"] = 6000, ["heartbeat.interval.ms"] = 500 }
svc:on(topic, function(event, ctx)
  f:write(("%d %d %s %d\n"):format(ctx.partition, ctx.offset, ctx.key, event.seq))
  f:flush()
end)
svc:run()
f:close()

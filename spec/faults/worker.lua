-- A consumer (or a service) that spec/faults/crash.lua kills with -9 at
-- random points. It handles each message by appending a line to LOG
-- ("H <partition> <offset> <value>", written through before the next one),
-- a little slower than it could, so that the kills land mid-stream.
--   lua5.4 spec/faults/worker.lua consumer|service BOOTSTRAP TOPIC GROUP LOG [IDLE_EXIT_SECONDS]
-- consumer: commits (synchronously) after every batch that brings the count
-- handled since the last commit to 200 or more. service: rdkafka.service,
-- committing every 0.5 s. Both are static group members (group.instance.id),
-- so a restarted worker takes its partitions back without waiting for the
-- dead one's session to time out. With IDLE_EXIT_SECONDS the worker stops
-- cleanly once no message came for that long.
local mode, bootstrap, topic, group, log_path, idle_exit = table.unpack(arg, 1, 6)
idle_exit = tonumber(idle_exit)
local lib = require("faults.lib")

local log = assert(io.open(log_path, "a"))
log:setvbuf("no") -- a line is on disk (in the kernel) before the next message
local handled = 0
local function handle(partition, offset, value)
  log:write(("H %d %d %s\n"):format(partition, offset, value)) -- one write: never half a line
  handled = handled + 1
  if handled % 20 == 0 then lib.sleep(0.01) end
end
local conf = {
  ["group.instance.id"] = group .. "-worker",
  ["session.timeout.ms"] = 10000,
  ["auto.offset.reset"] = "earliest",
}

if mode == "consumer" then
  local rdkafka = require("rdkafka")
  conf["bootstrap.servers"], conf["group.id"] = bootstrap, group
  local c = rdkafka.consumer(conf)
  assert(c:subscribe(topic))
  local since_commit, last = 0, lib.now()
  while true do
    local batch = c:consume(20, 0.5)
    for _, msg in ipairs(batch) do handle(msg.partition, msg.offset, msg.value) end
    since_commit = since_commit + #batch
    if since_commit >= 200 then
      assert(c:commit())
      since_commit = 0
    end
    if #batch > 0 then last = lib.now() end
    if idle_exit and lib.now() - last > idle_exit then break end
  end
  if since_commit > 0 then assert(c:commit()) end
  c:close()
elseif mode == "service" then
  local service = require("rdkafka.service")
  conf.name, conf.brokers, conf.codec, conf.commit_interval = group, bootstrap, "raw", 0.5
  conf.log_interval = 0
  local svc = service.new(conf)
  svc:on(topic, function(value, ctx) handle(ctx.partition, ctx.offset, value) end)
  local last = lib.now()
  while true do
    if svc:step(0.5) > 0 then last = lib.now() end
    if idle_exit and lib.now() - last > idle_exit then break end
  end
  svc:close()
else
  error("mode must be consumer or service")
end
log:write("E\n")
log:close()

-- A luv (libuv) loop that produces and consumes without busy polling:
-- uv.new_poll(handle:pollfd()) calls back when the handle has something to
-- serve; each callback serves until nothing is left.
--   lua5.4 examples/luv.lua           (an embedded mock cluster; --brokers HOST:PORT for Kafka)
local uv = require("luv")
local rdkafka = require("rdkafka")

local brokers, cluster = arg[1] == "--brokers" and arg[2], nil
if not brokers then
  cluster = rdkafka.mock_cluster()
  assert(cluster:create_topic("greetings", 1, 1))
  brokers = cluster.bootstrap_servers
end

local delivered, received = 0, 0
local producer = rdkafka.producer {
  ["bootstrap.servers"] = brokers,
  on_delivery = function(err) assert(not err, tostring(err)) delivered = delivered + 1 end,
}
local consumer = rdkafka.consumer {
  ["bootstrap.servers"] = brokers, ["group.id"] = "luv-example", ["auto.offset.reset"] = "earliest",
}
assert(consumer:subscribe { "greetings" })

local producer_watch = uv.new_poll(producer:pollfd())
local consumer_watch = uv.new_poll(consumer:pollfd())
local function done()
  if delivered == 10 and received == 10 then
    producer_watch:stop()
    consumer_watch:stop()
  end
end
producer_watch:start("r", function()
  producer:poll(0) -- serves every report that is ready
  done()
end)
consumer_watch:start("r", function()
  repeat
    local msg = consumer:poll(0)
    if msg then
      received = received + 1
      print(("received %q from %s/%d@%d"):format(msg.value, msg.topic, msg.partition, msg.offset))
    end
  until not msg
  done()
end)
for i = 1, 10 do assert(producer:produce { topic = "greetings", value = "hello " .. i }) end
uv.run() -- returns once both watchers stopped
print(("%d delivered, %d received"):format(delivered, received))
producer_watch:close()
consumer_watch:close()
uv.run("nowait")
consumer:close()
producer:close()
if cluster then cluster:close() end

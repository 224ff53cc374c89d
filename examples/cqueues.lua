-- A cqueues loop that produces and consumes without busy polling: the
-- handles are pollable objects, so cqueues.poll(handle) waits for them.
--   lua5.4 examples/cqueues.lua       (an embedded mock cluster; --brokers HOST:PORT for Kafka)
local cqueues = require("cqueues")
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
  ["bootstrap.servers"] = brokers, ["group.id"] = "cqueues-example", ["auto.offset.reset"] = "earliest",
}
assert(consumer:subscribe { "greetings" })

local loop = cqueues.new()
loop:wrap(function() -- produce, then serve the delivery reports as they come
  for i = 1, 10 do assert(producer:produce { topic = "greetings", value = "hello " .. i }) end
  while delivered < 10 do
    cqueues.poll(producer)
    producer:poll(0)
  end
end)
loop:wrap(function() -- consume: wakes only when there is something to take
  while received < 10 do
    cqueues.poll(consumer)
    for _, msg in ipairs(consumer:consume(100, 0)) do
      received = received + 1
      print(("received %q from %s/%d@%d"):format(msg.value, msg.topic, msg.partition, msg.offset))
    end
  end
end)
assert(loop:loop(60))
print(("%d delivered, %d received"):format(delivered, received))
consumer:close()
producer:close()
if cluster then cluster:close() end

-- A request changes a password and returns at once; the email about it
-- travels through a topic to a service that sends it. Runs on the embedded
-- mock cluster: no broker, no Java.
--   make demo     (or: lua5.4 examples/demo.lua [bootstrap.servers])
local rdkafka = require("rdkafka")

local bootstrap = arg and arg[1]
local cluster
if not bootstrap then
  cluster = rdkafka.mock_cluster { brokers = 1 }
  assert(cluster:create_topic("user-events", 3, 1))
  bootstrap = cluster.bootstrap_servers
end
print("Kafka at " .. bootstrap)

-- The web side: publish and move on; delivery is confirmed later, in poll/flush.
local producer = rdkafka.producer {
  ["bootstrap.servers"] = bootstrap,
  on_delivery = function(err, msg)
    if err then
      print(("  NOT delivered (%s): %s"):format(err.name, msg.value))
    else
      print(("  delivered to partition %d at offset %d: %s"):format(msg.partition, msg.offset, msg.key))
    end
  end,
}
for i, user in ipairs { "ada", "grace", "linus" } do
  local ok, err = producer:produce {
    topic = "user-events", key = user,
    value = ('{"type":"password_changed","user":"%s","n":%d}'):format(user, i),
    headers = { { "content-type", "application/json" } },
  }
  assert(ok, tostring(err))
end
print("published 3 events; undelivered after flush: " .. producer:flush(10))
producer:close()

-- The email service: its own group, commits after it has handled a message.
local consumer = rdkafka.consumer {
  ["bootstrap.servers"] = bootstrap,
  ["group.id"] = "email-service",
  ["auto.offset.reset"] = "earliest",
  ["session.timeout.ms"] = 6000,
}
assert(consumer:subscribe { "user-events" })
local handled, deadline = 0, os.time() + 30
while handled < 3 and os.time() < deadline do
  local msg, err = consumer:poll(0.5)
  if msg then
    print(("email service: sending mail to %s (partition %d, offset %d)"):format(msg.key, msg.partition, msg.offset))
    assert(consumer:commit(msg))
    handled = handled + 1
  elseif err then
    print("consumer error: " .. tostring(err))
  end
end
consumer:close()
if cluster then cluster:close() end
assert(handled == 3, "expected 3 events, handled " .. handled)
print("done: 3 events handled and committed")

-- Restart: a service handles what is there and stops; events are published
-- while it is down; started again, it goes on from its last committed offset:
-- nothing is missing, nothing is handled twice.
--   lua5.4 examples/restart.lua [--brokers LIST]
package.path = "examples/?.lua;" .. package.path
local service = require("rdkafka.service")
local common = require("common")

local topic, name = "orders.created", "billing-" .. os.time()
local brokers, stop = common.brokers { [topic] = 3 }
local function publish(from, to)
  local pub = service.publisher { brokers = brokers }
  for i = from, to do assert(pub:publish(topic, { order = i }, { key = "order-" .. i })) end
  assert(pub:close() == 0)
end

local handled = {}
local function start()
  local svc = service.new(common.options(name, brokers))
  svc:on(topic, function(event) handled[#handled + 1] = event.order end)
  return svc
end

publish(1, 5)
local billing = start()
common.run_until({ billing }, 60, function() return #handled == 5 end)
billing:close()
print("billing handled orders 1-5 and stopped")
publish(6, 10)
print("orders 6-10 published while billing is down")
billing = start()
common.run_until({ billing }, 60, function() return #handled == 10 end)
billing:close()
stop()
table.sort(handled)
print("after the restart billing has handled: " .. table.concat(handled, " "))
assert(#handled == 10 and handled[10] == 10, "an order is missing or was handled twice")

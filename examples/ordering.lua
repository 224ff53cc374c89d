-- Ordering: many updates to a few users over 6 partitions. Same key, same
-- partition, handled one at a time: the handler checks that every user's
-- updates come in the order they were published, a failing first attempt
-- included (its partition waits for the retry).
--   lua5.4 examples/ordering.lua [--brokers LIST]
package.path = "examples/?.lua;" .. package.path
local service = require("rdkafka.service")
local common = require("common")

local topic = "user.balance"
local brokers, stop = common.brokers { [topic] = 6 }
local pub = service.publisher { brokers = brokers }
for seq = 1, 200 do
  local user = "user-" .. (seq % 4)
  assert(pub:publish(topic, { user = user, seq = seq }, { key = user }))
end
assert(pub:close() == 0)

local last, handled, flaky_done = {}, 0, false
local svc = service.new(common.options("ledger-" .. os.time(), brokers))
svc:on(topic, function(event)
  if event.seq == 100 and not flaky_done then
    flaky_done = true
    error("the ledger database blinked") -- retried; later events of user-0 wait
  end
  assert((last[event.user] or 0) < event.seq, "out of order for " .. event.user)
  last[event.user] = event.seq
  handled = handled + 1
end)
common.run_until({ svc }, 60, function() return handled == 200 end)
local m = svc:metrics()
svc:close()
stop()
assert(handled == 200, "not every update was handled")
print(("200 updates to 4 users, each user's in order; %d retried"):format(m.retried))

-- Fan-out: one user.updated stream, three services (email, audit,
-- search_index), each its own consumer group: every service sees every event.
--   lua5.4 examples/fanout.lua [--brokers LIST]
package.path = "examples/?.lua;" .. package.path
local service = require("rdkafka.service")
local common = require("common")
local suffix = "-" .. os.time() -- fresh groups on a real broker

local brokers, stop = common.brokers { ["user.updated"] = 3 }
local events = service.publisher { brokers = brokers, name = "profile" }
for i = 1, 6 do
  assert(events:publish("user.updated", { user = "user-" .. i, name = "Name " .. i }, { key = "user-" .. i }))
end
assert(events:close() == 0)

local seen, services = {}, {}
for _, name in ipairs { "email", "audit", "search_index" } do
  local svc = service.new(common.options(name .. suffix, brokers))
  seen[name] = 0
  svc:on("user.updated", function(event, ctx)
    seen[name] = seen[name] + 1
    print(("%-12s %s (partition %d, offset %d)"):format(name, event.user, ctx.partition, ctx.offset))
  end)
  services[#services + 1] = svc
end
local ok = common.run_until(services, 60, function()
  return seen.email >= 6 and seen.audit >= 6 and seen.search_index >= 6
end)
for _, svc in ipairs(services) do svc:close() end
stop()
assert(ok, "not every service saw every event")
print("each of the three services handled all 6 events")

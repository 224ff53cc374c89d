-- Scale-out: two instances of one service split its 6 partitions; one
-- stops (it leaves the group: a killed one would be noticed when its session
-- times out), and the other takes its partitions over and handles the rest.
--   lua5.4 examples/scale_out.lua [--brokers LIST]
package.path = "examples/?.lua;" .. package.path
local service = require("rdkafka.service")
local common = require("common")

local topic, name = "images.uploaded", "thumbnails-" .. os.time()
local brokers, stop = common.brokers { [topic] = 6 }
local function publish(from, to)
  local pub = service.publisher { brokers = brokers }
  for i = from, to do assert(pub:publish(topic, { image = i }, { key = "image-" .. i })) end
  assert(pub:close() == 0)
end
local function count(t) local n = 0 for _ in pairs(t) do n = n + 1 end return n end

local done = {}
local function instance(label)
  local svc = service.new(common.options(name, brokers))
  svc.label = label
  svc:on(topic, function(event) done[event.image] = label end)
  return svc
end
local a, b = instance("a"), instance("b")
common.run_until({ a, b }, 60, function() return count(a.owned) == 3 and count(b.owned) == 3 end)
print(("instance a owns %d partitions, b owns %d"):format(count(a.owned), count(b.owned)))
publish(1, 60)
common.run_until({ a, b }, 60, function() return count(done) == 60 end)
a:close() -- leaves the group: b takes over its partitions
print("instance a stopped")
publish(61, 120)
common.run_until({ b }, 60, function() return count(done) == 120 and count(b.owned) == 6 end)
b:close()
stop()
local by = { a = 0, b = 0 }
for _, label in pairs(done) do by[label] = by[label] + 1 end
print(("120 images: %d by a, %d by b; b owned all 6 partitions at the end"):format(by.a, by.b))
assert(count(done) == 120, "an image was not handled")

-- Topics for bench/all, through this module's admin handle.
-- usage: lua topics.lua BOOTSTRAP create NAME PARTITIONS   (waits until every partition has a leader)
--        lua topics.lua BOOTSTRAP delete NAME
--        lua topics.lua BOOTSTRAP count NAME               (prints the sum of the high watermarks)
local rdkafka = require("rdkafka")
local now = require("rdkafka.core").monotonic
local bootstrap, what, name, partitions = arg[1], arg[2], arg[3], tonumber(arg[4])
local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap }

local function leaders_ready(md)
  local t = md and md.topics[1]
  if not t or t.error or #t.partitions ~= partitions then return false end
  for _, p in ipairs(t.partitions) do
    if not p.leader or p.leader < 0 then return false end
  end
  return true
end

if what == "create" then
  local res = assert(a:create_topics({ { name = name, partitions = partitions, replication_factor = 1 } }, 30))
  assert(not res[1].error, tostring(res[1].error))
  local deadline = now() + 30
  while not leaders_ready(a:metadata(name, 5)) do
    assert(now() < deadline, "topic " .. name .. " has no leaders after 30 s")
    a:poll(0.1) -- a pause that serves the handle's events
  end
elseif what == "delete" then
  local res = assert(a:delete_topics({ name }, 30))
  assert(not res[1].error, tostring(res[1].error))
elseif what == "count" then
  local c = rdkafka.consumer { ["bootstrap.servers"] = bootstrap, ["group.id"] = "bench-count" }
  local md = assert(c:metadata(name, 10))
  local sum = 0
  for _, p in ipairs(md.topics[1].partitions) do
    local _, high = assert(c:watermarks(name, p.id, 10))
    sum = sum + high
  end
  c:close()
  print(sum)
else
  error("usage: lua topics.lua BOOTSTRAP create|delete|count NAME [PARTITIONS]")
end
a:close()

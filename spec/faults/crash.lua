-- A consumer or a service killed with -9 at random points while it handles
-- messages, 10 times, each time restarted; a last run handles the rest and
-- stops cleanly. Every message must be handled at least once, and the
-- messages handled twice may not outnumber the uncommitted window: for each
-- kill, the messages that run handled at or after the offsets the group had
-- committed when it died (read from the broker).
--   lua5.4 spec/faults/crash.lua consumer|service [KILLS [MESSAGES]]
local rdkafka = require("rdkafka")
local lib = require("faults.lib")

local MODE = arg[1] or "consumer"
local KILLS = tonumber(arg[2]) or 10
local MESSAGES = tonumber(arg[3]) or 20000
local PARTITIONS = 3
local bootstrap = lib.bootstrap()
local topic = lib.unique("faults-crash-" .. MODE)
local group = lib.unique("faults-crash-" .. MODE)
lib.create_topic(bootstrap, topic, PARTITIONS)

do -- the input, produced before the first worker starts
  local p <close> = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
  for i = 1, MESSAGES do
    assert(p:produce(topic, "m" .. i, "k" .. (i % 100)))
    if i % 1000 == 0 then p:poll(0) end
  end
  assert(p:flush(60) == 0, "the input was not delivered")
end

local log_path = os.tmpname()
local function lines_from(pos) -- the log's whole lines after byte pos, and the new pos
  local f = assert(io.open(log_path))
  f:seek("set", pos)
  local text = f:read("a")
  f:close()
  local out = {}
  for line in text:gmatch("([^\n]*)\n") do
    out[#out + 1] = line
    pos = pos + #line + 1
  end
  return out, pos
end

local lua = os.getenv("LUA") or "lua5.4"
local function start(idle_exit)
  local command = ("exec %s spec/faults/worker.lua %s %s %s %s %s %s 2>>%s"):format(
    lua, MODE, bootstrap, topic, group, log_path, idle_exit or "", os.getenv("FAULTS_LOG") or "/dev/null")
  local f = assert(io.popen("sh -c 'echo $$; " .. command .. "'"))
  local pid = tonumber(f:read("*l"))
  return f, pid
end

-- The group's committed offsets, through a consumer of the group that does not
-- join it: librdkafka 2.0.2's admin ListConsumerGroupOffsets crashes the
-- process when the coordinator answers NOT_COORDINATOR (README).
local function committed()
  local c <close> = rdkafka.consumer { ["bootstrap.servers"] = bootstrap, ["group.id"] = group }
  local list = {}
  for p = 0, PARTITIONS - 1 do list[#list + 1] = { topic = topic, partition = p } end
  local at = {}
  for _, tp in ipairs(assert(c:committed(list, 30))) do
    if type(tp.offset) == "number" and tp.offset >= 0 then at[tp.partition] = tp.offset end
  end
  return at
end

math.randomseed(os.time())
local pos, window, recoveries = 0, 0, {}
local killed_at
for run = 1, KILLS do
  local proc, pid = start()
  local target = math.random(300, 1500)
  local seen, first_at = {}, nil
  local deadline = lib.now() + 120
  while #seen < target do
    assert(lib.now() < deadline, "run " .. run .. " handled " .. #seen .. " messages in 120 s")
    lib.sleep(0.02)
    local new
    new, pos = lines_from(pos)
    for _, line in ipairs(new) do
      if line:sub(1, 1) == "H" then
        seen[#seen + 1] = line
        if not first_at then
          first_at = lib.now()
          if killed_at then recoveries[#recoveries + 1] = first_at - killed_at end
        end
      end
    end
  end
  assert(lib.sh("kill -9 " .. pid))
  proc:close()
  killed_at = lib.now()
  local rest
  rest, pos = lines_from(pos)
  for _, line in ipairs(rest) do if line:sub(1, 1) == "H" then seen[#seen + 1] = line end end
  -- The window of this kill: what this run handled at or after the committed offsets.
  local at, w = committed(), 0
  for _, line in ipairs(seen) do
    local p, o = line:match("^H (%d+) (%d+) ")
    if tonumber(o) >= (at[tonumber(p)] or 0) then w = w + 1 end
  end
  window = window + w
  lib.say(("run %d: killed after %d handled; %d of them past the committed offsets"):format(run, #seen, w))
end

local proc = start(5)
local deadline = lib.now() + 300
local finished = false
repeat
  lib.sleep(0.2)
  local new
  new, pos = lines_from(pos)
  for _, line in ipairs(new) do
    if line:sub(1, 1) == "H" and killed_at then
      recoveries[#recoveries + 1] = lib.now() - killed_at
      killed_at = nil
    end
    if line == "E" then finished = true end
  end
until finished or lib.now() > deadline
local ok_exit = proc:close()

local handled, count, dup = {}, 0, 0
local all = lines_from(0)
for _, line in ipairs(all) do
  local value = line:match("^H %d+ %d+ (.*)$")
  if value then
    count = count + 1
    if handled[value] then dup = dup + 1 else handled[value] = true end
  end
end
os.remove(log_path)
local missing = 0
for i = 1, MESSAGES do if not handled["m" .. i] then missing = missing + 1 end end
table.sort(recoveries)
local worst = recoveries[#recoveries] or math.huge
lib.say(("%d handled, %d distinct, %d twice (window %d), %d never; restarts handled again after %.1f s at most")
  :format(count, count - dup, dup, window, missing, worst))
lib.result {
  fault = ("%s killed with -9 at random points, %d times, restarted each time"):format(
    MODE == "consumer" and "a consumer (commit every 200)" or "a service (commit every 0.5 s)", KILLS),
  sent = MESSAGES, lost = missing, duplicated = dup, recover = worst,
  ok = finished and ok_exit and missing == 0 and dup <= window and #recoveries == KILLS,
  notes = ("handled twice %d, uncommitted window at the kills %d; a restarted worker handled again after"
    .. " %.1f s (median %.1f s)"):format(dup, window, worst, recoveries[(#recoveries + 1) // 2] or -1),
}

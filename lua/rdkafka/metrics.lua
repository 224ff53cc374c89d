--- The service runtime's counters, and the Prometheus text format for them.
-- @module rdkafka.metrics
local M = {}

local COUNTERS = {
  { "handled", "Events whose handler returned." },
  { "failed", "Handler calls that raised (each attempt counts)." },
  { "retried", "Events parked for a retry." },
  { "dead_lettered", "Events sent to the dead-letter topic." },
  { "decode_errors", "Events that could not be decoded." },
}

function M.new_counters()
  local c = { last_offset = {} }
  for _, def in ipairs(COUNTERS) do c[def[1]] = 0 end
  return c
end

--- A plain table of a service's counters, with per partition the last
-- handled offset and the lag (queried with `timeout`).
function M.snapshot(svc, timeout)
  local c = svc.counters
  local snap = { service = svc.name, rebalances = svc.rebalances, partitions = {} }
  for _, def in ipairs(COUNTERS) do snap[def[1]] = c[def[1]] end
  if svc.pub then
    snap.published, snap.publish_failed = svc.pub.counters.published, svc.pub.counters.failed
  end
  local lags = {}
  if svc.consumer then
    for _, e in ipairs(svc.consumer:lag(timeout) or {}) do lags[e.topic .. "\0" .. e.partition] = e.lag end
  end
  for key, tp in pairs(svc.owned) do
    snap.partitions[#snap.partitions + 1] = { topic = tp[1], partition = tp[2],
      last_offset = c.last_offset[key], lag = lags[key] }
  end
  table.sort(snap.partitions, function(a, b)
    if a.topic ~= b.topic then return a.topic < b.topic end
    return a.partition < b.partition
  end)
  return snap
end

local function label(s)
  return (tostring(s):gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"'))
end

--- Renders services (a service, a list of them, or snapshots from
-- svc:metrics()) in the Prometheus text exposition format.
function M.text(what, timeout)
  if type(what) ~= "table" then
    error(("bad argument #1 to 'metrics_text' (a service or a list of services expected, got %s)")
      :format(type(what)), 2)
  end
  local list = (what.service or what.counters) and { what } or what
  local snaps = {}
  for i, s in ipairs(list) do
    if type(s) ~= "table" then
      error(("bad argument #1 to 'metrics_text' (entry #%d is a %s)"):format(i, type(s)), 2)
    end
    snaps[i] = s.counters and s:metrics(timeout) or s
  end
  local out = {}
  local function add(line) out[#out + 1] = line end
  for _, def in ipairs(COUNTERS) do
    local name = "rdkafka_service_" .. def[1] .. "_total"
    add("# HELP " .. name .. " " .. def[2])
    add("# TYPE " .. name .. " counter")
    for _, s in ipairs(snaps) do add(('%s{service="%s"} %d'):format(name, label(s.service), s[def[1]] or 0)) end
  end
  for _, gauge in ipairs { { "lag", "Messages from the position to the end of the partition." },
                           { "last_offset", "Offset of the last event handled." } } do
    local name = "rdkafka_service_partition_" .. gauge[1]
    add("# HELP " .. name .. " " .. gauge[2])
    add("# TYPE " .. name .. " gauge")
    for _, s in ipairs(snaps) do
      for _, p in ipairs(s.partitions or {}) do
        if p[gauge[1]] then
          add(('%s{service="%s",topic="%s",partition="%d"} %d'):format(name, label(s.service), label(p.topic),
            p.partition, p[gauge[1]]))
        end
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M

--- rdkafka.resty: Kafka inside nginx (OpenResty, or Debian's nginx with its
-- Lua module). One publisher per worker, made in `init_worker_by_lua*`;
-- its delivery reports are served from a timer; a failed delivery goes to
-- the error log and to a counter; `exit_worker_by_lua*` flushes what is
-- still queued, so a graceful reload or quit (SIGHUP, SIGQUIT) loses nothing. Services run
-- from a timer with non-blocking steps, so requests on the same worker stay
-- fast. Nothing here waits for a broker while a request is served.
-- See README "OpenResty and nginx".
-- @module rdkafka.resty
local publisher = require("rdkafka.publisher")
local metrics = require("rdkafka.metrics")
local options = require("rdkafka.options")

local ngx = ngx -- luacheck: ignore 113
if type(ngx) ~= "table" or type(ngx.timer) ~= "table" then
  error("rdkafka.resty runs inside nginx's Lua module (OpenResty); outside it use rdkafka.service", 2)
end
local cjson = require("cjson.safe")

local M = {}

local LEVELS = { error = ngx.ERR, warn = ngx.WARN, info = ngx.INFO, debug = ngx.DEBUG }

--- A `log(level, line)` for services and publishers: nginx's error log.
function M.log(level, line)
  ngx.log(LEVELS[level] or ngx.NOTICE, line)
end

local state = {
  pub = nil,        -- this worker's publisher
  dict = nil,       -- the lua_shared_dict for counters summed over workers
  services = {},    -- services this worker runs
  exiting = false,
  counters = { published = 0, delivered = 0, failed = 0 }, -- what the shared dict has of this worker
}

local COUNTERS = { "published", "delivered", "failed" }

-- Adds to the shared dict what the publisher counted since the last time.
local function sync(pub)
  for _, name in ipairs(COUNTERS) do
    local now, before = pub.counters[name], state.counters[name]
    if now > before then
      -- Moved on only once added (a full dict keeps the difference for later).
      if not state.dict or state.dict:incr("publisher:" .. name, now - before, 0) then
        state.counters[name] = now
      end
    end
  end
end

local KNOWN = { poll_interval = "number", shared_dict = "string", brokers = "string", name = "string",
  codec = true, on_failure = "function", log = "function" }

--- Makes this worker's publisher and the timer that serves its delivery
-- reports. Call it from `init_worker_by_lua*`.
-- @tparam table opts the publisher's options (`brokers`, `name`, `codec`,
--   `on_failure(err, msg)`, librdkafka properties), plus `poll_interval`
--   (seconds between two servings of the reports, default 0.05) and
--   `shared_dict` (the name of a `lua_shared_dict`: counters and service
--   metrics summed over the workers, for `metrics_text`).
-- @return the publisher
function M.init_worker(opts)
  options.check("rdkafka.resty.init_worker", opts, KNOWN, { "brokers" })
  local interval = opts.poll_interval or 0.05
  if interval ~= interval or interval <= 0 then
    error("rdkafka.resty.init_worker: option 'poll_interval' must be a positive number of seconds", 2)
  end
  local dict = opts.shared_dict and ngx.shared[opts.shared_dict]
  if opts.shared_dict and not dict then
    error(("rdkafka.resty.init_worker: no lua_shared_dict named '%s'"):format(opts.shared_dict), 2)
  end
  local phase = ngx.get_phase()
  if phase ~= "init_worker" then
    error(("rdkafka.resty.init_worker: call it from init_worker_by_lua* (a handle made in the " ..
      "master does not survive the fork to the workers), not from %s"):format(phase), 2)
  end
  if state.pub then error("rdkafka.resty.init_worker: this worker has its publisher already", 2) end
  state.dict = dict or nil
  local conf = {}
  for k, v in pairs(opts) do
    if k ~= "poll_interval" and k ~= "shared_dict" then conf[k] = v end
  end
  local user_failure = opts.on_failure
  conf.log = opts.log or M.log
  conf.queue_full_wait = 0 -- a full queue is an error at once: waiting would block the worker
  conf.on_failure = function(err, msg)
    -- Never silent: the error log, then the application's own hook.
    ngx.log(ngx.ERR, ("kafka: delivery failed: topic=%s partition=%s error=%s"):format(
      tostring(msg.topic), tostring(msg.partition), tostring(err)))
    if user_failure then user_failure(err, msg) end
  end
  local pub = publisher.new(conf)
  state.pub = pub
  local function serve(premature)
    if premature or state.pub ~= pub then return end
    local ok, err = pcall(pub.poll, pub, 0)
    if not ok then ngx.log(ngx.ERR, "kafka: serving delivery reports: ", tostring(err)) end
    sync(pub)
  end
  local ok, err = ngx.timer.every(interval, serve)
  if not ok then
    state.pub = nil
    pub:close(0)
    error("rdkafka.resty.init_worker: cannot start the timer: " .. tostring(err), 2)
  end
  return pub
end

local function the_publisher(fname)
  if not state.pub then
    error(("rdkafka.resty.%s: no publisher in this worker (call init_worker from init_worker_by_lua*)")
      :format(fname), 3)
  end
  return state.pub
end

--- Queues an event (see publisher:publish); never waits. Returns true, or
-- nil and an error (`_QUEUE_FULL` when the local queue is full).
function M.publish(topic, event, opts)
  return the_publisher("publish"):publish(topic, event, opts)
end

--- This worker's publisher (`.producer` is its rdkafka.Producer).
function M.publisher()
  return the_publisher("publisher")
end

--- This worker's counters: `published`, `delivered`, `failed`, and
-- `pending` (queued, not yet reported).
function M.counters()
  local pub = the_publisher("counters")
  local c = pub.counters
  return { published = c.published, delivered = c.delivered, failed = c.failed, pending = pub:pending() }
end

local function share_metrics(svc)
  if not state.dict then return end
  local snap = svc:metrics(0)
  -- safe_set: never evicts the publisher counters to make room.
  local ok, err = state.dict:safe_set("service:" .. svc.name .. ":" .. ngx.worker.id(), cjson.encode(snap), 30)
  if not ok then ngx.log(ngx.WARN, "kafka: cannot share the metrics of ", svc.name, ": ", err) end
end

--- Runs a service in this worker from a timer: each turn is a step with
-- timeout 0, then a yield to nginx (1 ms after a busy turn, `idle` seconds
-- after an idle one). The service runs in event-loop mode (`event_loop`):
-- a periodic commit whose handlers' events are not delivered yet is made by
-- a later turn once they are, its lag asks no broker, ctx:publish never
-- waits for room; a rebalance and a dead letter wait 1 s at most. When the
-- worker exits (reload, quit) or stop() was called, the service leaves its
-- group at once, so that the other members get its partitions without
-- waiting for it. Call it from
-- `init_worker_by_lua*`, in the workers that should consume (often only
-- `ngx.worker.id() == 0`; the group shares partitions anyway).
-- @param svc a service from rdkafka.service.new
-- @tparam[opt] table opts `idle` (seconds, default 0.05), `close_timeout`
--   (seconds the leaving service may take, default 5)
function M.run_service(svc, opts)
  if type(svc) ~= "table" or type(svc.step) ~= "function" then
    error("bad argument #1 to 'run_service' (service expected)", 2)
  end
  opts = opts or {}
  options.check("rdkafka.resty.run_service", opts, { idle = "number", close_timeout = "number" }, nil, true)
  local idle = opts.idle or 0.05
  if idle ~= idle or idle <= 0 then
    error("rdkafka.resty.run_service: option 'idle' must be a positive number of seconds", 2)
  end
  local close_timeout = opts.close_timeout or 5
  if close_timeout ~= close_timeout or close_timeout < 0 then
    error("rdkafka.resty.run_service: option 'close_timeout' must be a non-negative number of seconds", 2)
  end
  svc.lag_timeout = 0
  svc.loop = true
  state.services[#state.services + 1] = svc
  local function loop(premature)
    if premature then return end
    local last_share = 0
    while not state.exiting and not ngx.worker.exiting() and not svc.stopped and not svc.stop_requested do
      local ok, n = pcall(svc.step, svc, 0)
      if not ok then
        ngx.log(ngx.ERR, "kafka: service ", svc.name, ": ", tostring(n))
        n = 0
        if svc.stopped then break end
        ngx.sleep(1) -- a failing step is not retried in a tight loop
      end
      local now = ngx.now()
      if now - last_share >= 1 then
        last_share = now
        pcall(share_metrics, svc)
      end
      -- 1 ms, not 0: nginx without OpenResty's patches warns at sleep(0).
      ngx.sleep(n > 0 and 0.001 or idle)
    end
    if not svc.stopped then
      -- Exiting (or stop() was called): handled events committed and the
      -- group left now, not after the worker's last request: the other
      -- members (the new workers' among them) wait for this one.
      local ok, closed, err = pcall(svc.close, svc, close_timeout)
      if not ok or not closed then
        ngx.log(ngx.ERR, "kafka: closing service ", svc.name, ": ", tostring(ok and err or closed))
      end
    end
  end
  local ok, err = ngx.timer.at(0, loop)
  if not ok then error("rdkafka.resty.run_service: cannot start the timer: " .. tostring(err), 2) end
  return svc
end

-- Adds snapshot b (another worker's) into a: counters summed, partitions
-- by topic and partition (one owner at a time; the furthest offset wins).
local function merge(a, b)
  for _, name in ipairs { "handled", "failed", "retried", "dead_lettered", "decode_errors" } do
    a[name] = (tonumber(a[name]) or 0) + (tonumber(b[name]) or 0)
  end
  local index = {}
  a.partitions = type(a.partitions) == "table" and a.partitions or {}
  for _, p in ipairs(a.partitions) do index[tostring(p.topic) .. "\0" .. tostring(p.partition)] = p end
  for _, p in ipairs(type(b.partitions) == "table" and b.partitions or {}) do
    local mine = index[tostring(p.topic) .. "\0" .. tostring(p.partition)]
    if not mine then
      a.partitions[#a.partitions + 1] = p
    elseif (tonumber(p.last_offset) or -1) > (tonumber(mine.last_offset) or -1) then
      mine.last_offset, mine.lag = p.last_offset, p.lag
    end
  end
end

--- The Prometheus text of the publisher counters and the services'
-- metrics: summed over the workers with `shared_dict`, else this worker's.
function M.metrics_text()
  local out = {}
  local names = { published = "Events queued by publish.", delivered = "Events the brokers acknowledged.",
    failed = "Events whose delivery failed (each also in the error log)." }
  for _, name in ipairs { "published", "delivered", "failed" } do
    local value
    if state.dict then value = state.dict:get("publisher:" .. name)
    elseif state.pub then value = state.pub.counters[name] end
    out[#out + 1] = ("# HELP rdkafka_publisher_%s_total %s"):format(name, names[name])
    out[#out + 1] = ("# TYPE rdkafka_publisher_%s_total counter"):format(name)
    out[#out + 1] = ("rdkafka_publisher_%s_total %d"):format(name, value or 0)
  end
  local snaps = {}
  if state.dict then
    -- One series per service: the workers that run it are summed.
    local by_name = {}
    for _, key in ipairs(state.dict:get_keys(0)) do
      if key:sub(1, 8) == "service:" then
        local snap = cjson.decode(state.dict:get(key) or "")
        if type(snap) == "table" and type(snap.service) == "string" then
          local sum = by_name[snap.service]
          if not sum then
            by_name[snap.service] = snap
            snaps[#snaps + 1] = snap
          else
            merge(sum, snap)
          end
        end
      end
    end
    table.sort(snaps, function(a, b) return a.service < b.service end)
  else
    for _, svc in ipairs(state.services) do snaps[#snaps + 1] = svc:metrics(0) end
  end
  local text = table.concat(out, "\n") .. "\n"
  if #snaps > 0 then text = text .. metrics.text(snaps) end
  return text
end

--- Closes the services this worker still runs (their handled events
-- committed, the group left; each close is bounded by `timeout`, default 5)
-- and closes the publisher (flushed for `timeout` at most, plus a second for
-- the reports of what it purges). Call it from `exit_worker_by_lua*`. A
-- fast stop (`nginx -s stop`, SIGTERM) kills workers that take over a
-- second or so: stop with `nginx -s quit`. Returns the number of events
-- that were not delivered (each in the error log).
function M.exit_worker(timeout)
  timeout = timeout or 5
  state.exiting = true
  for _, svc in ipairs(state.services) do
    local ok, err = svc:close(timeout)
    if not ok then ngx.log(ngx.ERR, "kafka: closing service ", svc.name, ": ", tostring(err)) end
  end
  state.services = {}
  local undelivered = 0
  if state.pub then
    local pub = state.pub
    state.pub = nil
    local n, err = pub:close(timeout)
    if n == nil then
      ngx.log(ngx.ERR, "kafka: closing the publisher: ", tostring(err))
    else
      undelivered = n
      sync(pub) -- the last reports, served by close
      if n > 0 then ngx.log(ngx.ERR, ("kafka: %d events were not delivered (see the lines above)"):format(n)) end
    end
  end
  return undelivered
end

return M

--- rdkafka.service: an event-driven service as a few Lua handlers.
--
-- A service is a consumer group (its name) with a handler per topic or
-- pattern. Every service sees every event of its topics (fan-out), the
-- instances of one service share the partitions (scale-out), and a service
-- that was down resumes from its last committed offset. At-least-once: an
-- event's offset is committed only after its handler returned (or the event
-- went to the dead-letter topic). See README "Services".
-- @module rdkafka.service
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local codecs = require("rdkafka.codec")
local options = require("rdkafka.options")
local publisher = require("rdkafka.publisher")
local metrics = require("rdkafka.metrics")

local now = core.monotonic
local unpack = table.unpack or unpack -- luacheck: ignore 143

local M = {
  publisher = publisher.new,
  metrics_text = metrics.text,
  --- Defaults for options a service or publisher does not give (the
  -- rdkafka-service command sets `brokers` here).
  defaults = {},
}

local Service = {}
Service.__index = Service

local KNOWN = {
  name = "string", brokers = "string", codec = true, retries = "number", backoff = "number",
  max_backoff = "number", dlq = true, commit_interval = "number", log_interval = "number",
  log = "function", batch = "number", lag_timeout = "number", event_loop = "boolean",
}

-- librdkafka properties a producer would warn about: kept from the publisher.
local CONSUMER_ONLY = { "^group%.", "^session%.", "^heartbeat%.", "^auto%.", "^enable%.auto", "^fetch%.",
  "^queued%.", "^max%.poll", "^partition%.assignment", "^isolation%.", "^enable%.partition%.eof", "^check%.crcs" }
-- And the other way round: kept from the service's consumer.
local PRODUCER_ONLY = { "^acks$", "^partitioner$", "^linger%.ms$", "^request%.", "^message%.", "^queue%.buffering",
  "^compression%.", "^batch%.", "^enable%.idempotence$", "^transactional%.", "^delivery%.", "^retry%.backoff" }
local function producer_only(key)
  for _, p in ipairs(PRODUCER_ONLY) do
    if key:find(p) then return true end
  end
  return false
end

local function consumer_only(key)
  for _, p in ipairs(CONSUMER_ONLY) do if key:find(p) then return true end end
  return false
end

local function key_of(topic, partition) return topic .. "\0" .. partition end

local function check_count(name, value, min)
  if value ~= nil and (value % 1 ~= 0 or value < min) then
    error(("service.new: option '%s' must be an integer >= %d, got %s"):format(name, min, tostring(value)), 3)
  end
end

local function check_seconds(name, value)
  if value ~= nil and (value ~= value or value < 0) then
    error(("service.new: option '%s' must be a non-negative number of seconds, got %s")
      :format(name, tostring(value)), 3)
  end
end

--- Creates a service (nothing connects before the first step or run).
-- @tparam table opts `name` (the consumer group), `brokers`, `codec`
--   ("json" default, "raw", or a table), `retries` (3), `backoff` (0.5 s,
--   doubled per attempt up to `max_backoff`, 30 s), `dlq` (nil: the topic
--   `<topic>.<name>.dlq`; a string: that topic; a function(topic, name); false:
--   stop the partition instead), `commit_interval` (5 s), `log_interval`
--   (60 s; 0: no periodic line), `log(level, line)`, `batch` (messages per
--   step, 100), `lag_timeout` (seconds the periodic line waits for the lag,
--   0.5; 0 asks no broker, for event loops), `event_loop` (true: step never
--   waits, see README; rdkafka.resty sets it), and any librdkafka property (a
--   key with a dot, or acks, debug, partitioner, log_level; the consumer's
--   go to the consumer, the producer's to the publisher).
function M.new(opts)
  if type(opts) == "table" and opts.brokers == nil and M.defaults.brokers then
    local copy = {}
    for k, v in pairs(opts) do copy[k] = v end
    copy.brokers = M.defaults.brokers
    opts = copy
  end
  options.check("service.new", opts, KNOWN, { "name", "brokers" })
  if opts.name == "" then error("service.new: option 'name' must be a non-empty string", 2) end
  check_count("retries", opts.retries, 0)
  check_count("batch", opts.batch, 1)
  if opts.batch and opts.batch > 1000000 then
    error("service.new: option 'batch' must be at most 1000000", 2)
  end
  check_seconds("backoff", opts.backoff)
  check_seconds("max_backoff", opts.max_backoff)
  check_seconds("commit_interval", opts.commit_interval)
  check_seconds("log_interval", opts.log_interval)
  check_seconds("lag_timeout", opts.lag_timeout)
  local dlq = opts.dlq
  if dlq ~= nil and dlq ~= false and type(dlq) ~= "string" and type(dlq) ~= "function" then
    error(("service.new: option 'dlq' must be a topic name, a function, or false, got %s"):format(type(dlq)), 2)
  end
  if dlq == "" then error("service.new: option 'dlq' must be a non-empty topic name", 2) end
  return setmetatable({
    name = opts.name,
    brokers = opts.brokers,
    codec = codecs.resolve(opts.codec, "service.new: option 'codec'"),
    retries = opts.retries or 3,
    backoff = opts.backoff or 0.5,
    max_backoff = opts.max_backoff or 30,
    dlq = dlq,
    commit_interval = opts.commit_interval or 5,
    log_interval = opts.log_interval or 60,
    lag_timeout = opts.lag_timeout or 0.5,
    loop = opts.event_loop or false, -- step never waits (an event loop runs it)
    log = opts.log or options.default_log,
    batch = opts.batch or 100,
    conf = options.librdkafka(opts),
    routes = {},        -- {topic=, pattern=, handler=, codec=}, in the order given
    route_cache = {},   -- topic -> route (false: none)
    owned = {},         -- key -> {topic, partition} assigned to this instance
    done = {},          -- key -> next offset to commit (handled up to it)
    dirty = {},         -- key -> true: done moved since the last commit
    retry = {},         -- key -> {offset=, attempt=, due=, resumed=}
    halted = {},        -- key -> reason: partition stopped (dlq = false)
    rebalances = 0,     -- rebalance callbacks
    counters = metrics.new_counters(),
    lag_history = {},   -- key -> the last lags logged
  }, Service)
end

--- Adds a handler for a topic, or for a pattern (a name starting with "^",
-- a POSIX extended regular expression as librdkafka matches them).
-- handler(event, ctx); opts: `codec` for this topic.
function Service:on(topic, handler, opts)
  if type(topic) ~= "string" or topic == "" then
    error(("bad argument #1 to 'on' (topic must be a non-empty string, got %s)")
      :format(topic == "" and "an empty string" or type(topic)), 2)
  end
  if type(handler) ~= "function" then
    error(("bad argument #2 to 'on' (handler must be a function, got %s)"):format(type(handler)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #3 to 'on' (options table expected, got %s)"):format(type(opts)), 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "codec" then error(("bad argument #3 to 'on' (unknown option '%s')"):format(tostring(k)), 2) end
  end
  local pattern = topic:sub(1, 1) == "^"
  if pattern then core.regex_match(topic, "") end -- raises on a pattern that does not compile
  for _, route in ipairs(self.routes) do
    if route.topic == topic then
      error(("bad argument #1 to 'on' (topic '%s' has a handler already)"):format(topic), 2)
    end
  end
  local codec = self.codec
  if opts and opts.codec ~= nil then codec = codecs.resolve(opts.codec, "on: option 'codec'") end
  self.routes[#self.routes + 1] = { topic = topic, pattern = pattern, handler = handler, codec = codec }
  self.route_cache = {}
  if self.consumer then self:_subscribe() end
  return self
end

function Service:_route(topic)
  local route = self.route_cache[topic]
  if route ~= nil then return route or nil end
  route = false
  for _, r in ipairs(self.routes) do
    if not r.pattern and r.topic == topic then route = r break end
  end
  if not route then
    for _, r in ipairs(self.routes) do
      if r.pattern and core.regex_match(r.topic, topic) then route = r break end
    end
  end
  self.route_cache[topic] = route
  return route or nil
end

function Service:_subscribe()
  local topics = {}
  for i, r in ipairs(self.routes) do topics[i] = r.topic end
  local ok, err = self.consumer:subscribe(topics)
  if not ok then error(("service %s: subscribe failed: %s"):format(self.name, tostring(err)), 0) end
end

-- Commits what was handled; sync waits up to `timeout`, else the outcome
-- comes to on_commit. `only` limits it to some partitions (keys).
function Service:_commit(sync, timeout, only)
  local list = {}
  for key in pairs(self.dirty) do
    local tp = self.owned[key]
    if tp and (not only or only[key]) then
      list[#list + 1] = { topic = tp[1], partition = tp[2], offset = self.done[key] }
    end
  end
  if #list == 0 then return true end
  self.last_commit = now()
  -- What handlers published is delivered before the offsets of the events
  -- that published it are committed: a crash after the commit loses none.
  -- In an event loop (self.loop) a periodic commit does not wait: these
  -- offsets are committed by a later turn, once every event published so
  -- far has been reported (see _commit_when_reported).
  if self.pub and self.pub:pending() > 0 then
    if self.loop and not sync then
      self.pub:poll(0)
      local mark = self.pub:mark()
      if not self.pub:reported(mark) then
        self.waiting_commit = { list = list, mark = mark }
        return nil, "published events not delivered yet"
      end
    elseif self.pub:flush(timeout or 10) > 0 then
      self.log("warn", ("service=%s commit put off: %d published events not delivered yet")
        :format(self.name, self.pub:pending()))
      return nil, "published events not delivered yet"
    end
  end
  local ok, err
  if sync then ok, err = self.consumer:commit(list, timeout) else ok, err = self.consumer:commit_async(list) end
  if ok and sync then
    for _, e in ipairs(list) do
      local key = key_of(e.topic, e.partition)
      if self.done[key] == e.offset then self.dirty[key] = nil end
    end
  elseif not ok then
    self.log("warn", ("service=%s commit failed: %s"):format(self.name, tostring(err)))
  end
  return ok, err
end

-- Event-loop mode: commits the offsets a periodic commit put off, once
-- every event published before it has been reported; only for partitions
-- this instance still owns (a rebalance drops the wait altogether).
function Service:_commit_when_reported()
  local w = self.waiting_commit
  self.pub:poll(0)
  if not self.pub:reported(w.mark) then return end
  self.waiting_commit = nil
  local list = {}
  for _, e in ipairs(w.list) do
    if self.owned[key_of(e.topic, e.partition)] then list[#list + 1] = e end
  end
  if #list == 0 then return end
  local ok, err = self.consumer:commit_async(list)
  if not ok then self.log("warn", ("service=%s commit failed: %s"):format(self.name, tostring(err))) end
end

function Service:_forget(partitions)
  for _, tp in ipairs(partitions) do
    local key = key_of(tp.topic, tp.partition)
    self.owned[key], self.done[key], self.dirty[key] = nil, nil, nil
    self.retry[key], self.halted[key] = nil, nil
  end
end

function Service:_start()
  if self.consumer then return end
  if #self.routes == 0 then
    error(("service %s: no handlers (call svc:on(topic, handler) first)"):format(self.name), 0)
  end
  local conf = {}
  for k, v in pairs(self.conf) do
    if not producer_only(k) then conf[k] = v end
  end
  conf["bootstrap.servers"] = self.brokers
  conf["group.id"] = self.name
  if conf["auto.offset.reset"] == nil then conf["auto.offset.reset"] = "earliest" end
  conf["enable.auto.commit"] = false -- the service commits what its handlers finished
  conf.on_assign = function(c, partitions)
    self.rebalances = self.rebalances + 1
    self.waiting_commit = nil
    for _, tp in ipairs(partitions) do
      local key = key_of(tp.topic, tp.partition)
      self.owned[key] = { tp.topic, tp.partition }
      self.retry[key], self.halted[key], self.done[key], self.dirty[key] = nil, nil, nil, nil
    end
    -- librdkafka keeps a pause across revoke and assign: a partition parked
    -- for a retry before the rebalance would stay stopped. Fresh state, so
    -- every partition runs (from the committed offset).
    if #partitions > 0 then c:resume(partitions) end
  end
  conf.on_revoke = function(_, partitions)
    self.rebalances = self.rebalances + 1
    local only = {}
    for _, tp in ipairs(partitions) do only[key_of(tp.topic, tp.partition)] = true end
    -- Hand over exactly what was handled (in an event loop, waiting 1 s at
    -- most for what handlers published and for the answer).
    self.waiting_commit = nil
    local ok, err = self:_commit(true, self.loop and not self.stopped and 1 or 10, only)
    if not ok then self.revoke_error = err end
    self:_forget(partitions)
  end
  conf.on_lost = function(_, partitions)
    self.rebalances = self.rebalances + 1
    self.waiting_commit = nil
    self.log("warn", ("service=%s lost %d partitions (the group moved them on): "
      .. "uncommitted events will be handled again")
      :format(self.name, #partitions))
    self:_forget(partitions)
  end
  conf.on_commit = function(err, partitions)
    if err then
      self.log("warn", ("service=%s commit failed: %s"):format(self.name, tostring(err)))
      return
    end
    for _, tp in ipairs(partitions) do
      local key = key_of(tp.topic, tp.partition)
      if not tp.error and self.done[key] == tp.offset then self.dirty[key] = nil end
    end
  end
  conf.on_error = function(err)
    self.log(err.fatal and "error" or "warn", ("service=%s kafka: %s"):format(self.name, tostring(err)))
    if err.fatal then
      self.log("error", ("service=%s stops: the consumer cannot go on after a fatal error"):format(self.name))
      self.stop_requested = true
    end
  end
  self.consumer = rdkafka.consumer(conf)
  self:_subscribe()
  self.started_at, self.last_commit, self.last_log = now(), now(), now()
end

function Service:_publisher()
  if not self.pub then
    local opts = { brokers = self.brokers, name = self.name, codec = self.codec, log = self.log,
      queue_full_wait = self.loop and 0 or nil }
    for k, v in pairs(self.conf) do
      if not consumer_only(k) then opts[k] = v end
    end
    self.pub = publisher.new(opts)
  end
  return self.pub
end

-- The dead-letter topic for topic, or nil and why.
function Service:_dlq_topic(topic)
  if type(self.dlq) == "string" then return self.dlq end
  if type(self.dlq) == "function" then
    local ok, name = pcall(self.dlq, topic, self.name)
    if not ok then return nil, "the dlq function raised: " .. tostring(name) end
    if type(name) ~= "string" or name == "" then
      return nil, "the dlq function returned " .. type(name) .. ", not a topic name"
    end
    return name
  end
  return ("%s.%s.dlq"):format(topic, self.name)
end

-- Sends msg to the dead-letter topic with why; true once delivered.
function Service:_dead_letter(msg, reason, attempts)
  local headers = {}
  for _, h in ipairs(msg.headers or {}) do headers[#headers + 1] = h end
  headers[#headers + 1] = { "dlq-error", tostring(reason):sub(1, 2000) }
  headers[#headers + 1] = { "dlq-topic", msg.topic }
  headers[#headers + 1] = { "dlq-partition", tostring(msg.partition) }
  headers[#headers + 1] = { "dlq-offset", ("%d"):format(msg.offset) }
  headers[#headers + 1] = { "dlq-attempts", tostring(attempts) }
  headers[#headers + 1] = { "dlq-service", self.name }
  local dlq, err = self:_dlq_topic(msg.topic)
  local delivered = false
  if dlq then
    local pub = self:_publisher()
    local before = pub.failed_by_topic[dlq] or 0
    local ok
    ok, err = pub.producer:produce { topic = dlq, key = msg.key, value = msg.value, headers = headers }
    -- Waited for (at most 10 s, 1 s in an event loop: the loop stands still
    -- meanwhile): the offset moves on only once the dead letter is delivered.
    if ok then delivered = pub:flush(self.loop and 1 or 10) == 0 and (pub.failed_by_topic[dlq] or 0) == before end
  end
  if not delivered then
    self.log("error", ("service=%s cannot dead-letter %s/%d@%d: %s"):format(self.name, msg.topic, msg.partition,
      msg.offset, tostring(err or "not delivered")))
  end
  return delivered
end

function Service:_mark_done(key, msg)
  self.done[key] = msg.offset + 1
  self.dirty[key] = true
  local c = self.counters
  c.last_offset[key] = msg.offset
end

-- Parks the partition on msg: paused and rewound to msg (the seek is not
-- waited for: librdkafka drops what it fetched before it at once), retried
-- at `due`.
function Service:_park(key, msg, attempt, delay)
  local tp = { topic = msg.topic, partition = msg.partition, offset = msg.offset }
  self.consumer:pause { tp }
  self.consumer:seek(tp, 0)
  self.retry[key] = { offset = msg.offset, attempt = attempt, due = now() + delay }
end

local ctx_methods = {}
ctx_methods.__index = ctx_methods
--- ctx:publish(topic, event, opts): publishes through the service's publisher.
function ctx_methods:publish(topic, event, opts)
  return self._svc:_publisher():publish(topic, event, opts)
end

local function traceback(err)
  if type(err) == "string" then return debug.traceback(err, 2) end
  return err
end

-- handler(event, ctx) in a protected call with a traceback. Lua 5.1's
-- xpcall passes no arguments (5.2+ and LuaJIT do): a closure there.
local call_handler
if select(2, xpcall(function(a) return a end, traceback, true)) then
  call_handler = function(handler, event, ctx) return xpcall(handler, traceback, event, ctx) end
else
  call_handler = function(handler, event, ctx)
    return xpcall(function() return handler(event, ctx) end, traceback)
  end
end

-- Handles one message; returns false when its partition must wait (the
-- rest of the batch for it is skipped).
function Service:_handle(key, msg)
  local c = self.counters
  local retry = self.retry[key]
  local attempt = 1
  if retry and retry.offset == msg.offset then
    if retry.dead_letter then return self:_give_up(key, msg, retry.dead_letter, retry.attempt) end
    attempt = retry.attempt + 1
  end
  local route = self:_route(msg.topic)
  if not route then -- a topic matched by the subscription with no handler: nothing to do
    self:_mark_done(key, msg)
    return true
  end
  local ok, event, why = pcall(route.codec.decode, msg.value)
  if not ok or event == nil then
    c.decode_errors = c.decode_errors + 1
    why = "cannot decode: " .. tostring(ok and why or event)
    return self:_give_up(key, msg, why, attempt)
  end
  local ctx = setmetatable({
    topic = msg.topic, partition = msg.partition, offset = msg.offset, key = msg.key,
    headers = msg.headers, timestamp = msg.timestamp, attempt = attempt, service = self.name, _svc = self,
  }, ctx_methods)
  local done, err = call_handler(route.handler, event, ctx)
  if done then
    c.handled = c.handled + 1
    self.retry[key] = nil
    self:_mark_done(key, msg)
    return true
  end
  c.failed = c.failed + 1
  if attempt <= self.retries then
    c.retried = c.retried + 1
    local delay = math.min(self.backoff * 2 ^ (attempt - 1), self.max_backoff)
    self.log("warn", ("service=%s handler failed on %s/%d@%d (attempt %d of %d, retry in %.2fs): %s")
      :format(self.name, msg.topic, msg.partition, msg.offset, attempt, self.retries + 1, delay,
        tostring(err):match("[^\n]*")))
    self:_park(key, msg, attempt, delay)
    return false
  end
  return self:_give_up(key, msg, err, attempt)
end

-- The event cannot be handled: dead-letter it (or stop its partition).
function Service:_give_up(key, msg, reason, attempt)
  if self.dlq == false then
    self.halted[key] = tostring(reason)
    self.consumer:pause { { topic = msg.topic, partition = msg.partition } }
    self.log("error", ("service=%s partition %s/%d stopped at offset %d (dlq = false): %s")
      :format(self.name, msg.topic, msg.partition, msg.offset, tostring(reason):match("[^\n]*")))
    self.retry[key] = nil
    return false
  end
  if self:_dead_letter(msg, reason, attempt) then
    self.counters.dead_lettered = self.counters.dead_lettered + 1
    self.log("warn", ("service=%s dead-lettered %s/%d@%d after %d attempts: %s")
      :format(self.name, msg.topic, msg.partition, msg.offset, attempt, tostring(reason):match("[^\n]*")))
    self.retry[key] = nil
    self:_mark_done(key, msg)
    return true
  end
  -- Not delivered to the dead-letter topic either: wait, then try the
  -- dead letter again (the handler is not called again).
  self:_park(key, msg, attempt, self.max_backoff)
  self.retry[key].dead_letter = reason
  return false
end

function Service:_resume_due()
  local t = now()
  for key, retry in pairs(self.retry) do
    if not retry.resumed and retry.due <= t and self.owned[key] then
      local tp = { topic = self.owned[key][1], partition = self.owned[key][2], offset = retry.offset }
      -- Rewound again: what came between the failure and the pause is
      -- fetched again, not lost.
      self.consumer:seek(tp, 0)
      self.consumer:resume { tp }
      retry.resumed = true
    end
  end
end

--- One turn of the loop: resumes partitions whose retry is due, handles up
-- to `batch` events (waiting at most `timeout` seconds, default 0, for the
-- first), commits and logs when their interval has passed. Returns the
-- number of events handled (successfully or not).
function Service:step(timeout)
  if self.stopped then error(("service %s is stopped"):format(self.name), 2) end
  self:_start()
  self:_resume_due()
  local msgs, err = self.consumer:consume(self.batch, timeout or 0)
  if err and err.name ~= "_PARTITION_EOF" then
    self.log("warn", ("service=%s %s"):format(self.name, tostring(err)))
  end
  -- consume runs no rebalance callback while a batch is out: every message
  -- here belongs to a partition this instance owns.
  local n, skip = 0, {}
  for i = 1, #msgs do
    local msg = msgs[i]
    local key = key_of(msg.topic, msg.partition)
    local retry = self.retry[key]
    if self.stop_requested or core.signal_received() then
      break -- the rest of the batch is not done: fetched again next time
    end
    if self.owned[key] and not skip[key] and not self.halted[key]
        and not (retry and (not retry.resumed or msg.offset < retry.offset)) then
      n = n + 1
      if not self:_handle(key, msg) then skip[key] = true end
    end
  end
  local t = now()
  if self.waiting_commit then
    self:_commit_when_reported()
  elseif t - self.last_commit >= self.commit_interval then
    self:_commit(false)
  end
  if self.log_interval > 0 and t - self.last_log >= self.log_interval then
    self.last_log = t
    self:_log_line("interval")
  end
  return n
end

function Service:_log_line(why)
  local c = self.counters
  local lag, list = self:_total_lag(self.lag_timeout)
  self.log("info", ("service=%s %s handled=%d failed=%d retried=%d dead_lettered=%d decode_errors=%d lag=%s")
    :format(self.name, why, c.handled, c.failed, c.retried, c.dead_lettered, c.decode_errors, tostring(lag)))
  -- A partition whose lag grew at each of the last 4 lines: consumers do
  -- not keep up with producers.
  for _, e in ipairs(list or {}) do
    if e.lag ~= nil then -- nil: not known yet (lag_timeout 0)
      local key = key_of(e.topic, e.partition)
      local h = self.lag_history[key] or {}
      self.lag_history[key] = h
      h[#h + 1] = e.lag
      if #h > 4 then table.remove(h, 1) end
      if #h == 4 and h[1] < h[2] and h[2] < h[3] and h[3] < h[4] then
        self.log("warn", ("service=%s lag of %s/%d keeps growing (%d, %d, %d, %d): consuming slower than producing")
          :format(self.name, e.topic, e.partition, unpack(h)))
      end
    end
  end
end

function Service:_total_lag(timeout)
  if not self.consumer then return nil end
  local list = self.consumer:lag(timeout)
  if not list then return nil end
  local total = 0
  for _, e in ipairs(list) do total = total + (e.lag or 0) end -- nil: not known yet
  return total, list
end

--- Takes the handlers of `other` (a service not started, such as one a
-- reloaded file made): commits what was handled, then the next event runs
-- the new handlers; the subscription follows their topics. Other options
-- keep their values until a restart.
function Service:replace_handlers(other)
  if getmetatable(other) ~= Service then
    error("bad argument #1 to 'replace_handlers' (service expected)", 2)
  end
  if #other.routes == 0 then error("bad argument #1 to 'replace_handlers' (it has no handlers)", 2) end
  local old_topics, new_topics = {}, {}
  for _, r in ipairs(self.routes) do old_topics[#old_topics + 1] = r.topic end
  for _, r in ipairs(other.routes) do new_topics[#new_topics + 1] = r.topic end
  table.sort(old_topics)
  table.sort(new_topics)
  if self.consumer then self:_commit(true, 10) end
  self.routes, self.route_cache = other.routes, {}
  if self.consumer and table.concat(old_topics, "\0") ~= table.concat(new_topics, "\0") then
    self:_subscribe()
  end
end

--- Counters: handled, failed, retried, dead_lettered, decode_errors, and
-- per partition (`partitions`, a list) the last handled offset and the lag.
-- `timeout` bounds the lag queries (default 1 s).
function Service:metrics(timeout)
  return metrics.snapshot(self, timeout or 1)
end

--- Asks run() (or run_all) to stop after the current event.
function Service:stop()
  self.stop_requested = true
end

--- Commits what was handled, leaves the group and flushes what handlers
-- published. Returns true, or nil and the first error.
function Service:close(timeout)
  if self.stopped then return true end
  self.stopped = true
  timeout = timeout or 10
  local first_err
  if self.consumer then
    self:_log_line("stop")
    local _, commit_err = self:_commit(true, timeout)
    self.revoke_error = nil
    -- Closing revokes the partitions: on_revoke commits again what is left
    -- (say the commit above met a rebalance).
    local ok, err = self.consumer:close(timeout)
    if not ok then
      first_err = err
    elseif self.revoke_error then
      first_err = self.revoke_error
    elseif next(self.dirty) ~= nil then -- not revoked (a static member): still not committed
      first_err = commit_err
    end
    self.consumer = nil
  end
  if self.pub then
    local undelivered, err = self.pub:close(timeout)
    if undelivered ~= 0 then
      first_err = first_err or err or ("%d published events not delivered"):format(undelivered)
    end
    self.pub = nil
  end
  if first_err then return nil, first_err end
  return true
end

--- Runs the services until SIGINT/SIGTERM or stop(), each with its own
-- consumer, then closes them all (current events finish, offsets are
-- committed, groups are left, publishers flushed).
function M.run_all(services, opts)
  if type(services) ~= "table" or #services == 0 then
    error("bad argument #1 to 'run_all' (non-empty list of services expected)", 2)
  end
  for i, svc in ipairs(services) do
    if getmetatable(svc) ~= Service then
      error(("bad argument #1 to 'run_all' (entry #%d is not a service)"):format(i), 2)
    end
  end
  opts = opts or {}
  local signals = opts.signals ~= false
  if signals then core.watch_signals() end
  local ok, err = pcall(function()
    local wait = math.max(0.01, 0.2 / #services)
    while not core.signal_received() do
      local running = 0
      for _, svc in ipairs(services) do
        if not svc.stop_requested then
          running = running + 1
          svc:step(wait)
        elseif not svc.stopped then
          -- Closed at once: its partitions go to the other instances now.
          local closed, close_err = svc:close()
          if not closed then svc.log("error", ("service=%s close: %s"):format(svc.name, tostring(close_err))) end
        end
      end
      if running == 0 or (opts.stop_when and opts.stop_when()) then break end
    end
  end)
  local sig = core.signal_received()
  if signals then core.unwatch_signals() end
  for _, svc in ipairs(services) do
    if sig then svc.log("info", ("service=%s stopping on %s"):format(svc.name, sig)) end
    local closed, close_err = svc:close()
    if not closed then svc.log("error", ("service=%s close: %s"):format(svc.name, tostring(close_err))) end
  end
  if not ok then error(err, 0) end
  return true
end

--- Runs this service until SIGINT/SIGTERM or stop() (see run_all).
function Service:run(opts)
  return M.run_all({ self }, opts)
end

return M

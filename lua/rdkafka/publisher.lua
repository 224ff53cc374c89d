--- Publishing events: a producer that encodes, adds the event headers and
-- never drops a failed delivery silently. `require("rdkafka.service").publisher`
-- is this module's `new`.
-- @module rdkafka.publisher
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local codecs = require("rdkafka.codec")
local options = require("rdkafka.options")

local M = {}
local Publisher = {}
Publisher.__index = Publisher

local QUEUE_FULL_WAIT = 10 -- seconds publish waits for room in a full local queue, by default
local NO_OPTIONS = {}

-- event-id: unique across processes without a UUID library.
local id_counter = 0
local id_prefix
local function event_id()
  if not id_prefix then
    -- 8 random bytes, without touching the application's math.random.
    local f = io.open("/dev/urandom", "rb")
    local bytes = f and f:read(8)
    if f then f:close() end
    if bytes and #bytes == 8 then
      id_prefix = bytes:gsub(".", function(ch) return ("%02x"):format(ch:byte()) end)
    else
      id_prefix = ("%x%x"):format(math.floor(core.time_ms()), math.floor(core.monotonic() * 1e6 % 2147483647))
    end
  end
  id_counter = id_counter + 1
  return ("%s-%x-%x"):format(id_prefix, math.floor(core.time_ms()), id_counter), id_counter
end

local KNOWN = { brokers = "string", name = "string", codec = true, on_failure = "function", log = "function",
  queue_full_wait = "number" }

--- Creates a publisher.
-- @tparam table opts `brokers` (required), `name` (the `producer` header;
--   default "rdkafka"), `codec` ("json", "raw" or a codec table; default
--   json), `on_failure(err, msg)` (a delivery that failed; default: the
--   log), `log(level, line)`, `queue_full_wait` (seconds publish waits for
--   room when the local queue is full, default 10; 0 in an event loop such as
--   nginx's, where waiting blocks), and any librdkafka property (a key with a
--   dot, or acks, debug, partitioner, log_level). `delivery.report.fields`
--   defaults to "none" here (a delivered event's report needs no copy of its
--   value); `delivery.report.only.error` is refused.
function M.new(opts)
  options.check("publisher", opts, KNOWN, { "brokers" })
  local wait = opts.queue_full_wait
  if wait ~= nil and (wait ~= wait or wait < 0) then
    error("publisher: option 'queue_full_wait' must be a non-negative number of seconds", 2)
  end
  local self = setmetatable({
    name = opts.name or "rdkafka",
    codec = codecs.resolve(opts.codec, "publisher: option 'codec'"),
    on_failure = opts.on_failure,
    log = opts.log or options.default_log,
    queue_full_wait = wait or QUEUE_FULL_WAIT,
    counters = { published = 0, delivered = 0, failed = 0 },
    failed_by_topic = {},
    -- The sequence numbers (of the event-id) of published events in order,
    -- from head to tail, and those reported out of order: what reported()
    -- answers from.
    in_flight = {}, head = 1, tail = 0, reported_early = {},
    unsettled = {}, -- event-id -> sequence number, for the events in flight
  }, Publisher)
  local conf = options.librdkafka(opts)
  local only_errors = conf["delivery.report.only.error"]
  if only_errors ~= nil and only_errors ~= false and only_errors ~= "false" then
    -- reported() and the service's commits wait for every event's report.
    error("publisher: option 'delivery.report.only.error' is not supported (the publisher " ..
      "follows every event's delivery; its counters count them)", 2)
  end
  conf["bootstrap.servers"] = opts.brokers
  -- A delivered event's report needs only its opaque (its event-id):
  -- no copy of its value and headers (a failure's report has every field).
  conf["delivery.report.fields"] = conf["delivery.report.fields"] or "none"
  conf.on_delivery = function(err, msg)
    self:_settle(msg)
    if err then
      self.counters.failed = self.counters.failed + 1
      self.failed_by_topic[msg.topic] = (self.failed_by_topic[msg.topic] or 0) + 1
      if self.on_failure then
        -- Inside the producer's callback: publish may not serve reports here.
        self.in_callback = true
        local ok, hook_err = pcall(self.on_failure, err, msg)
        self.in_callback = false
        if not ok then error(hook_err, 0) end
      else
        self.log("error", ("publisher=%s event lost: topic=%s error=%s")
          :format(self.name, tostring(msg.topic), tostring(err)))
      end
    else
      self.counters.delivered = self.counters.delivered + 1
    end
  end
  self.producer = rdkafka.producer(conf)
  return self
end

-- A delivery report: its event is no longer in flight.
function Publisher:_settle(msg)
  -- The opaque is the event-id (random per process): only this publisher's
  -- own events settle, not what is produced directly on .producer (dead
  -- letters, or anything with an opaque of its own).
  local seq = self.unsettled[msg.opaque]
  if not seq then return end
  self.unsettled[msg.opaque] = nil
  local q = self.in_flight
  if q[self.head] == seq then
    q[self.head] = nil
    self.head = self.head + 1
    while self.head <= self.tail and self.reported_early[q[self.head]] do
      self.reported_early[q[self.head]] = nil
      q[self.head] = nil
      self.head = self.head + 1
    end
  else
    self.reported_early[seq] = true
  end
end

--- A mark for reported(): the sequence number of the last event published.
function Publisher:mark() -- luacheck: ignore 212 (a method, for the callers)
  return id_counter
end

--- Whether every event published up to `mark` has had its delivery report
-- (delivered or failed), served by poll or flush.
function Publisher:reported(mark)
  return self.head > self.tail or self.in_flight[self.head] > mark
end

local function check_open(self, fname)
  if not self.producer then error(("%s: the publisher is closed"):format(fname), 3) end
end

-- Serves the reports that are ready; false, doing nothing, inside
-- on_failure (publish from there), where the producer may not poll.
local function serve(self, timeout)
  if self.in_callback then return false end
  self.producer:poll(timeout)
  return true
end

--- Encodes and queues `event` for `topic`; returns true, or nil and err
-- (`err` is an rdkafka error, or a string when the event cannot be encoded).
-- opts: `key`, `headers` (a list of {name, value} or a map), `type` (the
-- event-type header; default the topic), `partition`, `codec`.
function Publisher:publish(topic, event, opts)
  check_open(self, "publish")
  if type(topic) ~= "string" or topic == "" then
    error(("bad argument #1 to 'publish' (topic must be a non-empty string, got %s)"):format(type(topic)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #3 to 'publish' (options table expected, got %s)"):format(type(opts)), 2)
  end
  opts = opts or NO_OPTIONS
  local codec = opts.codec and codecs.resolve(opts.codec, "publish: option 'codec'") or self.codec
  local ok, value = pcall(codec.encode, event)
  if not ok then return nil, tostring(value) end
  local id, seq = event_id()
  local headers = {
    { "event-type", opts.type or topic },
    { "event-id", id },
    { "event-time", ("%d"):format(core.time_ms()) },
    { "producer", self.name },
    { "content-type", codec.content_type or "application/octet-stream" },
  }
  if opts.headers ~= nil then
    if type(opts.headers) ~= "table" then
      error(("bad argument #3 to 'publish' (option 'headers' must be a table, got %s)"):format(type(opts.headers)), 2)
    end
    if #opts.headers > 0 then
      for _, h in ipairs(opts.headers) do headers[#headers + 1] = h end
    else
      for name, v in pairs(opts.headers) do headers[#headers + 1] = { name, v } end
    end
  end
  local msg = { topic = topic, value = value, key = opts.key, partition = opts.partition, headers = headers,
    opaque = id }
  local p = self.producer
  local deadline = core.monotonic() + self.queue_full_wait
  local done, err = p:produce(msg)
  while not done and err.name == "_QUEUE_FULL" and core.monotonic() < deadline and serve(self, 0.05) do
    done, err = p:produce(msg) -- the reports served made room
  end
  if done then
    self.counters.published = self.counters.published + 1
    self.tail = self.tail + 1
    self.in_flight[self.tail] = seq
    self.unsettled[id] = seq
  end
  serve(self, 0)
  if not done then return nil, err end
  return true
end

--- Serves delivery reports for up to `timeout` seconds (default 0).
function Publisher:poll(timeout)
  check_open(self, "poll")
  return self.producer:poll(timeout)
end

--- Waits up to `timeout` seconds (default 10) for every delivery; returns
-- how many are still undelivered.
function Publisher:flush(timeout)
  check_open(self, "flush")
  return self.producer:flush(timeout)
end

--- Messages whose delivery was not reported yet.
function Publisher:pending()
  check_open(self, "pending")
  return self.producer:pending()
end

--- Flushes (up to `timeout`, default 10) and closes; returns the number of
-- events not delivered (each was reported to on_failure or the log).
function Publisher:close(timeout)
  if not self.producer then return 0 end
  local undelivered, err = self.producer:close(timeout)
  if undelivered == nil then return nil, err end -- still open (no thread to close it)
  self.producer = nil
  return undelivered
end

-- For `local pub <close> = ...`: the second argument there is an error, not a timeout.
Publisher.__close = function(self) self:close() end

return M

-- The handler of bench/resty/nginx.conf: produces COUNT messages of SIZE
-- bytes with one client and answers messages/s, first message to the last
-- one confirmed. How each client confirms:
--   resty-async  lua-resty-kafka buffers and sends from timers; it reports
--                failures only (error_handle), so the broker's log end
--                offsets (high watermarks) are watched until they moved by COUNT;
--   resty-sync   each send() waits for the broker's answer (one request per message);
--   rdkafka      the worker's producer of rdkafka.resty
--                (`kafka.publisher().producer:produce(topic, value)`, the same
--                bare message), never waiting in the request; its delivery
--                reports, served by the worker's timer, count;
--   rdkafka-publish  `kafka.publish(topic, value)`: an event with the
--                service runtime's five headers (event-id, ...).
-- All ask for acks from all in-sync replicas.
local ngx = ngx -- luacheck: ignore 113
local rdkafka = require("rdkafka")
local kafka = require("rdkafka.resty")
local now = require("rdkafka.core").monotonic

local M = {}

local function high_sum(c, topic, partitions)
  local sum = 0
  for p = 0, partitions - 1 do
    local _, high = assert(c:watermarks(topic, p, 5))
    sum = sum + high
  end
  return sum
end

local function resty_producer(mode, brokers, on_error)
  local host, port = brokers:match("^([^:,]+):(%d+)")
  local producer = require("nginx.kafka.producer")
  return producer:new({ { host = host, port = tonumber(port) } }, {
    producer_type = mode, required_acks = -1, api_version = 2, error_handle = on_error,
  }, "bench-" .. tostring(now()))
end

function M.handle()
  local args = ngx.req.get_uri_args()
  local client, topic = args.client, args.topic
  local count, size = tonumber(args.count), tonumber(args.size)
  local brokers = os.getenv("KAFKA_BOOTSTRAP")
  local value = ("x"):rep(size)
  -- A plain consumer only to read the watermarks (for the check and resty-async).
  local c = rdkafka.consumer { ["bootstrap.servers"] = brokers, ["group.id"] = "bench-watermarks" }
  local partitions = #assert(c:metadata(topic, 10)).topics[1].partitions
  local before = high_sum(c, topic, partitions)
  local start, failed = now(), 0
  if client == "resty-async" then
    local p = resty_producer("async", brokers, function(_, _, _, index) failed = failed + index / 2 end)
    for _ = 1, count do
      while true do
        local ok, err = p:send(topic, nil, value)
        if ok then break end
        if err ~= "buffer overflow" then error("resty-async send: " .. tostring(err)) end
        ngx.sleep(0.001) -- lets its flush timers run
      end
    end
    p:flush()
    local deadline = now() + 120
    while high_sum(c, topic, partitions) - before < count - failed and now() < deadline do ngx.sleep(0.001) end
  elseif client == "resty-sync" then
    local p = resty_producer("sync", brokers)
    for _ = 1, count do
      local offset, err = p:send(topic, nil, value)
      if not offset then failed = failed + 1; ngx.log(ngx.ERR, "resty-sync send: ", err) end
    end
  elseif client == "rdkafka" or client == "rdkafka-publish" then
    local base = kafka.counters()
    local producer = kafka.publisher().producer
    local send = client == "rdkafka" and function() return producer:produce(topic, value) end
      or function() return kafka.publish(topic, value) end
    for _ = 1, count do
      while true do
        local ok, err = send()
        if ok then break end
        if err.name ~= "_QUEUE_FULL" then error("publish: " .. tostring(err)) end
        ngx.sleep(0.001) -- lets the timer serve the delivery reports
      end
    end
    local deadline = now() + 120
    while now() < deadline do
      local n = kafka.counters()
      if n.delivered + n.failed - base.delivered - base.failed >= count then
        failed = n.failed - base.failed
        break
      end
      ngx.sleep(0.001)
    end
  else
    ngx.status = 400
    ngx.say("unknown client ", tostring(client))
    return
  end
  local elapsed = now() - start
  local moved = high_sum(c, topic, partitions) - before
  c:close()
  if failed > 0 or moved ~= count then
    ngx.status = 500
    ngx.say(("%s: %d failed, the log end offsets moved by %d of %d"):format(client, failed, moved, count))
    return
  end
  ngx.say(("%.0f"):format(count / elapsed))
end

return M

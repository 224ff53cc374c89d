-- The per-call cost of the handle methods a hot loop calls, without a broker:
-- usage: lua calls.lua MODE COUNT, MODE one of
--   empty    the loop alone (subtracted by bench/calls)
--   pending  p:pending()
--   poll     p:poll(0) on an idle producer
--   produce  p:produce(topic, value) into the local queue (nothing is sent)
--   cpoll    c:poll(0) on an idle consumer
local rdkafka = require("rdkafka")
local mode, count = arg[1], tonumber(arg[2])
local p = rdkafka.producer { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0,
  ["queue.buffering.max.messages"] = 10000000, ["queue.buffering.max.kbytes"] = 2097151,
  on_delivery = function() end }
local c = rdkafka.consumer { ["bootstrap.servers"] = "127.0.0.1:1", ["group.id"] = "calls", ["log_level"] = 0 }
local value = ("x"):rep(100)
if mode == "empty" then
  local f = function() end
  for _ = 1, count do f(p) end
elseif mode == "pending" then
  for _ = 1, count do p:pending() end
elseif mode == "poll" then
  for _ = 1, count do p:poll(0) end
elseif mode == "produce" then
  for _ = 1, count do p:produce("calls", value) end
elseif mode == "cpoll" then
  for _ = 1, count do c:poll(0) end
else
  error("unknown mode " .. tostring(mode))
end
p:close(0)
c:close(0)

-- The Lua side of the consume benchmark: the loop of bench/consume_c.c, with
-- poll per message, consume(1000) batches or consume_columns(1000) batches.
-- Prints messages per second from the first message to the last.
-- usage: lua consume.lua BOOTSTRAP TOPIC GROUP COUNT poll|consume|columns [key=value ...]
local rdkafka = require("rdkafka")
local now = require("rdkafka.core").monotonic
local bootstrap, topic, group, count, mode = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5]
local conf = { ["bootstrap.servers"] = bootstrap, ["group.id"] = group, ["auto.offset.reset"] = "earliest" }
for i = 6, #arg do
  local key, value = arg[i]:match("^([^=]+)=(.*)$")
  conf[assert(key, "expected key=value")] = value
end
local c = rdkafka.consumer(conf)
assert(c:subscribe(topic))
local got, bytes, start = 0, 0, nil
local deadline = now() + 120
if mode == "poll" then
  local poll = c.poll
  while got < count and now() < deadline do
    local msg = poll(c, 0.1)
    if msg then
      got = got + 1
      if got == 1 then start = now() end
      bytes = bytes + #msg.value
    end
  end
elseif mode == "columns" then
  local consume_columns = c.consume_columns
  while got < count and now() < deadline do
    local batch = consume_columns(c, 1000, 0.1)
    local values = batch.value
    for i = 1, batch.n do
      got = got + 1
      if got == 1 then start = now() end
      bytes = bytes + #values[i]
    end
  end
else
  local consume = c.consume
  while got < count and now() < deadline do
    local msgs = consume(c, 1000, 0.1)
    for i = 1, #msgs do
      got = got + 1
      if got == 1 then start = now() end
      bytes = bytes + #msgs[i].value
    end
  end
end
local elapsed = now() - start
c:close()
assert(got >= count, ("consume.lua: %d of %d messages"):format(got, count))
assert(bytes > 0)
print(("%.0f"):format((count - 1) / elapsed))

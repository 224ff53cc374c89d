local helpers = require("helpers")
local errmsg = helpers.errmsg
local offline_producer = helpers.offline_producer

describe("producer", function()
  local p
  before_each(function() p = offline_producer() end)
  after_each(function() p:close(0) end)

  it("says what it is", function()
    assert.matches("^rdkafka.Producer %(rdkafka#producer%-%d+%)$", tostring(p))
    assert.matches("^rdkafka#producer", p:name())
  end)

  it("queues a message in table form and in positional form", function()
    assert.is_true(p:produce { topic = "t", value = "v", key = "k", partition = 0,
      headers = { a = "1" }, timestamp = 1700000000000 })
    assert.is_true(p:produce("t", "v", "k"))
    assert.is_true(p:produce("t", "v", nil, 3))
    assert.is_true(p:produce("t", nil)) -- a tombstone: no value
    assert.is_true(p:produce { topic = "t", headers = { { "h", "1" }, { "h", "2" }, { "n" } } })
    assert.are.equal(5, p:pending())
  end)

  it("names the field or argument that is wrong", function()
    assert.matches("bad argument #1 to 'produce' %(message table or topic name expected, got no value%)",
      errmsg(function() p:produce() end))
    assert.matches("field 'topic' must be a string, got nil", errmsg(function() p:produce { value = "v" } end))
    assert.matches("field 'topic' must be a string, got number", errmsg(function() p:produce { topic = 1 } end))
    assert.matches("field 'value' must be a string or nil, got number",
      errmsg(function() p:produce { topic = "t", value = 5 } end))
    assert.matches("field 'key' must be a string or nil, got table",
      errmsg(function() p:produce { topic = "t", key = {} } end))
    assert.matches("field 'partition' must be an integer, got string",
      errmsg(function() p:produce { topic = "t", partition = "0" } end))
    assert.matches("field 'partition' must be an integer, got a fraction",
      errmsg(function() p:produce { topic = "t", partition = 1.5 } end))
    assert.matches("field 'partition' out of range",
      errmsg(function() p:produce { topic = "t", partition = -2 } end))
    assert.matches("field 'partition' out of range",
      errmsg(function() p:produce { topic = "t", partition = 2 ^ 40 } end))
    assert.matches("field 'partition' must be an integer",
      errmsg(function() p:produce { topic = "t", partition = 2 ^ 80 } end))
    assert.is_true(p:produce { topic = "t", partition = 2 ^ 3 }) -- an integral float is fine
    assert.matches("field 'timestamp' out of range",
      errmsg(function() p:produce { topic = "t", timestamp = -1 } end))
    assert.matches("unknown field 'vaule'", errmsg(function() p:produce { topic = "t", vaule = "x" } end))
    assert.matches("value must be a string or nil, got boolean", errmsg(function() p:produce("t", true) end))
    assert.matches("key must be a string or nil, got number", errmsg(function() p:produce("t", "v", 7) end))
    assert.matches("bad argument #4 to 'produce' %(partition must be an integer",
      errmsg(function() p:produce("t", "v", "k", "x") end))
    assert.matches("no further arguments", errmsg(function() p:produce({ topic = "t" }, "extra") end))
    assert.are.equal(1, p:pending()) -- only the one good message above
  end)

  it("returns an error for a topic name librdkafka cannot take", function()
    local ok, err = p:produce(("t"):rep(100000), "v")
    assert.is_nil(ok)
    assert.are.equal("_INVALID_ARG", err.name)
  end)

  it("refuses an empty topic name", function()
    assert.matches("topic name must be a non%-empty string", errmsg(function() p:produce("", "v") end))
    assert.matches("topic name must be a non%-empty string",
      errmsg(function() p:produce { topic = "", headers = { a = "b" } } end))
    assert.matches("topic name must be a non%-empty string", errmsg(function() p:produce("a\0b", "v") end))
  end)

  it("checks headers", function()
    assert.matches("field 'headers': table expected, got string",
      errmsg(function() p:produce { topic = "t", headers = "a=b" } end))
    assert.matches("header #1 must be a {name, value} table, got string",
      errmsg(function() p:produce { topic = "t", headers = { "a", "b" } } end))
    assert.matches("header name must be a string, got number",
      errmsg(function() p:produce { topic = "t", headers = { [5] = "b" } } end))
    assert.matches("header name must be a string, got number",
      errmsg(function() p:produce { topic = "t", headers = { { 1, "b" } } } end))
    assert.matches("a list of {name, value} pairs mixed with other keys",
      errmsg(function() p:produce { topic = "t", headers = { { "a", "b" }, c = "d" } } end))
    assert.matches("value of header 'a' must be a string or nil, got number",
      errmsg(function() p:produce { topic = "t", headers = { a = 1 } } end))
    assert.matches("value of header 'a' must be a string or nil, got table",
      errmsg(function() p:produce { topic = "t", headers = { { "a", {} } } } end))
    assert.are.equal(0, p:pending())
  end)

  it("returns an error for a message larger than message.max.bytes", function()
    local ok, err = p:produce("t", ("x"):rep(2 * 1024 * 1024))
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    assert.is_false(err.retriable)
  end)

  it("returns a retriable error when the local queue is full, never blocks", function()
    local small = offline_producer { ["queue.buffering.max.messages"] = 2, ["enable.idempotence"] = false }
    assert.is_true(small:produce("t", "1"))
    assert.is_true(small:produce("t", "2"))
    local ok, err = small:produce("t", "3")
    assert.is_nil(ok)
    assert.are.equal("_QUEUE_FULL", err.name)
    assert.is_true(err.retriable)
    small:close(0)
  end)

  it("checks timeouts", function()
    assert.matches("timeout must be a non%-negative number", errmsg(function() p:poll(-1) end))
    assert.matches("timeout must be a non%-negative number", errmsg(function() p:flush(0 / 0) end))
    assert.matches("number expected, got table", errmsg(function() p:poll({}) end))
    -- Connection errors to the absent broker may be among the events served.
    assert.is_true(p:poll(0) >= 0)
    assert.is_true(p:poll() >= 0)
  end)
end)

describe("the produce path", function()
  -- Memory, not time: with the collector stopped, the Lua heap must not grow.
  local function heap_growth_kb(fn)
    collectgarbage("collect")
    collectgarbage("stop")
    local before = collectgarbage("count")
    fn()
    local after = collectgarbage("count")
    collectgarbage("restart")
    return after - before
  end

  it("allocates nothing in Lua per message, in either form", function()
    local p = offline_producer { ["queue.buffering.max.messages"] = 100000 }
    local produce = p.produce
    local msg = { topic = "t", value = "value", key = "key", partition = 1 }
    produce(p, "t", "warm", "up") -- first call may create librdkafka's topic
    local positional = heap_growth_kb(function()
      for _ = 1, 20000 do assert(produce(p, "t", "value", "key")) end
    end)
    local table_form = heap_growth_kb(function()
      for _ = 1, 20000 do assert(produce(p, msg)) end
    end)
    -- Under a byte per message: the smallest Lua object is bigger than that,
    -- so any per-message allocation fails this; a JIT's traces do not.
    local limit_kb = 20000 / 1024
    assert.is_true(positional < limit_kb, ("positional form grew the heap by %.1f KB"):format(positional))
    assert.is_true(table_form < limit_kb, ("table form grew the heap by %.1f KB"):format(table_form))
    assert.are.equal(40001, p:pending())
    p:close(0)
  end)
end)

describe("a closed producer", function()
  it("raises on use, closes again quietly and says it is closed", function()
    local p = offline_producer()
    assert.is_true(p:produce("t", "v"))
    -- Nothing can be delivered (no broker): close reports it, bounded by its timeout.
    local undelivered = p:close(0.2)
    assert.are.equal(1, undelivered)
    assert.are.equal(0, p:close())
    assert.are.equal("rdkafka.Producer (closed)", tostring(p))
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p:produce("t", "v") end))
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p:poll(0) end))
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p:flush(0) end))
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p:pending() end))
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p:name() end))
  end)

  it("tells on_delivery about every message it could not deliver", function()
    local reports = {}
    local p = offline_producer { on_delivery = function(err, msg) reports[#reports + 1] = { err, msg } end }
    assert.is_true(p:produce { topic = "t", value = "a", key = "1" })
    assert.is_true(p:produce { topic = "t", value = "b", key = "2" })
    assert.are.equal(2, p:close(0.2))
    assert.are.equal(2, #reports)
    for _, r in ipairs(reports) do
      assert.are.equal("_PURGE_QUEUE", r[1].name)
      assert.are.equal("t", r[2].topic)
    end
    assert.are.same({ "a", "b" }, { reports[1][2].value, reports[2][2].value })
  end)

  it("is released by the garbage collector without hanging", function()
    do
      local p = offline_producer()
      p:produce("t", "v")
    end
    collectgarbage()
    collectgarbage()
  end)

  it("raises when used with a wrong self", function()
    local p = offline_producer()
    assert.matches("rdkafka.Producer expected", errmsg(function() p.produce({}, "t", "v") end))
    p:close(0)
  end)
end)

-- `<close>` is Lua 5.4 syntax: this spec exists only there.
if _VERSION == "Lua 5.4" then describe("to-be-closed handles", function()
  it("close when their scope ends, even by an error", function()
    local chunk = assert(load([[
      local helpers = ...
      local p <close> = helpers.offline_producer()
      local c <close> = helpers.offline_consumer()
      error({ p = p, c = c })
    ]]))
    local ok, handles = pcall(chunk, helpers)
    assert.is_false(ok)
    assert.are.equal("rdkafka.Producer (closed)", tostring(handles.p))
    assert.are.equal("rdkafka.Consumer (closed)", tostring(handles.c))
  end)
end) end

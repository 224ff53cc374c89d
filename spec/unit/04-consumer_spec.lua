local helpers = require("helpers")
local errmsg = helpers.errmsg
local offline_consumer = helpers.offline_consumer

describe("consumer", function()
  local c
  before_each(function() c = offline_consumer() end)
  after_each(function() c:close() end)

  it("says what it is", function()
    assert.matches("^rdkafka.Consumer %(rdkafka#consumer%-%d+%)$", tostring(c))
  end)

  it("subscribes to a list of topics or to one topic", function()
    assert.is_true(c:subscribe { "a", "b" })
    assert.is_true(c:subscribe("a"))
    assert.is_true(c:unsubscribe())
  end)

  it("names what is wrong with a subscription", function()
    assert.matches("bad argument #1 to 'subscribe' %(list of topic names expected%)",
      errmsg(function() c:subscribe() end))
    assert.matches("list of topic names expected", errmsg(function() c:subscribe(42) end))
    assert.matches("list of topic names is empty", errmsg(function() c:subscribe {} end))
    assert.matches("topic #2 must be a non%-empty string, got number", errmsg(function() c:subscribe { "a", 2 } end))
    assert.matches("topic #1 must be a non%-empty string, got string", errmsg(function() c:subscribe { "" } end))
    assert.matches("topic #3 repeats topic #1", errmsg(function() c:subscribe { "a", "^b.*", "a" } end))
    assert.matches("topic #2 repeats topic #1", errmsg(function() c:subscribe { "^b.*", "^b.*" } end))
  end)

  it("returns nil when nothing arrives before the timeout", function()
    assert.is_nil(c:poll(0))
    assert.is_nil(c:poll(0.05))
    assert.is_nil(c:poll())
  end)

  it("checks timeouts", function()
    assert.matches("timeout must be a non%-negative number", errmsg(function() c:poll(-0.5) end))
    assert.matches("number expected, got boolean", errmsg(function() c:poll(true) end))
  end)

  it("names what is wrong with a message to commit", function()
    assert.matches("message table, list of partitions or nil expected", errmsg(function() c:commit("t") end))
    assert.matches("field 'topic' must be a string", errmsg(function() c:commit { partition = 0, offset = 1 } end))
    assert.matches("field 'partition' must be a non%-negative integer",
      errmsg(function() c:commit { topic = "t", partition = -1, offset = 1 } end))
    assert.matches("field 'partition' must be a non%-negative integer",
      errmsg(function() c:commit { topic = "t", partition = 2 ^ 40, offset = 1 } end))
    assert.matches("field 'offset' must be a non%-negative integer",
      errmsg(function() c:commit { topic = "t", partition = 0, offset = 1.5 } end))
    assert.matches("field 'offset' must be a non%-negative integer",
      errmsg(function() c:commit { topic = "t", partition = 0 } end))
  end)

  it("says there is nothing to commit before poll returned a message", function()
    local ok, err = c:commit()
    assert.is_nil(ok)
    assert.are.equal("_NO_OFFSET", err.name)
    assert.matches("nothing to commit", err.message)
  end)

  it("owns no partitions before it joined a group", function()
    assert.are.same({}, c:assignment())
  end)
end)

describe("a closed consumer", function()
  it("raises on use, closes again quietly and says it is closed", function()
    local c = offline_consumer()
    assert.is_true(c:close())
    assert.is_true(c:close())
    assert.are.equal("rdkafka.Consumer (closed)", tostring(c))
    for _, call in ipairs {
      function() c:poll(0) end, function() c:subscribe { "t" } end,
      function() c:commit() end, function() c:assignment() end, function() c:unsubscribe() end,
      function() c:name() end,
    } do
      assert.matches("attempt to use a closed rdkafka.Consumer", errmsg(call))
    end
  end)

  it("is released by the garbage collector without hanging", function()
    do
      local c = offline_consumer()
      c:subscribe { "t" }
    end
    collectgarbage()
    collectgarbage()
  end)
end)

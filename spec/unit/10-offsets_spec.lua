-- The consumer's offsets and flow control on the mock cluster: committed,
-- position, seek, pause, resume, watermarks, store_offsets, commit of a
-- list, subscription, member_id; and bad input. offsets_for_times needs the
-- real broker (spec/integration/30-offsets_spec.lua).
local rdkafka = require("rdkafka")
local helpers = require("helpers")
local errmsg = helpers.errmsg

describe("consumer offsets", function()
  local mc, bootstrap
  lazy_setup(function()
    helpers.quiet() -- handles earlier specs dropped must not starve the mock broker under valgrind
    mc = helpers.mock_with_topics { offs = 2 }
    bootstrap = mc.bootstrap_servers
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 10 do assert(p:produce { topic = "offs", partition = 0, value = tostring(i) }) end
    assert.are.equal(0, p:flush(30))
    p:close()
  end)
  lazy_teardown(function() mc:close() end)

  local function consumer(extra)
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("offs"), extra))
    assert(c:subscribe("offs"))
    return c
  end

  it("watermarks says where a partition starts and ends", function()
    local c = consumer()
    local low, high = c:watermarks("offs", 0, 10)
    assert.are.equal(0, low)
    assert.are.equal(10, high)
    low, high = c:watermarks("offs", 1, 10)
    assert.are.equal(0, low)
    assert.are.equal(0, high)
    c:close()
  end)

  it("position follows poll; committed follows commit; a list commits as given", function()
    local c = consumer()
    local p0 = { { topic = "offs", partition = 0 } }
    assert.is_nil(c:position(p0)[1].offset)
    local got = helpers.consume(c, 4, 30)
    assert.are.equal(4, #got)
    assert.are.equal(got[4].offset + 1, c:position(p0)[1].offset)
    assert.is_nil(c:committed(p0, 10)[1].offset)
    assert.is_true(c:commit())
    assert.are.equal(4, c:committed(p0, 10)[1].offset)
    assert.is_true(c:commit { { topic = "offs", partition = 0, offset = 2 } })
    local committed = c:committed({ { topic = "offs", partition = 0 }, { topic = "offs", partition = 1 } }, 10)
    assert.are.same({ topic = "offs", partition = 0, offset = 2 }, committed[1])
    assert.are.same({ topic = "offs", partition = 1 }, committed[2])
    c:close()
  end)

  it("seek moves the next poll; pause stops a partition and resume restarts it", function()
    local c = consumer()
    local got = helpers.consume(c, 10, 30)
    assert.are.equal(10, #got)
    assert.is_true(c:seek({ topic = "offs", partition = 0, offset = 7 }, 10))
    assert.are.equal("8", helpers.consume(c, 1, 30)[1].value)
    assert.is_true(c:seek({ { topic = "offs", partition = 0, offset = "beginning" } }, 10))
    assert.are.equal("1", helpers.consume(c, 1, 30)[1].value)
    local p0 = { { topic = "offs", partition = 0 } }
    assert.is_true(c:pause(p0))
    assert.are.equal(0, #helpers.drain(c, 1))
    assert.is_true(c:resume(p0))
    assert.are.equal("2", helpers.consume(c, 1, 30)[1].value)
    c:close()
  end)

  it("store_offsets marks what auto-commit commits", function()
    local c = consumer { ["enable.auto.commit"] = true, ["auto.commit.interval.ms"] = 100,
      ["enable.auto.offset.store"] = false }
    local got = helpers.consume(c, 3, 30)
    assert.is_true(c:store_offsets(got[2]))
    local p0 = { { topic = "offs", partition = 0 } }
    assert.is_truthy(helpers.wait_until(10, function()
      c:poll(0.1)
      return c:committed(p0, 10)[1].offset == got[2].offset + 1
    end))
    assert.is_true(c:store_offsets { { topic = "offs", partition = 0, offset = 3 } })
    assert.is_truthy(helpers.wait_until(10, function()
      c:poll(0.1)
      return c:committed(p0, 10)[1].offset == 3
    end))
    c:close()
  end)

  it("subscription and member_id say what this member is", function()
    local c = consumer()
    assert.are.same({ "offs" }, c:subscription())
    assert.is_truthy(helpers.wait_until(30, function()
      c:poll(0.1)
      return c:member_id()
    end))
    assert.are.equal("string", type(c:member_id()))
    c:close()
  end)

  it("name the argument that is wrong", function()
    local c = helpers.offline_consumer()
    for _, name in ipairs { "committed", "position", "pause", "resume", "offsets_for_times" } do
      local f = c[name]
      assert.matches("list of {topic=, partition=} tables expected, got no value", errmsg(function() f(c) end))
      assert.matches("list of {topic=, partition=} tables expected, got nil", errmsg(function() f(c, nil) end))
      assert.matches("list of {topic=, partition=} tables expected, got string", errmsg(function() f(c, "t") end))
      assert.matches("list of partitions is empty", errmsg(function() f(c, {}) end))
      assert.matches("entry #1 must be a table, got number", errmsg(function() f(c, { 1 }) end))
      assert.matches("entry #2: field 'topic' must be a non%-empty string, got nil",
        errmsg(function() f(c, { { topic = "t", partition = 0, timestamp = 1 }, { partition = 0 } }) end))
      assert.matches("entry #1: field 'topic' must be a non%-empty string",
        errmsg(function() f(c, { { topic = "", partition = 0 } }) end))
      assert.matches("entry #1: field 'partition' must be a non%-negative integer",
        errmsg(function() f(c, { { topic = "t", partition = -1 } }) end))
      assert.matches("entry #1: field 'partition' must be a non%-negative integer",
        errmsg(function() f(c, { { topic = "t", partition = 2 ^ 40 } }) end))
    end
    assert.matches("field 'timestamp' must be a non%-negative integer",
      errmsg(function() c:offsets_for_times { { topic = "t", partition = 0 } } end))
    assert.matches("field 'offset' must be a non%-negative integer or \"beginning\"",
      errmsg(function() c:seek { topic = "t", partition = 0, offset = "start" } end))
    assert.matches("field 'offset' must be an integer or \"beginning\" or \"end\"",
      errmsg(function() c:seek { topic = "t", partition = 0, offset = "stored" } end))
    assert.matches("field 'offset' must be an integer or \"beginning\" or \"end\"",
      errmsg(function() c:seek { topic = "t", partition = 0 } end))
    assert.matches("field 'offset' must be a non%-negative integer",
      errmsg(function() c:store_offsets { { topic = "t", partition = 0, offset = -5 } } end))
    assert.matches("field 'offset' must be a non%-negative integer",
      errmsg(function() c:commit { { topic = "t", partition = 0 } } end))
    assert.matches("bad argument #2 to 'committed' %(timeout must be",
      errmsg(function() c:committed({ { topic = "t", partition = 0 } }, -1) end))
    assert.matches("bad argument #1 to 'watermarks' %(string expected, got no value%)",
      errmsg(function() c:watermarks() end))
    assert.matches("topic name must be a non%-empty string", errmsg(function() c:watermarks("", 0) end))
    assert.matches("partition must be a non%-negative integer", errmsg(function() c:watermarks("t", -1) end))
    assert.matches("partition must be a non%-negative integer", errmsg(function() c:watermarks("t") end))
    c:close()
  end)

  it("answer Kafka's refusals with nil, err", function()
    local c = helpers.offline_consumer()
    local ok, err = c:seek({ topic = "t", partition = 0, offset = 1 }, 1)
    assert.is_nil(ok)
    assert.are.equal("table", type(err))
    ok, err = c:pause { { topic = "t", partition = 0 } }
    assert.is_nil(ok)
    assert.are.equal("_UNKNOWN_PARTITION", err.name)
    ok, err = c:watermarks("t", 0, 0.2)
    assert.is_nil(ok)
    assert.are.equal("table", type(err))
    ok, err = c:store_offsets { { topic = "t", partition = 0, offset = 1 } }
    assert.is_nil(ok)
    assert.are.equal("_INVALID_ARG", err.name) -- enable.auto.offset.store is on
    assert.is_nil(c:member_id())
    assert.are.same({}, c:subscription())
    c:close()
  end)

  it("raise on a closed consumer", function()
    local c = helpers.offline_consumer()
    c:close()
    local l = { { topic = "t", partition = 0, offset = 1 } }
    for _, call in ipairs {
      function() c:committed(l) end, function() c:position(l) end, function() c:seek(l) end,
      function() c:pause(l) end, function() c:resume(l) end, function() c:watermarks("t", 0) end,
      function() c:offsets_for_times(l) end, function() c:store_offsets(l) end,
      function() c:subscription() end, function() c:member_id() end,
    } do
      assert.matches("attempt to use a closed rdkafka.Consumer", errmsg(call))
    end
  end)
end)

describe("consumer lag", function()
  it("is what is left to read of each assigned partition, and 0 once read", function()
    helpers.quiet()
    local mc = helpers.mock_with_topics { lagging = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers }
    for i = 1, 6 do assert(p:produce("lagging", tostring(i))) end
    assert.are.equal(0, p:flush(30))
    local c = rdkafka.consumer(helpers.consumer_conf(mc.bootstrap_servers, helpers.unique("lag")))
    assert.are.same({}, c:lag())
    c:subscribe("lagging")
    assert.are.equal(6, #helpers.consume(c, 6, 30))
    local lag = c:lag(10)
    assert.are.same({ { topic = "lagging", partition = 0, position = 6, high = 6, lag = 0 } }, lag)
    for i = 1, 4 do assert(p:produce("lagging", tostring(i))) end
    assert.are.equal(0, p:flush(30))
    lag = c:lag(10)
    assert.are.equal(4, lag[1].lag)
    assert.are.equal(10, lag[1].high)
    assert.is_true(c:commit())
    assert.are.equal(6, c:lag(10)[1].committed)
    assert.matches("bad argument #1 to 'lag' %(timeout must be", errmsg(function() c:lag(-1) end))
    assert.matches("bad argument #1 to 'lag' %(timeout must be", errmsg(function() c:lag("1") end))
    assert.matches("bad argument #1 to 'lag' %(timeout must be", errmsg(function() c:lag(0 / 0) end))
    c:close()
    assert.matches("attempt to use a closed rdkafka.Consumer", errmsg(function() c:lag() end))
    p:close()
    mc:close()
  end)
end)

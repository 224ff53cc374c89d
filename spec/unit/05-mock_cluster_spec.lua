local rdkafka = require("rdkafka")
local helpers = require("helpers")
local errmsg = helpers.errmsg

describe("mock cluster", function()
  it("listens on 127.0.0.1 and creates topics", function()
    local mc = rdkafka.mock_cluster { brokers = 3 }
    assert.matches("^127%.0%.0%.1:%d+,127%.0%.0%.1:%d+,127%.0%.0%.1:%d+$", mc.bootstrap_servers)
    assert.are.equal(3, mc.brokers)
    assert.is_true(mc:create_topic("t3", 4, 3))
    assert.matches("^rdkafka.MockCluster %(127", tostring(mc))
    mc:close()
    mc:close()
    assert.are.equal("rdkafka.MockCluster (closed)", tostring(mc))
    assert.matches("attempt to use a closed rdkafka.MockCluster", errmsg(function() return mc.bootstrap_servers end))
    assert.matches("attempt to use a closed rdkafka.MockCluster", errmsg(function() mc:create_topic("x") end))
    assert.matches("attempt to use a closed rdkafka.MockCluster", errmsg(function() mc:broker_down(1) end))
  end)

  it("defaults to one broker", function()
    local mc = rdkafka.mock_cluster()
    assert.are.equal(1, mc.brokers)
    assert.is_true(mc:create_topic("t"))
    mc:close()
  end)

  it("names what is wrong with its arguments", function()
    assert.matches("table expected, got string", errmsg(function() rdkafka.mock_cluster("3") end))
    assert.matches("unknown option 'broker'", errmsg(function() rdkafka.mock_cluster { broker = 3 } end))
    assert.matches("option 'brokers' must be an integer", errmsg(function() rdkafka.mock_cluster { brokers = "3" } end))
    assert.matches("brokers must be between 1 and 32", errmsg(function() rdkafka.mock_cluster { brokers = 0 } end))
    local mc = rdkafka.mock_cluster()
    assert.matches("topic name must be a non%-empty string", errmsg(function() mc:create_topic("") end))
    assert.matches("string expected, got no value", errmsg(function() mc:create_topic() end))
    assert.matches("partitions must be between", errmsg(function() mc:create_topic("t", 0) end))
    assert.matches("replication must be between 1 and the number of brokers",
      errmsg(function() mc:create_topic("t", 1, 2) end))
    assert.matches("no broker with that id", errmsg(function() mc:broker_down(7) end))
    assert.matches("number expected, got table", errmsg(function() mc:broker_up({}) end))
    assert.matches("number expected, got no value", errmsg(function() mc:broker_down() end))
    mc:close()
  end)
end)

describe("on the mock cluster", function()
  local mc, bootstrap
  local topic = "orders"
  lazy_setup(function()
    mc = helpers.mock_with_topics { [topic] = 3, other = 1 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  it("a keyed message round-trips with headers and timestamp, and its delivery is reported", function()
    local reports = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap,
      on_delivery = function(err, msg) reports[#reports + 1] = { err = err, msg = msg } end }
    assert.is_true(p:produce { topic = "other", key = "user-1", value = "hello",
      headers = { { "trace", "abc" }, { "trace", "def" } }, timestamp = 1700000000123 })
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #reports)
    assert.is_nil(reports[1].err)
    assert.are.equal("other", reports[1].msg.topic)
    assert.are.equal(0, reports[1].msg.offset)
    assert.are.equal("hello", reports[1].msg.value)
    p:close()

    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    assert.is_true(c:subscribe { "other" })
    local got = helpers.consume(c, 1, 20)
    assert.are.equal(1, #got)
    local m = got[1]
    assert.are.same({ "other", 0, 0, "user-1", "hello", 1700000000123 },
      { m.topic, m.partition, m.offset, m.key, m.value, m.timestamp })
    assert.are.same({ { "trace", "abc" }, { "trace", "def" } }, m.headers)
    c:close()
  end)

  it("the same key lands in the same partition, in order", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 30 do
      assert.is_true(p:produce(topic, tostring(i), "key-" .. (i % 3)))
    end
    assert.are.equal(0, p:flush(10))
    p:close()
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    c:subscribe { topic }
    local got = helpers.consume(c, 30, 30)
    assert.are.equal(30, #got)
    local partition_of, last = {}, {}
    for _, m in ipairs(got) do
      partition_of[m.key] = partition_of[m.key] or m.partition
      assert.are.equal(partition_of[m.key], m.partition)
      local n = tonumber(m.value)
      assert.is_true(n > (last[m.key] or 0), "out of order for " .. m.key)
      last[m.key] = n
    end
    c:close()
  end)

  it("a consumer group resumes after its last commit", function()
    local t = helpers.unique("resume")
    assert.is_true(mc:create_topic(t, 2, 1))
    local group = helpers.unique("g")
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 10 do p:produce(t, "first-" .. i, "k" .. i) end
    assert.are.equal(0, p:flush(10))

    local c1 = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    c1:subscribe { t }
    assert.are.equal(10, #helpers.consume(c1, 10, 30))
    assert.is_true(c1:commit())
    c1:close()

    for i = 1, 4 do p:produce(t, "second-" .. i, "k" .. i) end
    assert.are.equal(0, p:flush(10))
    p:close()

    local c2 = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    c2:subscribe { t }
    local got = helpers.consume(c2, 4, 30)
    local extra = helpers.drain(c2, 1)
    assert.are.equal(4, #got)
    assert.are.equal(0, #extra)
    for _, m in ipairs(got) do assert.matches("^second%-", m.value) end
    c2:close()
  end)

  it("commit(msg) commits up to and including that message", function()
    local t = helpers.unique("partial")
    assert.is_true(mc:create_topic(t, 1, 1))
    local group = helpers.unique("g")
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 6 do p:produce(t, tostring(i)) end
    assert.are.equal(0, p:flush(10))
    p:close()

    local c1 = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    c1:subscribe { t }
    local got = helpers.consume(c1, 6, 30)
    assert.are.equal(6, #got)
    assert.is_true(c1:commit(got[3])) -- processed 1..3 only
    c1:close()

    local c2 = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    c2:subscribe { t }
    local again = helpers.consume(c2, 3, 30)
    assert.are.same({ "4", "5", "6" }, { again[1] and again[1].value, again[2] and again[2].value,
      again[3] and again[3].value })
    c2:close()
  end)

  it("a message to a partition that does not exist is reported through on_delivery", function()
    local reports = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap,
      on_delivery = function(err, msg) reports[#reports + 1] = { err = err, msg = msg } end }
    assert.is_true(p:produce { topic = topic, value = "lost?", partition = 99 })
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #reports)
    assert.are.equal("_UNKNOWN_PARTITION", reports[1].err.name)
    assert.are.equal("lost?", reports[1].msg.value)
    p:close()
  end)

  it("without on_delivery, a failed delivery goes to on_error", function()
    local errors = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap,
      on_error = function(err) errors[#errors + 1] = err end }
    assert.is_true(p:produce { topic = topic, value = "x", partition = 42 })
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #errors)
    assert.are.equal("_UNKNOWN_PARTITION", errors[1].name)
    assert.matches("delivery to topic 'orders' partition 42 failed", errors[1].message)
    p:close()
  end)
end)

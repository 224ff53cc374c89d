-- Against the real Apache Kafka broker started by `scripts/kafka up`
-- (tag: kafka). Topics are auto-created with the broker's num.partitions.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("#kafka a real broker", function()
  local bootstrap
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
  end)

  local function producer(extra)
    local conf = { ["bootstrap.servers"] = bootstrap }
    for k, v in pairs(extra or {}) do conf[k] = v end
    return rdkafka.producer(conf)
  end

  local function consumer(group)
    return rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
  end

  it("delivers keyed messages, a group reads them all, and a restarted group resumes after its commit", function()
    local topic, group = helpers.unique("orders"), helpers.unique("billing")
    local reports, failures = {}, {}
    local p = producer { on_delivery = function(err, msg)
      if err then failures[#failures + 1] = tostring(err) else reports[#reports + 1] = msg end
    end }
    local n = 200
    for i = 1, n do
      assert.is_true(p:produce { topic = topic, key = "customer-" .. (i % 7), value = "order " .. i,
        headers = { seq = tostring(i) } })
    end
    assert.are.equal(0, p:flush(30))
    assert.are.same({}, failures)
    assert.are.equal(n, #reports)
    for _, msg in ipairs(reports) do
      assert.are.equal(topic, msg.topic)
      assert.is_true(msg.offset >= 0)
    end

    local c1 = consumer(group)
    assert.is_true(c1:subscribe { topic })
    local got = helpers.consume(c1, n, 60)
    assert.are.equal(n, #got)
    local seen, partition_of = {}, {}
    for _, m in ipairs(got) do
      seen[m.value] = true
      partition_of[m.key] = partition_of[m.key] or m.partition
      assert.are.equal(partition_of[m.key], m.partition) -- same key, same partition
      assert.are.equal("seq", m.headers[1][1])
    end
    for i = 1, n do assert.is_true(seen["order " .. i], "missing order " .. i) end
    assert.is_true(c1:commit())
    assert.is_true(c1:close())

    for i = 1, 5 do assert.is_true(p:produce(topic, "late " .. i, "customer-" .. i)) end
    assert.are.equal(0, p:flush(30))
    assert.are.equal(0, p:close())

    local c2 = consumer(group)
    c2:subscribe { topic }
    local after = helpers.consume(c2, 5, 60)
    local extra = helpers.drain(c2, 2)
    assert.are.equal(5, #after)
    assert.are.equal(0, #extra)
    for _, m in ipairs(after) do assert.matches("^late ", m.value) end
    c2:close()
  end)

  it("fans out: every group sees every event", function()
    local topic = helpers.unique("user-updates")
    local p = producer()
    for i = 1, 20 do p:produce(topic, "event " .. i, "user-" .. i) end
    assert.are.equal(0, p:flush(30))
    p:close()
    for _, service in ipairs { "email", "search", "audit" } do
      local c = consumer(helpers.unique(service))
      c:subscribe { topic }
      assert.are.equal(20, #helpers.consume(c, 20, 60), service .. " missed events")
      c:close()
    end
  end)

  it("reports a message to a partition that does not exist through on_delivery", function()
    local topic = helpers.unique("small")
    local reports = {}
    local p = producer { on_delivery = function(err, msg) reports[#reports + 1] = { err = err, msg = msg } end }
    assert.is_true(p:produce(topic, "exists"))
    assert.are.equal(0, p:flush(30))
    assert.is_nil(reports[1].err)
    local ok, err = p:produce { topic = topic, value = "nowhere", partition = 99 }
    if ok then
      assert.are.equal(0, p:flush(30))
      assert.are.equal(2, #reports)
      assert.are.equal("_UNKNOWN_PARTITION", reports[2].err.name)
      assert.are.equal("nowhere", reports[2].msg.value)
    else
      -- librdkafka may refuse at once when it already knows the partition count.
      assert.are.equal("_UNKNOWN_PARTITION", err.name)
    end
    p:close()
  end)

  it("commit(msg) on the broker: a new member starts right after it", function()
    local topic, group = helpers.unique("steps"), helpers.unique("g")
    local p = producer()
    for i = 1, 10 do p:produce { topic = topic, value = tostring(i), partition = 0 } end
    assert.are.equal(0, p:flush(30))
    p:close()
    local c1 = consumer(group)
    c1:subscribe(topic)
    local got = helpers.consume(c1, 10, 60)
    assert.are.equal(10, #got)
    assert.is_true(c1:commit(got[7]))
    c1:close()
    local c2 = consumer(group)
    c2:subscribe(topic)
    local rest = helpers.consume(c2, 3, 60)
    assert.are.same({ "8", "9", "10" }, { rest[1].value, rest[2].value, rest[3].value })
    c2:close()
  end)

  it("instances of one service share the partitions of a topic", function()
    local topic, group = helpers.unique("shared"), helpers.unique("workers")
    local p = producer()
    p:produce(topic, "warm-up") -- creates the topic
    assert.are.equal(0, p:flush(30))
    local members = { a = consumer(group), b = consumer(group) }
    local got = { a = {}, b = {} }
    local function poll_all()
      for name, c in pairs(members) do
        local m = c:poll(0.1)
        if m and m.value ~= "warm-up" then got[name][#got[name] + 1] = m.value end
      end
    end
    members.a:subscribe(topic)
    members.b:subscribe(topic)
    assert.is_true(helpers.wait_until(60, function()
      poll_all()
      return #members.a:assignment() > 0 and #members.b:assignment() > 0
    end) or false, "the group never gave both members partitions")
    local owned = {}
    for name, c in pairs(members) do
      for _, tp in ipairs(c:assignment()) do
        assert.is_nil(owned[tp.partition], "partition owned twice")
        owned[tp.partition] = name
      end
    end
    -- Settled: each job now goes to exactly one member.
    for i = 1, 60 do p:produce(topic, "job " .. i, "key-" .. i) end
    assert.are.equal(0, p:flush(30))
    p:close()
    helpers.wait_until(60, function() poll_all(); return #got.a + #got.b >= 60 end)
    poll_all()
    local seen = {}
    for _, name in ipairs { "a", "b" } do
      for _, v in ipairs(got[name]) do
        assert.is_nil(seen[v], v .. " handled twice")
        seen[v] = name
      end
    end
    assert.are.equal(60, #got.a + #got.b)
    assert.is_true(#got.a > 0 and #got.b > 0, "one member got every job")
    members.a:close()
    members.b:close()
  end)
end)

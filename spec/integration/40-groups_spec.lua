-- Consumer groups on the real Apache Kafka broker (tag: kafka): members
-- sharing partitions through rebalances (eager and cooperative-sticky),
-- commit on revoke, regex subscriptions, static membership, lost
-- assignments.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("#kafka consumer groups on a real broker", function()
  local bootstrap
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
  end)

  -- n messages with values first + 1 .. first + n.
  local function produce(topic, n, first)
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = (first or 0) + 1, (first or 0) + n do
      assert(p:produce { topic = topic, key = tostring(i), value = tostring(i) })
    end
    assert.are.equal(0, p:flush(30))
    p:close()
  end

  local function conf(group, extra)
    return helpers.consumer_conf(bootstrap, group, extra)
  end

  -- A member that owns what its callbacks say, handles each message once
  -- into `seen`, and commits what it handled when partitions are revoked.
  local function member(group, seen, extra)
    local m = { owned = {}, rebalances = 0 }
    local settings = conf(group, extra)
    settings.on_assign = function(_, partitions)
      m.rebalances = m.rebalances + 1
      for _, entry in ipairs(partitions) do m.owned[entry.partition] = true end
    end
    settings.on_revoke = function(c, partitions)
      m.rebalances = m.rebalances + 1
      local ok, err = c:commit()
      assert(ok or err.name == "_NO_OFFSET", tostring(err))
      for _, entry in ipairs(partitions) do m.owned[entry.partition] = nil end
    end
    m.c = rdkafka.consumer(settings)
    function m.count()
      local n = 0
      for _ in pairs(m.owned) do n = n + 1 end
      return n
    end
    function m.step(max)
      for _ = 1, max or 1 do
        local msg, err = m.c:poll(0.02)
        assert(err == nil, tostring(err))
        if not msg then return end
        seen[msg.value] = (seen[msg.value] or 0) + 1
      end
    end
    return m
  end

  -- Steps every member (slowly, so that rebalances happen mid-stream) until
  -- check() holds.
  local function run_until(members, seconds, check)
    return helpers.wait_until(seconds, function()
      for _, m in ipairs(members) do m.step(1) end
      return check()
    end)
  end

  local function counts(members)
    local result = {}
    for i, m in ipairs(members) do result[i] = m.count() end
    return result
  end

  local function handled(seen)
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    return n
  end

  -- One member takes all 6 partitions and handles 200 messages; a second
  -- joins (3/3) and 200 more come; a third joins (2/2/2) and 200 more come.
  -- A new owner starts from what the old one committed in on_revoke, so
  -- each message is handled exactly once (without that commit the new owner
  -- would start again from the beginning).
  local function rebalance_scenario(strategy)
    local topic, group = helpers.unique("grp6"), helpers.unique("grp")
    helpers.create_topic(topic, 6)
    local seen = {}
    local extra = { ["partition.assignment.strategy"] = strategy }
    local m1, m2, m3 = member(group, seen, extra), member(group, seen, extra), member(group, seen, extra)
    produce(topic, 200, 0)
    assert(m1.c:subscribe(topic))
    assert.is_truthy(run_until({ m1 }, 60, function() return m1.count() == 6 and handled(seen) == 200 end))
    assert(m2.c:subscribe(topic))
    local two = { m1, m2 }
    assert.is_truthy(run_until(two, 60, function() return m1.count() == 3 and m2.count() == 3 end),
      "expected 3/3, got " .. table.concat(counts(two), "/"))
    produce(topic, 200, 200)
    assert.is_truthy(run_until(two, 60, function() return handled(seen) == 400 end))
    assert(m3.c:subscribe(topic))
    local three = { m1, m2, m3 }
    assert.is_truthy(run_until(three, 60, function()
      return m1.count() == 2 and m2.count() == 2 and m3.count() == 2
    end), "expected 2/2/2, got " .. table.concat(counts(three), "/"))
    -- What assignment() says agrees with the callbacks.
    for _, m in ipairs(three) do
      local assigned = m.c:assignment()
      assert.are.equal(m.count(), #assigned)
      for _, entry in ipairs(assigned) do assert.is_true(m.owned[entry.partition]) end
    end
    produce(topic, 200, 400)
    assert.is_truthy(run_until(three, 60, function() return handled(seen) == 600 end))
    run_until(three, 1, function() return false end) -- anything handled twice shows up now
    for i = 1, 600 do
      assert.are.equal(1, seen[tostring(i)], "message " .. i .. " handled " .. tostring(seen[tostring(i)]) .. " times")
    end
    local protocol = m1.c:rebalance_protocol()
    for _, m in ipairs(three) do assert.is_true(m.c:close()) end
    return protocol
  end

  it("eager: two members split 6 partitions 3/3, a third makes it 2/2/2, nothing handled twice", function()
    assert.are.equal("EAGER", rebalance_scenario("range"))
  end)

  it("cooperative-sticky: the same, with incremental assignments", function()
    assert.are.equal("COOPERATIVE", rebalance_scenario("cooperative-sticky"))
  end)

  it("manual assignment, consume batches, commit_async with on_commit and store_offsets", function()
    local topic = helpers.unique("manual")
    helpers.create_topic(topic, 2)
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 40 do assert(p:produce { topic = topic, partition = (i - 1) % 2, value = tostring(i) }) end
    assert.are.equal(0, p:flush(30))
    p:close()
    local outcomes = {}
    local group = helpers.unique("manual")
    local c = rdkafka.consumer(conf(group, { on_commit = function(err, partitions)
      outcomes[#outcomes + 1] = { err = err, partitions = partitions }
    end }))
    -- Partition 0 from offset 15, partition 1 added later from the beginning.
    assert.is_true(c:assign { { topic = topic, partition = 0, offset = 15 } })
    local got = {}
    helpers.wait_until(30, function()
      for _, msg in ipairs(c:consume(100, 0.5)) do got[#got + 1] = msg end
      return #got >= 5
    end)
    assert.are.equal(5, #got)
    assert.are.equal(15, got[1].offset)
    assert.is_true(c:incremental_assign { { topic = topic, partition = 1, offset = "beginning" } })
    helpers.wait_until(30, function()
      for _, msg in ipairs(c:consume(100, 0.5)) do got[#got + 1] = msg end
      return #got >= 25
    end)
    assert.are.equal(25, #got)
    assert.is_true(c:commit_async())
    assert.is_truthy(helpers.wait_until(30, function() c:poll(0.1) return #outcomes > 0 end))
    assert.is_nil(outcomes[1].err)
    local committed = c:committed({ { topic = topic, partition = 0 }, { topic = topic, partition = 1 } }, 10)
    assert.are.same({ 20, 20 }, { committed[1].offset, committed[2].offset })
    assert.is_true(c:unassign())
    assert.is_true(c:close())
    -- store_offsets with auto-commit: only what was stored is committed.
    local a = rdkafka.consumer(conf(group, { ["enable.auto.commit"] = true, ["auto.commit.interval.ms"] = 200,
      ["enable.auto.offset.store"] = false }))
    assert.is_true(a:assign { { topic = topic, partition = 0, offset = 10 } })
    local first = helpers.consume(a, 3, 30)
    assert.are.equal(10, first[1].offset)
    assert.is_true(a:store_offsets(first[2]))
    assert.is_truthy(helpers.wait_until(30, function()
      a:poll(0.1)
      return a:committed({ { topic = topic, partition = 0 } }, 10)[1].offset == 12
    end))
    assert.is_true(a:close())
  end)

  it("a regex subscription picks up a topic created after it", function()
    local prefix = helpers.unique("rx"):gsub("%-", "_")
    local c = rdkafka.consumer(conf(helpers.unique("rx"), { ["topic.metadata.refresh.interval.ms"] = 1000 }))
    local pattern = "^" .. prefix .. "\\..*"
    assert(c:subscribe { pattern })
    assert.are.same({ pattern }, c:subscription())
    assert.are.equal(0, #helpers.drain(c, 1))
    produce(prefix .. ".later", 5)
    local got = helpers.consume(c, 5, 60)
    assert.are.equal(5, #got)
    assert.are.equal(prefix .. ".later", got[1].topic)
    assert.is_true(c:close())
  end)

  it("a restarted static member gets its partitions back without a rebalance", function()
    local topic, group = helpers.unique("static"), helpers.unique("static")
    helpers.create_topic(topic, 6)
    local seen = {}
    local function static(id)
      return member(group, seen, { ["group.instance.id"] = id, ["session.timeout.ms"] = 30000 })
    end
    local a, b = static("a"), static("b")
    assert(a.c:subscribe(topic))
    assert(b.c:subscribe(topic))
    assert.is_truthy(run_until({ a, b }, 60, function() return a.count() == 3 and b.count() == 3 end))
    local before = {}
    for p in pairs(a.owned) do before[#before + 1] = p end
    table.sort(before)
    local b_rebalances = b.rebalances
    assert.is_true(a.c:close())
    local again = static("a")
    assert(again.c:subscribe(topic))
    assert.is_truthy(run_until({ again, b }, 60, function() return again.count() == 3 end))
    local after = {}
    for p in pairs(again.owned) do after[#after + 1] = p end
    table.sort(after)
    assert.are.same(before, after)
    -- The other member saw nothing happen, a while after too.
    run_until({ again, b }, 3, function() return false end)
    assert.are.equal(b_rebalances, b.rebalances)
    assert.are.equal(3, b.count())
    assert.is_true(again.c:close())
    assert.is_true(b.c:close())
  end)

  it("a member that stops polling past max.poll.interval.ms gets on_lost, not on_revoke", function()
    local topic = helpers.unique("lost")
    produce(topic, 3)
    local lost, revoked
    local c = rdkafka.consumer(conf(helpers.unique("lost"), {
      ["session.timeout.ms"] = 6000, ["max.poll.interval.ms"] = 6000,
      on_lost = function(self, partitions) lost = { partitions, self:assignment_lost() } end,
      on_revoke = function() revoked = true end,
    }))
    assert(c:subscribe(topic))
    assert.are.equal(3, #helpers.consume(c, 3, 60))
    os.execute("sleep 8")
    assert.is_truthy(helpers.wait_until(30, function()
      local _, err = c:poll(0.2)
      assert(err == nil or err.name == "_MAX_POLL_EXCEEDED", tostring(err))
      return lost
    end))
    assert.are.equal(3, #lost[1])
    assert.is_true(lost[2])
    assert.is_nil(revoked)
    assert.is_true(c:close())
  end)

  -- librdkafka 2.0.2 applied a subscribe that waited for a rebalance after
  -- the close had begun, and aborted the process (a child: an abort here
  -- would end the run).
  for _, mode in ipairs { "close", "gc" } do
    it("a member subscribed again during a rebalance, then " .. (mode == "gc" and "collected" or "closed") ..
       ", does not abort the process", function()
      local first, second = helpers.unique("resub"), helpers.unique("resub")
      helpers.create_topic(first, 2)
      helpers.create_topic(second, 2)
      local pipe = assert(io.popen(("%s spec/support/resubscribe_close.lua %s '%s' %s %s 2>&1"):format(
        helpers.lua_command(), mode, bootstrap, first, second)))
      local out = pipe:read("*a")
      local ok, how, code = pipe:close()
      assert.is_true(ok == true or ok == 0, ("child ended by %s %s:\n%s"):format(tostring(how), tostring(code), out))
      if mode == "close" then assert.matches("close b\ttrue", out) end
      assert.matches("close a\ttrue", out)
      assert.matches("\ndone\n", out)
    end)
  end
end)

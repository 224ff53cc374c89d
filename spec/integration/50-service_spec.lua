-- rdkafka.service on the real Apache Kafka broker (tag: kafka): fan-out to
-- three services, a failing service beside healthy ones, a poison event, a
-- service killed with -9 and restarted, per-key order, and two instances
-- sharing a service's partitions.
local rdkafka = require("rdkafka")
local service = require("rdkafka.service")
local helpers = require("helpers")

describe("#kafka services on a real broker", function()
  local brokers
  lazy_setup(function()
    brokers = helpers.kafka_bootstrap()
    assert(brokers, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
  end)

  local function new_service(name, extra)
    local opts = { name = name, brokers = brokers, backoff = 0.05, log_interval = 0, log = function() end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return service.new(opts)
  end

  -- n events {seq=} with keys user-1..user-keys.
  local function publish(topic, n, keys, first)
    local pub = service.publisher { brokers = brokers }
    for i = (first or 0) + 1, (first or 0) + n do
      assert(pub:publish(topic, { seq = i }, { key = "user-" .. (i % (keys or 7)) }))
    end
    assert.are.equal(0, pub:flush(30))
    pub:close()
  end

  local function step_until(services, seconds, check)
    return helpers.wait_until(seconds, function()
      for _, svc in ipairs(services) do svc:step(0.05) end
      return check()
    end)
  end

  local function count(t)
    local n = 0
    for _ in pairs(t) do n = n + 1 end
    return n
  end

  it("three services each receive every event; a failing one dead-letters while the others finish", function()
    local topic = helpers.unique("fanout")
    helpers.create_topic(topic, 6)
    publish(topic, 300)
    local seen = { email = {}, audit = {}, search = {} }
    local services = {}
    for name in pairs(seen) do
      local svc = new_service(helpers.unique(name))
      svc:on(topic, function(event) seen[name][event.seq] = (seen[name][event.seq] or 0) + 1 end)
      services[#services + 1] = svc
    end
    -- A retry waits for the next fetch: with nothing else to fetch that is
    -- fetch.wait.max.ms (500 ms by default).
    local broken = new_service(helpers.unique("broken"), { retries = 1, ["fetch.wait.max.ms"] = 50 })
    broken:on(topic, function() error("always fails") end)
    services[#services + 1] = broken
    assert.is_truthy(step_until(services, 120, function()
      return count(seen.email) == 300 and count(seen.audit) == 300 and count(seen.search) == 300
    end))
    -- The healthy ones finished while the broken one was still working through its retries.
    assert.is_true(broken.counters.dead_lettered < 300)
    assert.is_truthy(step_until({ broken }, 120, function() return broken.counters.dead_lettered == 300 end))
    for name, got in pairs(seen) do
      for i = 1, 300 do
        assert.are.equal(1, got[i], name .. " handled event " .. i .. " " .. tostring(got[i]) .. " times")
      end
    end
    local dlq = rdkafka.consumer(helpers.consumer_conf(brokers, helpers.unique("dlq")))
    assert(dlq:subscribe(topic .. "." .. broken.name .. ".dlq"))
    assert.are.equal(300, #helpers.consume(dlq, 300, 60))
    dlq:close()
    for _, svc in ipairs(services) do assert.is_true(svc:close()) end
  end)

  it("a poison event is dead-lettered and its partition keeps moving", function()
    local topic = helpers.unique("poison")
    helpers.create_topic(topic, 1)
    local p = rdkafka.producer { ["bootstrap.servers"] = brokers }
    assert(p:produce { topic = topic, value = '{"seq": 1}' })
    assert(p:produce { topic = topic, value = "\0\1 not json" })
    assert(p:produce { topic = topic, value = '{"seq": 3}' })
    assert.are.equal(0, p:flush(30))
    p:close()
    local handled = {}
    local svc = new_service(helpers.unique("poison"))
    svc:on(topic, function(event) handled[#handled + 1] = event.seq end)
    assert.is_truthy(step_until({ svc }, 60, function() return #handled == 2 end))
    assert.are.same({ 1, 3 }, handled)
    local m = svc:metrics()
    assert.are.same({ 1, 1 }, { m.decode_errors, m.dead_lettered })
    assert.is_true(svc:close())
  end)

  it("a service killed with -9 and restarted loses nothing; duplicates are the uncommitted window", function()
    local topic, group = helpers.unique("kill"), helpers.unique("kill")
    helpers.create_topic(topic, 3)
    publish(topic, 3000, 11)
    local out = os.tmpname()
    local pidfile = os.tmpname()
    local function start()
      assert(os.execute(("%s spec/support/service_child.lua '%s' '%s' '%s' '%s' >>'%s.log' 2>&1 & echo $! >'%s'")
        :format(helpers.lua_command(), brokers, topic, group, out, out, pidfile)))
      local f = assert(io.open(pidfile))
      local pid = f:read("*l")
      f:close()
      return pid
    end
    local function lines()
      local result = {}
      for line in io.lines(out) do
        local partition, offset, key, seq = line:match("^(%d+) (%d+) (%S+) (%d+)$")
        if partition then
          result[#result + 1] = { partition = tonumber(partition), offset = tonumber(offset), key = key,
            seq = tonumber(seq) }
        end
      end
      return result
    end
    local pid = start()
    assert.is_truthy(helpers.wait_until(60, function() return #lines() >= 1000 end), "the service handled nothing")
    os.execute("kill -9 " .. pid)
    os.execute("sleep 0.5")
    local first_run = lines()
    -- What the group had committed when the process died.
    local probe = rdkafka.consumer(helpers.consumer_conf(brokers, group))
    local committed = probe:committed({ { topic = topic, partition = 0 }, { topic = topic, partition = 1 },
      { topic = topic, partition = 2 } }, 10)
    probe:close()
    local uncommitted = 0
    for _, l in ipairs(first_run) do
      if l.offset >= (committed[l.partition + 1].offset or 0) then uncommitted = uncommitted + 1 end
    end
    pid = start()
    -- Done when the group has committed the end of every partition: the
    -- second run handled all it had to, the uncommitted window included.
    local all_seen = helpers.wait_until(120, function()
      local c = rdkafka.consumer(helpers.consumer_conf(brokers, group))
      local done = c:committed({ { topic = topic, partition = 0 }, { topic = topic, partition = 1 },
        { topic = topic, partition = 2 } }, 10)
      local at_end = done ~= nil
      for p = 0, 2 do
        local _, high = c:watermarks(topic, p, 10)
        at_end = at_end and high ~= nil and done[p + 1].offset == high
      end
      c:close()
      if not at_end then os.execute("sleep 0.5") end
      return at_end
    end)
    os.execute("kill -TERM " .. pid)
    helpers.wait_until(30, function() return not os.execute("kill -0 " .. pid .. " 2>/dev/null") end)
    assert.is_truthy(all_seen, "events are missing after the restart")
    local times, duplicates = {}, 0
    for _, l in ipairs(lines()) do
      times[l.seq] = (times[l.seq] or 0) + 1
      if times[l.seq] > 1 then duplicates = duplicates + 1 end
    end
    assert.are.equal(3000, count(times))
    assert.are.equal(uncommitted, duplicates)
    -- Per key, each run handled its events in order.
    local all = lines()
    for run, range in ipairs { { 1, #first_run }, { #first_run + 1, #all } } do
      local last = {}
      for k = range[1], range[2] do
        local l = all[k]
        assert.is_true(l.seq > (last[l.key] or 0), ("run %d: %s out of order"):format(run, l.key))
        last[l.key] = l.seq
      end
    end
    os.remove(out)
    os.remove(out .. ".log")
    os.remove(pidfile)
  end)

  it("keeps per-key order; a second instance joining shares the partitions, every event handled once", function()
    local topic, name = helpers.unique("pair"), helpers.unique("pair")
    helpers.create_topic(topic, 6)
    publish(topic, 600, 13)
    local handled, last, order_ok = {}, {}, true
    local function handler(event, ctx)
      handled[event.seq] = (handled[event.seq] or 0) + 1
      if last[ctx.key] and event.seq <= last[ctx.key] then order_ok = false end
      last[ctx.key] = event.seq
    end
    local a, b = new_service(name, { batch = 5 }), new_service(name, { batch = 5 })
    a:on(topic, handler)
    b:on(topic, handler)
    assert.is_truthy(step_until({ a }, 60, function() return count(handled) >= 100 end))
    assert.is_truthy(step_until({ a, b }, 60, function() return count(a.owned) == 3 and count(b.owned) == 3 end),
      "the second instance did not get half of the partitions")
    publish(topic, 600, 13, 600)
    assert.is_truthy(step_until({ a, b }, 120, function() return count(handled) == 1200 end))
    step_until({ a, b }, 1, function() return false end)
    for i = 1, 1200 do
      assert.are.equal(1, handled[i], "event " .. i .. " handled " .. tostring(handled[i]) .. " times")
    end
    assert.is_true(order_ok, "an event came before an earlier one of its key")
    assert.is_true(a:metrics().handled > 0 and b:metrics().handled > 0)
    assert.is_true(a:close())
    assert.is_true(b:close())
  end)
end)

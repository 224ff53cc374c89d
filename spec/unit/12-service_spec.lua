-- rdkafka.service on the mock cluster: handlers and their context, retries
-- that park a partition while the others move, the dead-letter topic,
-- poison events, per-key order, restart from the committed offset, metrics,
-- stopping; and bad input. The same scenarios across processes and
-- services run against the real broker in spec/integration/50-service_spec.lua.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local service = require("rdkafka.service")
local helpers = require("helpers")
local errmsg = helpers.errmsg

describe("rdkafka.service", function()
  local mc, brokers
  lazy_setup(function()
    helpers.quiet()
    mc = rdkafka.mock_cluster { brokers = 1 }
    brokers = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  local lines
  local function log(level, line) lines[#lines + 1] = level .. " " .. line end
  before_each(function() lines = {} end)

  local function topic(partitions, name)
    name = name or helpers.unique("svc")
    assert(mc:create_topic(name, partitions or 3, 1))
    return name
  end

  local function new_service(extra)
    local opts = { name = helpers.unique("svc"), brokers = brokers, backoff = 0.05, log = log,
      log_interval = 0, ["session.timeout.ms"] = 6000, ["heartbeat.interval.ms"] = 500 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return service.new(opts)
  end

  local function publish(t, events, opts)
    local pub = service.publisher { brokers = brokers, name = "spec" }
    for _, e in ipairs(events) do assert(pub:publish(t, e, opts and opts(e))) end
    assert.are.equal(0, pub:flush(10))
    pub:close()
  end

  local function run_until(svc, seconds, check)
    return helpers.wait_until(seconds, function()
      svc:step(0.1)
      return check()
    end)
  end

  -- Every message of a topic, read by a plain consumer.
  local function read_all(t, n)
    local c = rdkafka.consumer(helpers.consumer_conf(brokers, helpers.unique("reader")))
    assert(c:subscribe(t))
    local got = helpers.consume(c, n, 30)
    c:close()
    return got
  end

  local function header(msg, name)
    for _, h in ipairs(msg.headers or {}) do if h[1] == name then return h[2] end end
  end

  it("calls the handler with the decoded event and its context", function()
    local t = topic(1)
    publish(t, { { id = 1, name = "ada" } }, function() return { key = "user-1", headers = { { "trace", "abc" } } } end)
    local got
    local svc = new_service()
    svc:on(t, function(event, ctx) got = { event, ctx } end)
    assert.is_truthy(run_until(svc, 30, function() return got end))
    local event, ctx = got[1], got[2]
    assert.are.same({ id = 1, name = "ada" }, event)
    assert.are.equal(t, ctx.topic)
    assert.are.equal(0, ctx.partition)
    assert.are.equal(0, ctx.offset)
    assert.are.equal("user-1", ctx.key)
    assert.are.equal(1, ctx.attempt)
    assert.are.equal(svc.name, ctx.service)
    assert.is_number(ctx.timestamp)
    local names = {}
    for _, h in ipairs(ctx.headers) do names[h[1]] = h[2] end
    assert.are.equal(t, names["event-type"])
    assert.are.equal("spec", names["producer"])
    assert.are.equal("application/json", names["content-type"])
    assert.are.equal("abc", names["trace"])
    assert.is_truthy(names["event-id"])
    assert.is_truthy(tonumber(names["event-time"]))
    assert.is_true(svc:close())
  end)

  it("retries a failing handler with backoff while its partition is parked and the others move", function()
    local t = topic(2)
    local pub = service.publisher { brokers = brokers }
    assert(pub:publish(t, { n = "flaky" }, { partition = 0 }))
    for i = 1, 5 do assert(pub:publish(t, { n = i }, { partition = 1 })) end
    assert(pub:publish(t, { n = "after" }, { partition = 0 }))
    assert.are.equal(0, pub:flush(10))
    pub:close()
    local order, attempts = {}, {}
    local svc = new_service { retries = 3, backoff = 0.3 }
    svc:on(t, function(event, ctx)
      if event.n == "flaky" then
        attempts[#attempts + 1] = ctx.attempt
        if ctx.attempt < 3 then error("not yet") end
      end
      order[#order + 1] = tostring(event.n)
    end)
    assert.is_truthy(run_until(svc, 30, function() return #order == 7 end))
    assert.are.same({ 1, 2, 3 }, attempts)
    -- Partition 1 was not held up by partition 0's retries...
    local pos = {}
    for i, n in ipairs(order) do pos[n] = i end
    assert.is_true(pos["5"] < pos["flaky"])
    -- ...and partition 0 kept its order.
    assert.is_true(pos["flaky"] < pos["after"])
    local m = svc:metrics()
    assert.are.same({ 6, 2, 2, 0 }, { m.handled - 1, m.failed, m.retried, m.dead_lettered })
    assert.matches("handler failed on " .. t .. "/0@0 (attempt 1 of 4, retry in 0.30s): ", lines[1], 1, true)
    assert.matches("not yet", lines[1])
    assert.is_true(svc:close())
  end)

  it("dead-letters an event after the last attempt, with headers that say why, and moves on", function()
    local t = topic(1)
    local dlq = topic(1, t .. ".failing.dlq")
    publish(t, { { n = 1 }, { n = 2 }, { n = 3 } }, function(e) return { key = "k" .. e.n } end)
    local handled = {}
    local svc = new_service { name = "failing", retries = 2 }
    svc:on(t, function(event)
      if event.n == 2 then error("cannot handle 2") end
      handled[#handled + 1] = event.n
    end)
    assert.is_truthy(run_until(svc, 30, function() return #handled == 2 end))
    assert.are.same({ 1, 3 }, handled)
    local dead = read_all(dlq, 1)
    assert.are.equal(1, #dead)
    assert.are.equal("k2", dead[1].key)
    assert.are.same({ n = 2 }, require("cjson").decode(dead[1].value))
    assert.matches("cannot handle 2", header(dead[1], "dlq-error"))
    assert.are.equal(t, header(dead[1], "dlq-topic"))
    assert.are.equal("0", header(dead[1], "dlq-partition"))
    assert.are.equal("1", header(dead[1], "dlq-offset"))
    assert.are.equal("3", header(dead[1], "dlq-attempts"))
    assert.are.equal(t, header(dead[1], "event-type")) -- the original headers come along
    assert.are.equal(1, svc:metrics().dead_lettered)
    assert.is_true(svc:close())
  end)

  it("dead-letters a poison event at once and its partition keeps moving", function()
    local t = topic(1)
    local dlq = topic(1, "poison-dlq-" .. t)
    local p = rdkafka.producer { ["bootstrap.servers"] = brokers }
    assert(p:produce { topic = t, value = "{ not json" })
    assert(p:produce { topic = t, value = '{"ok": true}' })
    assert.are.equal(0, p:flush(10))
    p:close()
    local handled = 0
    local svc = new_service { dlq = dlq }
    svc:on(t, function(event) assert(event.ok) handled = handled + 1 end)
    assert.is_truthy(run_until(svc, 30, function() return handled == 1 end))
    local dead = read_all(dlq, 1)
    assert.are.equal("{ not json", dead[1].value)
    assert.matches("^cannot decode: not JSON", header(dead[1], "dlq-error"))
    assert.are.equal("1", header(dead[1], "dlq-attempts"))
    local m = svc:metrics()
    assert.are.same({ 1, 1, 1 }, { m.handled, m.decode_errors, m.dead_lettered })
    assert.is_true(svc:close())
  end)

  it("with dlq = false stops the partition at an event it cannot handle; the others go on", function()
    local t = topic(2)
    local pub = service.publisher { brokers = brokers }
    assert(pub:publish(t, { n = "bad" }, { partition = 0 }))
    assert(pub:publish(t, { n = "next" }, { partition = 0 }))
    assert(pub:publish(t, { n = "other" }, { partition = 1 }))
    assert.are.equal(0, pub:flush(10))
    pub:close()
    local handled = {}
    local svc = new_service { dlq = false, retries = 0 }
    svc:on(t, function(event)
      if event.n == "bad" then error("stop here") end
      handled[#handled + 1] = event.n
    end)
    assert.is_truthy(run_until(svc, 30, function()
      return #handled == 1 and table.concat(lines, "\n"):find("stopped at offset", 1, true)
    end))
    run_until(svc, 1, function() return false end) -- "next" stays behind the stop
    assert.are.same({ "other" }, handled)
    assert.matches("partition " .. t .. "/0 stopped at offset 0 (dlq = false): ", table.concat(lines, "\n"), 1, true)
    assert.is_true(svc:close())
  end)

  it("a partition parked for a retry runs again after a rebalance", function()
    local t, other = topic(2), topic(1)
    local pub = service.publisher { brokers = brokers }
    assert(pub:publish(t, { n = "flaky" }, { partition = 0 }))
    assert(pub:publish(t, { n = "after" }, { partition = 0 }))
    assert.are.equal(0, pub:flush(10))
    pub:close()
    local calls = {}
    local svc = new_service { backoff = 3, ["heartbeat.interval.ms"] = 300 }
    svc:on(t, function(event, ctx)
      calls[#calls + 1] = event.n .. "#" .. ctx.attempt
      if event.n == "flaky" and #calls == 1 then error("fail once") end
    end)
    assert.is_truthy(run_until(svc, 30, function() return #calls == 1 end))
    -- Another member joins the group while the partition is parked.
    local member = rdkafka.consumer(helpers.consumer_conf(brokers, svc.name, { ["heartbeat.interval.ms"] = 300 }))
    assert(member:subscribe(other))
    local before = svc.rebalances
    assert.is_truthy(helpers.wait_until(30, function()
      svc:step(0.05)
      member:poll(0.05)
      return svc.rebalances >= before + 2
    end))
    assert.is_truthy(helpers.wait_until(30, function()
      svc:step(0.05)
      member:poll(0.05)
      return calls[#calls] == "after#1"
    end), "the partition stayed parked: " .. table.concat(calls, " "))
    -- The member leaves: once that rebalance is over, this one closes cleanly.
    before = svc.rebalances
    assert.is_true(member:close())
    assert.is_truthy(run_until(svc, 30, function() return svc.rebalances >= before + 2 end))
    assert.is_true(svc:close())
  end)

  it("stop() ends the batch after the current event; the rest is handled next time", function()
    local t = topic(1)
    local events = {}
    for i = 1, 20 do events[i] = { n = i } end
    publish(t, events)
    local name = helpers.unique("stop")
    local handled = {}
    local svc = new_service { name = name }
    svc:on(t, function(event) handled[#handled + 1] = event.n if event.n == 1 then svc:stop() end end)
    assert.is_true(svc:run())
    assert.are.same({ 1 }, handled)
    svc = new_service { name = name }
    svc:on(t, function(event) handled[#handled + 1] = event.n end)
    assert.is_truthy(run_until(svc, 30, function() return #handled == 20 end))
    assert.is_true(svc:close())
    for i = 1, 20 do assert.are.equal(i, handled[i]) end
  end)

  it("a dlq function that fails parks the partition, logs why, and never calls the handler again", function()
    local t = topic(1)
    publish(t, { { n = 1 } })
    local calls = 0
    local svc = new_service { retries = 0, max_backoff = 0.1, dlq = function() return nil end }
    svc:on(t, function() calls = calls + 1 error("no") end)
    assert.is_truthy(run_until(svc, 30, function() return calls == 1 end))
    run_until(svc, 1, function() return false end) -- the dead letter is tried again meanwhile
    assert.are.equal(1, calls)
    assert.matches("cannot dead%-letter .*the dlq function returned nil, not a topic name", table.concat(lines, "\n"))
    assert.is_true(svc:close())
  end)

  it("handles the events of one key in order, also across a retry", function()
    local t = topic(3)
    local events = {}
    for i = 1, 60 do events[i] = { user = "u" .. (i % 5), seq = i } end
    publish(t, events, function(e) return { key = e.user } end)
    local last, count, failed_once = {}, 0, false
    local svc = new_service()
    svc:on(t, function(event)
      if event.seq == 30 and not failed_once then failed_once = true error("once") end
      assert(event.seq > (last[event.user] or 0), "out of order for " .. event.user)
      last[event.user] = event.seq
      count = count + 1
    end)
    assert.is_truthy(run_until(svc, 30, function() return count == 60 end))
    assert.are.equal(0, svc:metrics().failed - 1)
    assert.is_true(svc:close())
  end)

  it("a restarted service resumes from what it committed", function()
    local t = topic(2)
    local name = helpers.unique("restart")
    local handled = {}
    local function start()
      local svc = new_service { name = name }
      svc:on(t, function(event) handled[#handled + 1] = event.n end)
      return svc
    end
    publish(t, { { n = 1 }, { n = 2 }, { n = 3 } })
    local svc = start()
    assert.is_truthy(run_until(svc, 30, function() return #handled == 3 end))
    assert.is_true(svc:close())
    publish(t, { { n = 4 }, { n = 5 } }) -- while it is down
    svc = start()
    assert.is_truthy(run_until(svc, 30, function() return #handled == 5 end))
    run_until(svc, 1, function() return false end)
    table.sort(handled)
    assert.are.same({ 1, 2, 3, 4, 5 }, handled)
    assert.is_true(svc:close())
  end)

  it("ctx:publish emits events of the service's own, flushed when it stops", function()
    local t, out = topic(1), topic(1)
    publish(t, { { n = 1 } })
    local svc = new_service()
    local done = false
    svc:on(t, function(event, ctx)
      assert(ctx:publish(out, { seen = event.n }, { key = "k", type = "seen" }))
      done = true
    end)
    assert.is_truthy(run_until(svc, 30, function() return done end))
    assert.is_true(svc:close())
    local got = read_all(out, 1)
    assert.are.equal("k", got[1].key)
    assert.are.equal("seen", header(got[1], "event-type"))
    assert.are.equal(svc.name, header(got[1], "producer"))
  end)

  it("in an event loop, commits wait for what handlers published, never the step", function()
    local t, out = topic(1), topic(1)
    local events = {}
    for i = 1, 40 do events[i] = { n = i } end
    publish(t, events)
    local svc = new_service { event_loop = true, commit_interval = 0.05, batch = 5 }
    local handled, put_off = 0, false
    svc:on(t, function(event, ctx)
      assert(ctx:publish(out, { seen = event.n }))
      handled = handled + 1
    end)
    local committed
    assert.is_truthy(run_until(svc, 30, function()
      put_off = put_off or svc.waiting_commit ~= nil -- a commit waited for deliveries
      committed = handled == 40 and svc.consumer:committed({ { topic = t, partition = 0 } }, 5)
      return committed and committed[1].offset == 40
    end), "the handled events were never committed")
    assert.is_true(put_off)
    -- Committed only once what they published was delivered: all of it is.
    assert.are.equal(0, svc.pub:pending())
    assert.are.equal(40, svc.pub.counters.delivered)
    assert.is_true(svc:close())
    assert.are.equal(40, #read_all(out, 40))
  end)

  it("a publisher's mark is reported once every event before it has its report", function()
    local t = topic(2)
    local pub = service.publisher { brokers = brokers }
    assert.is_true(pub:reported(pub:mark())) -- nothing published
    for i = 1, 20 do assert(pub:publish(t, { n = i })) end
    local mark = pub:mark()
    assert.is_false(pub:reported(mark))
    assert.are.equal(0, pub:flush(10))
    assert.is_true(pub:reported(mark))
    pub:close()
  end)

  it("a publisher settles only its own events, whatever opaque a message produced on .producer has", function()
    local t = topic(1)
    local pub = service.publisher { brokers = brokers, ["linger.ms"] = 200 }
    assert(pub:publish(t, { n = 1 }))
    local mark = pub:mark()
    -- Reports of other messages, as they come to the publisher's on_delivery
    -- (lingering 200 ms, the event's own report cannot have come yet).
    for _, opaque in ipairs { mark, tostring(mark), false } do pub:_settle { topic = t, opaque = opaque } end
    assert.is_false(pub:reported(mark))
    assert(pub.producer:produce { topic = t, value = "direct", opaque = mark })
    assert.are.equal(0, pub:flush(10))
    assert.is_true(pub:reported(mark))
    assert.are.equal(2, pub.counters.delivered)
    assert.are.same({}, pub.unsettled)
    pub:close()
  end)

  it("a pattern routes every matching topic to its handler; raw bytes on request", function()
    local prefix = helpers.unique("pat"):gsub("%-", "_")
    local a, b = topic(1, prefix .. ".a"), topic(1, prefix .. ".b")
    local p = rdkafka.producer { ["bootstrap.servers"] = brokers }
    assert(p:produce { topic = a, value = "bytes-a" })
    assert(p:produce { topic = b, value = "bytes-b" })
    assert.are.equal(0, p:flush(10))
    p:close()
    local seen = {}
    local svc = new_service { codec = "raw", ["topic.metadata.refresh.interval.ms"] = 500 }
    svc:on("^" .. prefix .. "\\..*", function(event, ctx) seen[ctx.topic] = event end)
    assert.is_truthy(run_until(svc, 30, function() return seen[a] and seen[b] end))
    assert.are.same({ [a] = "bytes-a", [b] = "bytes-b" }, seen)
    assert.is_true(svc:close())
  end)

  it("metrics and their Prometheus text", function()
    local t = topic(1)
    publish(t, { { n = 1 }, { n = 2 } })
    local svc = new_service { name = 'we"ird' }
    local n = 0
    svc:on(t, function() n = n + 1 end)
    assert.is_truthy(run_until(svc, 30, function() return n == 2 end))
    local m = svc:metrics()
    assert.are.equal(2, m.handled)
    assert.are.same({ { topic = t, partition = 0, last_offset = 1, lag = 0 } }, m.partitions)
    local text = service.metrics_text(svc)
    assert.matches('rdkafka_service_handled_total{service="we\\"ird"} 2\n', text, 1, true)
    assert.matches("# TYPE rdkafka_service_handled_total counter", text, 1, true)
    assert.matches('rdkafka_service_partition_last_offset{service="we\\"ird",topic="' .. t .. '",partition="0"} 1',
      text, 1, true)
    assert.are.equal(text, service.metrics_text { m })
    assert.is_true(svc:close())
  end)

  it("logs one line per interval and warns when a partition's lag keeps growing", function()
    local t = topic(1)
    publish(t, { { n = 0 } })
    local svc = new_service { log_interval = 0.01, batch = 2 }
    local handled = 0
    svc:on(t, function() handled = handled + 1 end)
    assert.is_truthy(run_until(svc, 30, function() return handled == 1 end))
    local pub = service.publisher { brokers = brokers }
    -- Ten events in, at most two out per step: the lag grows.
    helpers.wait_until(30, function()
      for i = 1, 10 do assert(pub:publish(t, { n = i })) end
      assert.are.equal(0, pub:flush(10))
      svc:step(0)
      return table.concat(lines, "\n"):find("keeps growing", 1, true)
    end)
    pub:close()
    local all = table.concat(lines, "\n")
    local name = svc.name:gsub("%-", "%%-")
    assert.matches("info service=" .. name .. " interval handled=%d+ failed=0 retried=0 "
      .. "dead_lettered=0 decode_errors=0 lag=%d+", all)
    assert.matches("lag of " .. t:gsub("%-", "%%-") .. "/0 keeps growing %(%d+, %d+, %d+, %d+%): consuming slower "
      .. "than producing", all)
    assert.is_true(svc:close())
  end)

  it("run stops on stop() and on SIGTERM, committing what was handled", function()
    local t = topic(1)
    publish(t, { { n = 1 }, { n = 2 } })
    local name = helpers.unique("run")
    local svc = new_service { name = name }
    local n = 0
    svc:on(t, function() n = n + 1 if n == 2 then svc:stop() end end)
    assert.is_true(svc:run())
    assert.are.equal(2, n)
    local c = rdkafka.consumer(helpers.consumer_conf(brokers, name))
    assert.are.equal(2, c:committed({ { topic = t, partition = 0 } }, 10)[1].offset)
    c:close()
    -- The same through a signal (this process sends it to itself).
    publish(t, { { n = 3 } })
    local f = assert(io.open("/proc/self/stat"))
    local pid = f:read("*l"):match("^(%d+)")
    f:close()
    local svc2 = new_service { name = name }
    svc2:on(t, function() os.execute("kill -TERM " .. pid) end)
    assert.is_true(svc2:run())
    assert.is_nil(core.signal_received())
    assert.matches("stopping on SIGTERM", table.concat(lines, "\n"))
    c = rdkafka.consumer(helpers.consumer_conf(brokers, name))
    assert.are.equal(3, c:committed({ { topic = t, partition = 0 } }, 10)[1].offset)
    c:close()
  end)

  it("bad input raises, naming the option", function()
    local ok_opts = { name = "n", brokers = brokers }
    local function with(extra)
      local o = {}
      for k, v in pairs(ok_opts) do o[k] = v end
      for k, v in pairs(extra) do o[k] = v end
      return o
    end
    assert.matches("service.new: options table expected, got nil", errmsg(function() service.new() end))
    assert.matches("option 'name' is required", errmsg(function() service.new { brokers = brokers } end))
    assert.matches("option 'name' must be a string, got number", errmsg(function() service.new(with { name = 1 }) end))
    assert.matches("option 'name' must be a non%-empty string", errmsg(function() service.new(with { name = "" }) end))
    assert.matches("unknown option 'retry'", errmsg(function() service.new(with { retry = 1 }) end))
    assert.matches("option 'retries' must be an integer >= 0",
      errmsg(function() service.new(with { retries = -1 }) end))
    assert.matches("option 'retries' must be a number, got string",
      errmsg(function() service.new(with { retries = "3" }) end))
    assert.matches("option 'backoff' must be a non%-negative number",
      errmsg(function() service.new(with { backoff = -1 }) end))
    assert.matches("option 'batch' must be an integer >= 1", errmsg(function() service.new(with { batch = 0 }) end))
    assert.matches("option 'dlq' must be a topic name, a function, or false",
      errmsg(function() service.new(with { dlq = true }) end))
    assert.matches("unknown codec 'xml'", errmsg(function() service.new(with { codec = "xml" }) end))
    assert.matches("librdkafka property 'fetch.wait.max.ms' must be a string, number or boolean, got table",
      errmsg(function() service.new(with { ["fetch.wait.max.ms"] = {} }) end))
    local svc = service.new(ok_opts)
    assert.matches("bad argument #1 to 'on' %(topic must be a non%-empty string, got nil%)",
      errmsg(function() svc:on(nil, function() end) end))
    assert.matches("topic must be a non%-empty string, got an empty string",
      errmsg(function() svc:on("", function() end) end))
    assert.matches("bad argument #2 to 'on' %(handler must be a function, got string%)",
      errmsg(function() svc:on("t", "h") end))
    assert.matches("unknown option 'codex'", errmsg(function() svc:on("t", function() end, { codex = "raw" }) end))
    assert.matches("bad topic pattern", errmsg(function() svc:on("^(", function() end) end))
    svc:on("t", function() end)
    assert.matches("topic 't' has a handler already", errmsg(function() svc:on("t", function() end) end))
    assert.matches("service n: no handlers", errmsg(function() service.new(ok_opts):step(0) end))
    assert.matches("non%-empty list of services expected", errmsg(function() service.run_all {} end))
    assert.matches("entry #1 is not a service", errmsg(function() service.run_all { {} } end))
    assert.matches("metrics_text' %(a service or a list of services expected, got nil%)",
      errmsg(function() service.metrics_text() end))
    assert.matches("publisher: option 'brokers' is required", errmsg(function() service.publisher {} end))
    assert.matches("librdkafka property 'acks' must be a string, number or boolean, got table",
      errmsg(function() service.publisher { brokers = brokers, acks = {} } end))
    assert.matches("option 'queue_full_wait' must be a non%-negative number of seconds",
      errmsg(function() service.publisher { brokers = brokers, queue_full_wait = -1 } end))
    assert.matches("option 'lag_timeout' must be a non%-negative number of seconds",
      errmsg(function() service.new(with { lag_timeout = -1 }) end))
    assert.matches("option 'event_loop' must be a boolean, got number",
      errmsg(function() service.new(with { event_loop = 1 }) end))
    -- librdkafka itself refuses a bad value of a dotless property.
    assert.matches("acks", errmsg(function() service.publisher { brokers = brokers, acks = "some" } end))
    service.publisher({ brokers = brokers, acks = "all", log_level = 3, queue_full_wait = 0 }):close()
    assert.matches("rdkafka.resty runs inside nginx's Lua module", errmsg(function() require("rdkafka.resty") end))
    local pub = service.publisher { brokers = brokers }
    assert.matches("bad argument #1 to 'publish' %(topic must be a non%-empty string",
      errmsg(function() pub:publish() end))
    assert.matches("bad argument #3 to 'publish' %(options table expected",
      errmsg(function() pub:publish("t", {}, 1) end))
    local ok, err = pub:publish("t", function() end)
    assert.is_nil(ok)
    assert.matches("cannot encode the event as JSON", err)
    assert.are.equal(0, pub:close())
    assert.matches("publish: the publisher is closed", errmsg(function() pub:publish("t", {}) end))
    assert.is_true(svc:close())
    assert.matches("service n is stopped", errmsg(function() svc:step(0) end))
  end)
end)

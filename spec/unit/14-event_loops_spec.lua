-- Event loops on the mock cluster: pollfd() with cqueues (the handles are
-- pollable objects) and with luv, level semantics of the descriptor, an idle
-- wait that does not spin, and bad input.
local rdkafka = require("rdkafka")
local cqueues = require("cqueues")
local uv = require("luv")
local helpers = require("helpers")
local errmsg = helpers.errmsg

-- CPU seconds the main thread has used (Linux: its own line in /proc), so
-- that librdkafka's and the mock cluster's threads do not count.
local function main_thread_cpu()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*a"):match("^(%d+)")
  f:close()
  f = assert(io.open("/proc/self/task/" .. pid .. "/stat"))
  local stat = f:read("*a")
  f:close()
  local fields = {}
  for field in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = field end
  -- After the command name: state is field 3 of stat(5), utime 14, stime 15.
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

-- A pollable wrapper of a raw descriptor, to ask whether it is readable now.
local function readable(fd)
  local wrapper = { pollfd = function() return fd end, events = function() return "r" end }
  return cqueues.poll(wrapper, 0) == wrapper
end

describe("event loops", function()
  local mc, bootstrap
  lazy_setup(function()
    helpers.quiet()
    mc = helpers.mock_with_topics { loop = 2, consume = 2, idle = 1, level = 1 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  local function producer(extra)
    local conf = { ["bootstrap.servers"] = bootstrap }
    for k, v in pairs(extra or {}) do conf[k] = v end
    return rdkafka.producer(conf)
  end

  local function consumer(topic)
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("loop")))
    assert(c:subscribe { topic })
    return c
  end

  it("pollfd gives one descriptor per handle; events and timeout follow cqueues' protocol", function()
    local p = producer()
    local fd = p:pollfd()
    assert.are.equal("number", type(fd))
    assert.is_true(fd >= 0 and fd % 1 == 0)
    assert.are.equal(fd, p:pollfd())
    assert.are.equal("r", p:events())
    assert.is_nil(p:timeout())
    local c = consumer("loop")
    assert.are_not.equal(fd, c:pollfd())
    assert.are.equal("r", c:events())
    c:close()
    p:close()
  end)

  it("a cqueues loop produces and serves every delivery report through the producer's descriptor", function()
    local reports, failed = 0, 0
    local p = producer { on_delivery = function(err) if err then failed = failed + 1 end reports = reports + 1 end }
    local cq = cqueues.new()
    local wakes = 0
    cq:wrap(function()
      for i = 1, 2000 do assert(p:produce { topic = "loop", key = tostring(i % 7), value = "v" .. i }) end
      while reports < 2000 do
        cqueues.poll(p, 30) -- wakes when reports arrive
        wakes = wakes + 1
        p:poll(0)
      end
    end)
    assert(cq:loop(30))
    assert.are.same({ 2000, 0 }, { reports, failed })
    assert.is_true(wakes >= 1 and wakes < 2000) -- woken by batches, not per message
    assert.are.equal(0, p:close())
  end)

  it("a cqueues loop consumes through the consumer's descriptor", function()
    local p = producer()
    for i = 1, 500 do assert(p:produce { topic = "consume", value = "c" .. i }) end
    assert.are.equal(0, p:flush(10))
    p:close()
    local c = consumer("consume")
    local got = {}
    local cq = cqueues.new()
    cq:wrap(function()
      local deadline = helpers.now() + 60
      while helpers.now() < deadline do
        cqueues.poll(c, 1)
        local msgs = c:consume(64, 0)
        for _, m in ipairs(msgs) do got[m.value] = (got[m.value] or 0) + 1 end
        if got.c500 and got.c1 then
          local n = 0
          for _ in pairs(got) do n = n + 1 end
          if n >= 500 then break end
        end
      end
    end)
    assert(cq:loop(70))
    for i = 1, 500 do assert.are.equal(1, got["c" .. i], "message c" .. i) end
    c:close()
  end)

  it("a luv loop consumes and produces through uv.new_poll(handle:pollfd())", function()
    local c = consumer("loop")
    local sent, reported, seen = {}, 0, {}
    local p = producer { on_delivery = function(err) assert(err == nil, tostring(err)) reported = reported + 1 end }
    local token = helpers.unique("luv")
    local cpoll = uv.new_poll(c:pollfd())
    local ppoll = uv.new_poll(p:pollfd())
    local timer = uv.new_timer()
    local function stop()
      cpoll:stop() ppoll:stop() timer:stop()
    end
    cpoll:start("r", function()
      repeat
        local msg = c:poll(0)
        if msg and msg.key == token then seen[#seen + 1] = msg.value end
      until not msg
      if #seen == 100 and reported == 100 then stop() end
    end)
    ppoll:start("r", function()
      p:poll(0)
      if #seen == 100 and reported == 100 then stop() end
    end)
    for i = 1, 100 do
      sent[i] = tostring(i)
      assert(p:produce { topic = "loop", partition = 0, key = token, value = sent[i] })
    end
    -- libuv counts timers from the loop's cached time, last set when it ran
    -- (or when luv was loaded, which busted does for every file up front).
    uv.update_time()
    timer:start(30000, 0, stop) -- a bound, should anything hang
    uv.run()
    cpoll:close() ppoll:close() timer:close()
    uv.run("nowait")
    assert.are.equal(100, reported)
    assert.are.same(sent, seen) -- one partition: in order, once each
    c:close()
    assert.are.equal(0, p:close())
  end)

  it("the descriptor stays readable while a call left something to serve", function()
    local p = producer()
    for i = 1, 10 do assert(p:produce { topic = "level", value = tostring(i) }) end
    assert.are.equal(0, p:flush(10))
    p:close()
    local c = consumer("level")
    local fd = c:pollfd()
    assert.is_truthy(helpers.wait_until(30, function()
      cqueues.poll(c, 0.5)
      return c:timeout() == 0 -- fetched: ready to serve
    end))
    local first = c:poll(0)
    while not first do first = c:poll(1) end -- group events come first
    assert.is_true(readable(fd)) -- nine more are ready: poll took one
    local rest = c:consume(100, 0)
    assert.are.equal(9, #rest)
    assert.is_false(readable(fd)) -- all served
    assert.is_nil(c:timeout())
    c:close()
  end)

  -- Not under valgrind: it multiplies the CPU every call takes.
  it("an idle wait on the descriptor uses almost no CPU, where polling with timeout 0 spins #novalgrind", function()
    local c = consumer("idle")
    -- Joined and idle: nothing to fetch.
    helpers.wait_until(30, function() c:poll(0.2) return #c:assignment() == 1 end)
    c:consume(100, 0.5)
    local cpu0, t0 = main_thread_cpu(), helpers.now()
    while helpers.now() - t0 < 2 do cqueues.poll(c, 2 - (helpers.now() - t0)) c:consume(100, 0) end
    local waiting = main_thread_cpu() - cpu0
    cpu0, t0 = main_thread_cpu(), helpers.now()
    while helpers.now() - t0 < 1 do c:poll(0) end
    local spinning = main_thread_cpu() - cpu0
    assert.is_true(waiting < 0.2, ("%.2f s of CPU in a 2 s idle wait"):format(waiting))
    -- The measure itself sees a spin (how much CPU it gets depends on the load).
    assert.is_true(spinning > 0.1 and spinning > 10 * waiting,
      ("%.2f s of CPU in a 1 s spin, %.2f s in a 2 s wait"):format(spinning, waiting))
    c:close()
  end)

  it("closing closes the descriptor; a closed handle and a wrong self are refused", function()
    local p = producer()
    p:pollfd()
    assert.are.equal(0, p:close())
    assert.matches("closed rdkafka.Producer", errmsg(function() p:pollfd() end))
    assert.matches("closed rdkafka.Producer", errmsg(function() p:timeout() end))
    assert.matches("closed rdkafka.Producer", errmsg(function() p:events() end))
    local c = consumer("loop")
    local pollfd, timeout = c.pollfd, c.timeout
    c:pollfd()
    c:close()
    assert.matches("closed rdkafka.Consumer", errmsg(function() c:pollfd() end))
    for _, bad in ipairs { 1, "x", {}, false } do
      assert.matches("rdkafka.Consumer expected", errmsg(function() pollfd(bad) end))
      assert.matches("rdkafka.Consumer expected", errmsg(function() timeout(bad) end))
    end
    assert.matches("rdkafka.Consumer expected", errmsg(function() pollfd() end))
    -- Not while closing: the descriptor would outlive close().
    local q
    q = producer { on_delivery = function() q:pollfd() end }
    assert(q:produce { topic = "loop", value = "last" })
    assert.matches("cannot watch a rdkafka.Producer that is closing", errmsg(function() q:close() end))
  end)
end)

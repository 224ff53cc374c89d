-- What the README promises of every handle, each once broken: close within
-- its timeout, handles the collector can take, finalizers that cannot pull a
-- handle from under its own callback, no system call per method call, flush
-- that returns with the last report, ordered headers, honest commit, and
-- callbacks served while a consumer closes.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local helpers = require("helpers")
local errmsg, now = helpers.errmsg, helpers.now

-- A mock cluster with one message in topic "solo", and a consumer that has read it.
local function consumer_with_message(conf)
  local mc = helpers.mock_with_topics { solo = 1 }
  local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers }
  assert(p:produce("solo", "x"))
  assert.are.equal(0, p:flush(10))
  p:close()
  -- A long session: under valgrind a slow join must not cost the member its place.
  local merged = { ["session.timeout.ms"] = 30000 }
  for k, v in pairs(conf or {}) do merged[k] = v end
  local c = rdkafka.consumer(helpers.consumer_conf(mc.bootstrap_servers, helpers.unique("g"), merged))
  assert(c:subscribe("solo"))
  local msg = helpers.consume(c, 1, 60)[1]
  assert.is_not_nil(msg)
  return mc, c, msg
end

describe("a consumer's close", function()
  it("returns within its timeout when a commit waits for a coordinator that is gone", function()
    -- session.timeout.ms (30 s) is what librdkafka's own close waits here.
    local mc, c, msg = consumer_with_message { ["log_level"] = 0 }
    mc:broker_down(1)
    local ok, err = c:commit(msg, 0.5)
    assert.is_nil(ok)
    assert.are.equal("_TIMED_OUT", err.name)
    local t0 = now()
    ok, err = c:close(1)
    local took = now() - t0
    assert.is_true(took < 2.5, ("close(1) took %.1f s"):format(took))
    assert.is_nil(ok)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.matches("goes on closing in the background", err.message)
    assert.are.equal("rdkafka.Consumer (closed)", tostring(c))
    mc:broker_up(1) -- the background close can finish
    helpers.settle() -- best effort: under valgrind it may take longer
    mc:close()
  end)

  it("returns within its timeout with auto-commit on and the coordinator gone", function()
    local mc, c = consumer_with_message { ["enable.auto.commit"] = true, ["auto.commit.interval.ms"] = 60000,
      ["log_level"] = 0 }
    mc:broker_down(1)
    local t0 = now()
    c:close(1)
    assert.is_true(now() - t0 < 2.5)
    mc:broker_up(1) -- the background close can finish
    helpers.settle() -- best effort: under valgrind it may take longer
    mc:close()
  end)

  it("is not waited for by the collector", function()
    local mc, c, msg = consumer_with_message { ["log_level"] = 0 }
    mc:broker_down(1)
    assert.is_nil(c:commit(msg, 0.5))
    local t0 = now()
    c = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.is_true(now() - t0 < 0.5)
    mc:broker_up(1)
    helpers.settle() -- best effort: under valgrind it may take longer
    mc:close()
  end)

  it("stops serving callbacks at its timeout, however many librdkafka sends", function()
    local closing, lines = false, 0
    local mc, c, msg = consumer_with_message { debug = "all", on_log = function()
      if closing then
        lines = lines + 1
        local t0 = now()
        repeat until now() - t0 >= 0.005 -- a slow handler
      end
    end }
    mc:broker_down(1)
    assert.is_nil(c:commit(msg, 0.5))
    closing = true
    local t0 = now()
    local ok, err = c:close(1)
    local took = now() - t0
    assert.is_true(took < 2.5, ("close(1) took %.1f s serving %d log lines"):format(took, lines))
    assert.is_nil(ok)
    assert.are.equal("_TIMED_OUT", err.name)
    mc:broker_up(1)
    helpers.settle() -- best effort: under valgrind it may take longer
    mc:close()
  end)

  it("leaves the group cleanly and says so when it had the time", function()
    local mc, c = consumer_with_message()
    assert.is_true(c:close(10))
    mc:close()
  end)

  it("serves on_log and on_error while librdkafka closes, every line even after a failure", function()
    local lines, closing = 0, false
    local mc, c = consumer_with_message { debug = "cgrp", on_log = function()
      if closing then
        lines = lines + 1
        if lines == 1 then error("first close-time line fails") end
      end
    end }
    closing = true
    local ok, err = pcall(c.close, c, 10)
    assert.is_false(ok)
    assert.matches("on_log callback failed: .*first close%-time line fails", err)
    assert.is_true(lines > 10, ("only %d log lines served during close"):format(lines))
    assert.are.equal("rdkafka.Consumer (closed)", tostring(c))
    mc:close()
  end)
end)

describe("a close that cannot start its thread", function()
  it("fails and leaves the handle open; the collector then destroys it in place", function()
    local script = [[
      local rdkafka = require("rdkafka")
      local c = rdkafka.consumer { ["bootstrap.servers"] = "127.0.0.1:1", ["group.id"] = "g", ["log_level"] = 0 }
      local p = rdkafka.producer { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
      local ok1, e1 = c:close(1)
      local ok2, e2 = p:close(1)
      local a = rdkafka.admin { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
      local ok3, e3 = a:close(1)
      print(tostring(ok1), e1 and e1.name, e1 and e1.message, tostring(c))
      print(tostring(ok2), e2 and e2.name, e2 and e2.message, tostring(p))
      print(tostring(ok3), e3 and e3.name, e3 and e3.message, tostring(a))
      print(p:produce("t", "v"), p:flush(0.1), c:poll(0), a:poll(0))
    ]]
    local cmd = ("LD_PRELOAD=%s/no_threads.so %s -e '%s' 2>&1"):format(
      helpers.support_dir(), helpers.lua_command(), script)
    local pipe = assert(io.popen(cmd))
    local out = pipe:read("*a")
    pipe:close()
    assert.matches("nil\t_FAIL\tcould not start a thread to close the consumer %(error %d+%): it is still open"
      .. "\trdkafka.Consumer %(rdkafka#consumer", out)
    assert.matches("nil\t_FAIL\tcould not start a thread to close the producer %(error %d+%): it is still open"
      .. "\trdkafka.Producer %(rdkafka#producer", out)
    assert.matches("nil\t_FAIL\tcould not start a thread to close the admin handle %(error %d+%): it is still open"
      .. "\trdkafka.Admin %(rdkafka#producer", out)
    assert.matches("true\t1\tnil\t%d+", out) -- flush ran without its helper thread; the others are open
    assert.matches("no thread for a collected consumer: destroying it here", out)
    assert.matches("no thread for a collected producer: destroying it here", out)
    assert.matches("no thread for a collected admin handle: destroying it here", out)
  end)
end)

describe("handles whose callbacks refer to them", function()
  it("are collected, and their librdkafka threads end", function()
    local mc = helpers.mock_with_topics { cycle = 1 }
    collectgarbage()
    collectgarbage()
    local before = helpers.threads()
    for _ = 1, 10 do
      local p
      p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers,
        on_delivery = function() return p end, on_error = function() return p end }
      local c
      c = rdkafka.consumer { ["bootstrap.servers"] = mc.bootstrap_servers, ["group.id"] = "cycle",
        on_log = function() return c end, on_stats = function() return c end }
    end
    assert.is_true(helpers.threads() > before + 20)
    collectgarbage()
    collectgarbage()
    local threads = helpers.wait_until(20, function()
      local n = helpers.threads()
      return n <= before and n
    end)
    assert.is_truthy(threads, ("%d threads left, %d before"):format(helpers.threads(), before))
    mc:close()
  end)
end)

describe("a handle's metatable", function()
  it("is protected, and a finalizer reached anyway refuses to run under a callback", function()
    local mc = helpers.mock_with_topics { fin = 1 }
    local p
    local attempts = {}
    p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers, on_delivery = function()
      attempts[#attempts + 1] = errmsg(function() debug.getmetatable(p).__gc(p) end)
      attempts[#attempts + 1] = errmsg(function() debug.getmetatable(p).__close(p) end)
    end }
    local c = rdkafka.consumer { ["bootstrap.servers"] = mc.bootstrap_servers, ["group.id"] = "fin" }
    assert.is_false(getmetatable(p))
    assert.is_false(getmetatable(c))
    assert.is_false(getmetatable(mc))
    assert.is_true(p:produce("fin", "x"))
    assert.are.equal(0, p:flush(10))
    assert.are.equal(2, #attempts)
    assert.matches("cannot close a rdkafka.Producer from inside one of its callbacks", attempts[1])
    assert.matches("cannot close a rdkafka.Producer from inside one of its callbacks", attempts[2])
    assert.is_true(p:produce("fin", "y")) -- still whole
    assert.are.equal(0, p:close(10))
    c:close()
    mc:close()
  end)
end)

describe("the fork check", function()
  it("makes no system call per method call", function()
    local script = [[
      local p = require("rdkafka").producer { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
      for _ = 1, 10000 do p:produce("t", "v"); p:poll(0); p:pending() end
      p:close(0)
    ]]
    local cmd = ("LD_PRELOAD=%s/getpid_count.so %s -e '%s' 2>&1"):format(
      helpers.support_dir(), helpers.lua_command(), script)
    local pipe = assert(io.popen(cmd))
    local out = pipe:read("*a")
    pipe:close()
    local calls = tonumber(out:match("getpid calls: (%d+)"))
    assert.is_not_nil(calls, out)
    assert.is_true(calls < 100, ("%d getpid() calls for 30,000 method calls"):format(calls))
  end)
end)

-- Measures, as the defect was latency: flush once slept 5 ms whenever a
-- message was in flight. Not under valgrind, which slows threads unevenly.
describe("flush #novalgrind", function()
  it("returns as soon as the last report is served, about as fast as a poll loop", function()
    local mc = helpers.mock_with_topics { quick = 1 }
    local delivered = 0
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers, ["linger.ms"] = 0,
      on_delivery = function() delivered = delivered + 1 end }
    assert(p:produce("quick", "warm-up"))
    assert.are.equal(0, p:flush(10))
    local n = 40
    local t0 = now()
    for i = 1, n do
      assert(p:produce("quick", "x"))
      while delivered < i + 1 do p:poll(0.1) end
    end
    local polled = now() - t0
    t0 = now()
    for _ = 1, n do
      assert(p:produce("quick", "x"))
      assert.are.equal(0, p:flush(10))
    end
    local flushed = now() - t0
    assert.are.equal(2 * n + 1, delivered)
    assert.is_true(flushed < 4 * polled + 0.05,
      ("%d flushes took %.3f s, the poll loop %.3f s"):format(n, flushed, polled))
    p:close()
    mc:close()
  end)
end)

describe("headers given as a list", function()
  local function round_trip(headers)
    local mc = helpers.mock_with_topics { hdr = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers }
    assert(p:produce { topic = "hdr", value = "v", headers = headers })
    assert.are.equal(0, p:flush(10))
    p:close()
    local c = rdkafka.consumer(helpers.consumer_conf(mc.bootstrap_servers, helpers.unique("h")))
    c:subscribe("hdr")
    local msg = helpers.consume(c, 1, 30)[1]
    c:close()
    mc:close()
    return msg.headers
  end

  it("keep their order wherever Lua stores the list", function()
    local expected = { { "a", "1" }, { "b", "2" }, { "c", "3" }, { "a", "4" } }
    assert.are.same(expected, round_trip { [1] = { "a", "1" }, [2] = { "b", "2" }, [3] = { "c", "3" },
      [4] = { "a", "4" } })
    local backwards = {}
    for i = 4, 1, -1 do backwards[i] = expected[i] end
    assert.are.same(expected, round_trip(backwards))
  end)
end)

describe("commit()", function()
  it("commits what poll returned, with enable.auto.offset.store off", function()
    local mc = helpers.mock_with_topics { honest = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers }
    for i = 1, 5 do assert(p:produce("honest", tostring(i))) end
    assert.are.equal(0, p:flush(10))
    p:close()
    local group = helpers.unique("honest")
    local conf = helpers.consumer_conf(mc.bootstrap_servers, group, { ["enable.auto.offset.store"] = false })
    local c = rdkafka.consumer(conf)
    c:subscribe("honest")
    local got = helpers.consume(c, 3, 30)
    assert.are.equal(3, #got)
    assert.is_true(c:commit())
    assert.is_true(c:close())
    c = rdkafka.consumer(conf)
    c:subscribe("honest")
    local next_msg = helpers.consume(c, 1, 30)[1]
    assert.are.equal(got[3].offset + 1, next_msg.offset)
    c:close()
    mc:close()
  end)
end)

describe("a fatal error", function()
  it("carries the same code from poll as from on_error", function()
    local seen = {}
    local c = helpers.offline_consumer()
    local c2 = helpers.offline_consumer { on_error = function(e) seen[#seen + 1] = e end }
    local code = rdkafka.errors.FENCED_INSTANCE_ID
    assert.are.equal(0, core._test_fatal_error(c, code, "fenced for a test"))
    assert.are.equal(0, core._test_fatal_error(c2, code, "fenced for a test"))
    -- Not reaching the offline broker is reported too: look for the fatal one.
    local err = helpers.wait_until(10, function()
      local _, e = c:poll(0.1)
      return e and e.fatal and e
    end)
    local heard = helpers.wait_until(10, function()
      c2:poll(0.1)
      for _, e in ipairs(seen) do if e.fatal then return e end end
    end)
    assert.are.equal("FENCED_INSTANCE_ID", err.name)
    assert.are.equal(code, err.code)
    assert.are.equal("FENCED_INSTANCE_ID", heard.name)
    c:close(1)
    c2:close(1)
  end)
end)

describe("integer arguments", function()
  it("refuse NaN and infinities instead of converting them", function()
    local p = helpers.offline_producer()
    for _, bad in ipairs { 0 / 0, math.huge, -math.huge, 2 ^ 63 } do
      assert.matches("field 'partition' must be an integer",
        errmsg(function() p:produce { topic = "t", partition = bad } end))
    end
    p:close(0)
  end)
end)

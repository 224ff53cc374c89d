local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("callbacks", function()
  local mc, bootstrap
  lazy_setup(function()
    mc = helpers.mock_with_topics { cb = 1 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  it("run only inside poll, flush or close, on the caller's thread", function()
    local calls = 0
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function() calls = calls + 1 end }
    assert.is_true(p:produce("cb", "a"))
    -- Give librdkafka ample time to deliver: the report must still wait for poll.
    local deadline = os.time() + 2
    while os.time() < deadline and p:pending() > 0 do
      -- nothing: no poll, so no callback may run
    end
    assert.are.equal(0, calls)
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, calls)
    p:close()
  end)

  it("an error raised in one is re-raised after librdkafka returns, with a traceback", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap,
      on_delivery = function(_, msg) error("handler broke on " .. msg.value) end }
    assert.is_true(p:produce("cb", "first"))
    assert.is_true(p:produce("cb", "second"))
    local ok, err = pcall(p.flush, p, 10)
    assert.is_false(ok)
    assert.matches("on_delivery callback failed: .*handler broke on first", err)
    assert.matches("stack traceback", err)
    -- The handle is still sane; whichever report was not served yet is
    -- served by the next call (the first error of a call is the one raised).
    pcall(p.flush, p, 10)
    assert.are.equal(0, p:pending())
    assert.are.equal(0, p:close())
  end)

  it("a non-string error value is re-raised as it is", function()
    local marker = { reason = "custom" }
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function() error(marker) end }
    p:produce("cb", "x")
    local ok, err = pcall(p.flush, p, 10)
    assert.is_false(ok)
    assert.are.equal(marker, err)
    p:close()
  end)

  it("may produce, but may not poll or close their own handle", function()
    local p
    local retried, nested = false, nil
    p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function(_, msg)
      if msg.value == "first" then
        retried = p:produce("cb", "again")
        nested = select(2, pcall(p.poll, p, 0))
        local ok, closeerr = pcall(p.close, p)
        assert(not ok and closeerr:find("from inside one of its callbacks"))
      end
    end }
    p:produce("cb", "first")
    assert.are.equal(0, p:flush(10))
    assert.is_true(retried)
    assert.matches("cannot poll a rdkafka.Producer from inside one of its callbacks", nested)
    p:close()
  end)

  it("on_log receives librdkafka's log lines", function()
    local lines = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, debug = "broker",
      on_log = function(level, facility, text) lines[#lines + 1] = { level, facility, text } end }
    p:produce("cb", "x")
    p:flush(10)
    assert.is_true(#lines > 0)
    assert.are.equal("number", type(lines[1][1]))
    assert.are.equal("string", type(lines[1][2]))
    assert.are.equal("string", type(lines[1][3]))
    p:close()
  end)

  it("on_error hears that all brokers are down", function()
    local single = rdkafka.mock_cluster()
    local errors = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers, ["log_level"] = 0,
      on_error = function(err) errors[#errors + 1] = err end }
    assert.is_true(single:create_topic("x"))
    p:produce("x", "1")
    assert.are.equal(0, p:flush(10))
    single:broker_down(1)
    helpers.wait_until(15, function() p:poll(0.2); return #errors > 0 end)
    assert.is_true(#errors > 0)
    assert.are.equal("number", type(errors[1].code))
    assert.is_true(errors[1].retriable)
    p:close(0)
    single:close()
  end)

  it("on_stats receives JSON statistics", function()
    local stats
    local c = rdkafka.consumer { ["bootstrap.servers"] = bootstrap, ["group.id"] = "s",
      ["statistics.interval.ms"] = 100, on_stats = function(json) stats = json end }
    helpers.wait_until(10, function() c:poll(0.2); return stats end)
    assert.matches('^{.*"type":%s*"consumer"', stats)
    c:close()
  end)
end)

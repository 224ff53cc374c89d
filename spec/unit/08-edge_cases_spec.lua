-- Corners found in review: each of these once lost a message, an error or
-- memory, or waited longer than asked.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local helpers = require("helpers")
local errmsg = helpers.errmsg

describe("edge cases", function()
  local mc, bootstrap
  lazy_setup(function()
    mc = helpers.mock_with_topics { edge = 1 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  it("produce reads the message table raw: no __index runs while it holds field strings", function()
    local p = helpers.offline_producer()
    local calls = 0
    local msg = setmetatable({ topic = "t", value = "v" }, { __index = function() calls = calls + 1 end })
    assert.is_true(p:produce(msg))
    assert.are.equal(0, calls)
    p:close(0)
  end)

  it("close serves every report even after a callback failed", function()
    local calls = 0
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function()
      calls = calls + 1
      if calls == 1 then error("first report fails") end
    end }
    for i = 1, 500 do assert.is_true(p:produce("edge", tostring(i))) end
    local ok, err = pcall(p.close, p, 10)
    assert.is_false(ok)
    assert.matches("first report fails", err)
    assert.are.equal(500, calls)
    assert.are.equal("rdkafka.Producer (closed)", tostring(p))
  end)

  it("a message produced from a callback during close is refused, not lost", function()
    local retries = {}
    local p
    p = helpers.offline_producer { on_delivery = function(err, msg)
      if err then retries[#retries + 1] = { p:produce("t", msg.value) } end
    end }
    assert.is_true(p:produce("t", "a"))
    assert.are.equal(1, p:close(0.2))
    assert.are.equal(1, #retries)
    assert.is_nil(retries[1][1])
    assert.are.equal("_STATE", retries[1][2].name)
    assert.matches("closing", retries[1][2].message)
  end)

  it("flush sends past linger.ms", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["linger.ms"] = 60000 }
    assert.is_true(p:produce("edge", "now"))
    assert.are.equal(0, p:flush(20)) -- far less than linger.ms
    p:close()
  end)

  it("poll returns partition errors in stream order", function()
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("eof"),
      { ["enable.partition.eof"] = true }))
    c:subscribe("edge")
    local err = helpers.wait_until(30, function()
      local _, e = c:poll(0.2)
      return e
    end)
    assert.is_not_nil(err)
    assert.are.equal("_PARTITION_EOF", err.name)
    assert.are.equal("edge", err.topic)
    assert.are.equal(0, err.partition)
    c:close()
  end)

  it("poll returns client errors unless on_error takes them", function()
    local c = helpers.offline_consumer()
    c:subscribe("t")
    local err = helpers.wait_until(20, function() return select(2, c:poll(0.2)) end)
    assert.is_not_nil(err)
    assert.are.equal("number", type(err.code))
    c:close()
    local seen = {}
    c = helpers.offline_consumer { on_error = function(e) seen[#seen + 1] = e end }
    c:subscribe("t")
    helpers.wait_until(20, function()
      local _, e = c:poll(0.2)
      assert.is_nil(e)
      return #seen > 0
    end)
    assert.is_true(#seen > 0)
    c:close()
  end)

  it("commit gives up after its timeout when the coordinator is gone", function()
    local single = helpers.mock_with_topics { solo = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers }
    p:produce("solo", "x")
    assert.are.equal(0, p:flush(10))
    p:close()
    local c = rdkafka.consumer(helpers.consumer_conf(single.bootstrap_servers, helpers.unique("g"),
      { ["log_level"] = 0 }))
    c:subscribe("solo")
    local msg = helpers.consume(c, 1, 30)[1]
    assert.is_not_nil(msg)
    single:broker_down(1)
    local ok, err = c:commit(msg, 0.5)
    assert.is_nil(ok)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.matches("bad argument #2 to 'commit' %(timeout must be", errmsg(function() c:commit(msg, -1) end))
    single:broker_up(1)
    c:close()
    single:close()
  end)

  it("delivery.report.only.error calls on_delivery for failures only, still counting every message", function()
    local reports, watch = {}, setmetatable({}, { __mode = "v" })
    local single = helpers.mock_with_topics { edge = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers,
      ["delivery.report.only.error"] = true,
      on_delivery = function(err, msg)
        reports[#reports + 1] = { name = err and err.name, value = msg.value, opaque = msg.opaque }
      end }
    watch.ok = {}
    for i = 1, 100 do assert.is_true(p:produce("edge", "ok-" .. i, nil, nil, i == 1 and watch.ok or nil)) end
    assert.is_true(p:produce { topic = "edge", value = "table form", headers = { h = "1" } })
    assert.are.equal(0, p:flush(10))
    assert.are.equal(0, p:pending())
    assert.are.same({}, reports) -- delivered: nobody told
    collectgarbage(); collectgarbage()
    assert.is_nil(watch.ok) -- the opaque of a success is let go of all the same
    -- A failure is reported, opaque and all: purged while the broker is down.
    local lost = {}
    single:broker_down(1)
    assert.is_true(p:produce("edge", "lost", nil, nil, lost))
    assert.is_true(p:purge())
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #reports)
    assert.are.equal("_PURGE_QUEUE", reports[1].name)
    assert.are.equal("lost", reports[1].value)
    assert.are.equal(lost, reports[1].opaque)
    assert.are.equal(0, p:close())
    single:close()
  end)

  it("delivery.report.only.error without on_delivery still reports a failure to on_error", function()
    local errors = {}
    local single = helpers.mock_with_topics { edge = 1 }
    local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers,
      ["delivery.report.only.error"] = "true",
      on_error = function(err) -- the broker being down comes too
        if err.name == "_PURGE_QUEUE" then errors[#errors + 1] = err end
      end }
    assert.is_true(p:produce("edge", "ok"))
    assert.are.equal(0, p:flush(10))
    single:broker_down(1)
    assert.is_true(p:produce("edge", "lost"))
    assert.is_true(p:purge())
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #errors)
    assert.matches("delivery to topic 'edge' partition %d+ failed", tostring(errors[1]))
    p:close()
    single:close()
  end)

  it("delivery.report.fields limits a success's message to the fields listed; a failure's has them all", function()
    local single = helpers.mock_with_topics { edge = 1 }
    local function reports_with(fields)
      local got = {}
      local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers,
        ["delivery.report.fields"] = fields,
        on_delivery = function(err, msg) got[#got + 1] = { err = err and err.name, msg = msg } end }
      assert.is_true(p:produce { topic = "edge", key = "k", value = "v", headers = { h = "1" }, opaque = "o" })
      assert.are.equal(0, p:flush(10))
      p:close()
      return got[1]
    end
    local r = reports_with("none")
    assert.is_nil(r.err)
    assert.are.same({ "offset", "opaque", "partition", "topic" }, helpers.sorted_keys(r.msg))
    assert.are.equal("o", r.msg.opaque)
    r = reports_with("value,timestamp")
    assert.are.same({ "offset", "opaque", "partition", "timestamp", "topic", "value" }, helpers.sorted_keys(r.msg))
    r = reports_with("key")
    assert.are.same({ "key", "offset", "opaque", "partition", "topic" }, helpers.sorted_keys(r.msg))
    r = reports_with("headers")
    assert.are.same({ "headers", "offset", "opaque", "partition", "topic" }, helpers.sorted_keys(r.msg))
    assert.are.same({ { "h", "1" } }, r.msg.headers)
    r = reports_with("all")
    assert.are.same({ "headers", "key", "offset", "opaque", "partition", "timestamp", "topic", "value" },
      helpers.sorted_keys(r.msg))
    -- A failure (purged while the broker is down) comes with every field.
    local failed
    local p = rdkafka.producer { ["bootstrap.servers"] = single.bootstrap_servers, ["delivery.report.fields"] = "",
      on_delivery = function(err, msg) failed = { err = err and err.name, msg = msg } end }
    single:broker_down(1)
    assert.is_true(p:produce { topic = "edge", key = "k", value = "v", headers = { h = "1" } })
    assert.is_true(p:purge())
    assert.are.equal(0, p:flush(10))
    assert.are.equal("_PURGE_QUEUE", failed.err)
    assert.are.equal("v", failed.msg.value)
    assert.are.equal("k", failed.msg.key)
    assert.are.same({ { "h", "1" } }, failed.msg.headers)
    p:close(0)
    single:close()
    -- Bad values name the key and the field.
    assert.matches("config key 'delivery.report.fields': unknown field 'valu' %(a comma%-separated list",
      errmsg(function() rdkafka.producer { ["delivery.report.fields"] = "key,valu" } end))
    assert.matches("config key 'delivery.report.fields': string, number or boolean expected, got table",
      errmsg(function() rdkafka.producer { ["delivery.report.fields"] = {} } end))
    for _, bad in ipairs { "key,", ",key", "key,,value" } do
      assert.matches("config key 'delivery.report.fields': empty field in '" .. bad:gsub("%p", "%%%0") .. "'",
        errmsg(function() rdkafka.producer { ["delivery.report.fields"] = bad } end))
    end
    assert.matches("unknown field 'none' %(.*alone%)",
      errmsg(function() rdkafka.producer { ["delivery.report.fields"] = "key,none" } end))
    assert.matches("unknown field '1'", errmsg(function() rdkafka.producer { ["delivery.report.fields"] = 1 } end))
    assert.matches("config key 'delivery.report.fields': No such configuration property",
      errmsg(function() rdkafka.consumer { ["group.id"] = "g", ["delivery.report.fields"] = "none" } end))
  end)

  it("a publisher refuses delivery.report.only.error: it follows every event's delivery", function()
    local publisher = require("rdkafka.publisher")
    assert.matches("option 'delivery.report.only.error' is not supported",
      errmsg(function() publisher.new { brokers = bootstrap, ["delivery.report.only.error"] = true } end))
  end)

  it("the C layer refuses a consumer without a group id", function()
    assert.matches("group.id", errmsg(function() core.consumer { ["log_level"] = 0 } end))
  end)

  it("metamethods check what they are given", function()
    local p = helpers.offline_producer()
    local c = helpers.offline_consumer()
    local m = rdkafka.mock_cluster()
    local mt = debug.getmetatable
    assert.matches("rdkafka.Producer expected", errmsg(function() mt(p).__gc(io.stdout) end))
    assert.matches("rdkafka.Consumer expected", errmsg(function() mt(c).__gc(p) end))
    assert.matches("rdkafka.MockCluster expected", errmsg(function() mt(m).__tostring(1) end))
    assert.matches("rdkafka.MockCluster expected", errmsg(function() mt(m).__index(p, "x") end))
    assert.matches("expected", errmsg(function() mt(p).__tostring({}) end))
    p:close(0)
    c:close()
    m:close()
  end)
end)

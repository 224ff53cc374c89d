-- The producer's per-message opaque, purge, on_throttle's config and
-- transactions, on the mock cluster (which serves the transaction requests
-- of librdkafka 2.0.2) or with no broker at all.
local rdkafka = require("rdkafka")
local helpers = require("helpers")
local errmsg = helpers.errmsg

-- Two full cycles: a collected producer's user value goes in the second.
local function collect()
  collectgarbage()
  collectgarbage()
end

describe("a message's opaque", function()
  local mc, bootstrap
  lazy_setup(function()
    mc = helpers.mock_with_topics { opaque = 2 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  it("comes back as msg.opaque in its delivery report, any type, in either form", function()
    local watch = setmetatable({}, { __mode = "v" })
    local sent = { tbl = {}, fn = function() end, str = "text", int = 42, float = 4.5, no = false, yes = true }
    for k, v in pairs(sent) do watch[k] = v end
    local got, fields = {}, nil
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function(err, msg)
      assert(err == nil, tostring(err))
      -- Compared here: keeping msg would keep its opaque alive.
      got[msg.value] = { same = rawequal(msg.opaque, watch[msg.value]) or msg.opaque == watch[msg.value],
        type = type(msg.opaque) }
      if msg.value == "tbl" then
        fields = { topic = msg.topic, partition = msg.partition, key = msg.key, offset = msg.offset,
          timestamp = msg.timestamp, header = msg.headers and msg.headers[1][1] }
      end
    end }
    assert.is_true(p:produce { topic = "opaque", value = "tbl", key = "k", partition = 1, headers = { h = "1" },
      opaque = sent.tbl })
    assert.is_true(p:produce { topic = "opaque", value = "fn", opaque = sent.fn })
    assert.is_true(p:produce { topic = "opaque", value = "no", opaque = false })
    assert.is_true(p:produce("opaque", "str", nil, nil, sent.str))
    assert.is_true(p:produce("opaque", "int", "k", 0, sent.int))
    assert.is_true(p:produce("opaque", "float", nil, nil, sent.float))
    assert.is_true(p:produce("opaque", "yes", nil, nil, true))
    assert.is_true(p:produce("opaque", "none"))
    assert.is_true(p:produce { topic = "opaque", value = "nil", opaque = nil })
    sent = nil -- luacheck: ignore 311 (dropped, so that only the producer could keep them)
    assert.are.equal(0, p:flush(30))
    for _, k in ipairs { "tbl", "fn", "str", "int", "float", "no", "yes" } do
      assert.is_true(got[k].same, k .. " came back as something else")
    end
    assert.are.same({ type = "table" }, { type = got.tbl.type })
    assert.are.equal("boolean", got.no.type)
    assert.are.equal("nil", got.none.type)
    assert.are.equal("nil", got["nil"].type)
    -- The report keeps its other fields.
    assert.are.equal("opaque", fields.topic)
    assert.are.equal(1, fields.partition)
    assert.are.equal("k", fields.key)
    assert.is_true(fields.offset >= 0)
    assert.is_true(fields.timestamp > 0)
    assert.are.equal("h", fields.header)
    -- Served: the producer holds on to none of them.
    collect()
    assert.is_nil(watch.tbl)
    assert.is_nil(watch.fn)
    p:close()
  end)

  it("each message gets its own back, round after round (slots are reused, never shared)", function()
    local wrong = 0
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, on_delivery = function(_, msg)
      if msg.opaque[1] ~= msg.value then wrong = wrong + 1 end
    end }
    for round = 1, 3 do
      for i = 1, 50 do
        local value = round .. ":" .. i
        assert.is_true(p:produce("opaque", value, nil, nil, { value }))
      end
      assert.are.equal(0, p:flush(30))
    end
    assert.are.equal(0, wrong)
    p:close()
  end)

  it("is let go of at once when the message is refused or its arguments are wrong", function()
    local watch = setmetatable({}, { __mode = "v" })
    local p = helpers.offline_producer()
    watch[1], watch[2], watch[3] = {}, {}, {}
    local ok, err = p:produce("t", ("x"):rep(2 * 1024 * 1024), nil, nil, watch[1])
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    assert.matches("value of header 'a' must be a string",
      errmsg(function() p:produce { topic = "t", headers = { a = 1 }, opaque = watch[2] } end))
    assert.matches("topic name must be a non%-empty string",
      errmsg(function() p:produce("", "v", nil, nil, watch[3]) end))
    collect()
    assert.are.same({}, { watch[1], watch[2], watch[3] })
    assert.are.equal(0, p:pending())
    p:close(0)
  end)

  it("is let go of when the message is purged, when the producer closes, and when it is collected", function()
    local watch = setmetatable({}, { __mode = "v" })
    watch.purged, watch.closed, watch.collected, watch.own = {}, {}, {}, nil
    local reports = {}
    local p = helpers.offline_producer { on_delivery = function(err, msg)
      reports[#reports + 1] = { name = err and err.name, same = rawequal(msg.opaque, watch[msg.value]) }
    end }
    assert.is_true(p:produce { topic = "t", value = "purged", opaque = watch.purged })
    assert.is_true(p:purge())
    assert.is_truthy(helpers.wait_until(10, function() p:poll(0.1); return p:pending() == 0 end))
    assert.are.same({ { name = "_PURGE_QUEUE", same = true } }, reports)
    collect()
    assert.is_nil(watch.purged)

    assert.is_true(p:produce { topic = "t", value = "closed", opaque = watch.closed })
    assert.are.equal(1, p:close(0.2))
    assert.are.same({ name = "_PURGE_QUEUE", same = true }, reports[2])
    collect()
    assert.is_nil(watch.closed)

    do
      local q = helpers.offline_producer()
      assert.is_true(q:produce("t", "v", nil, nil, watch.collected))
      -- A producer that is its own message's opaque: a cycle the collector breaks.
      assert.is_true(q:produce("t", "v", nil, nil, q))
      watch.own = q
    end
    collect()
    collect()
    assert.is_nil(watch.collected)
    assert.is_nil(watch.own)
    helpers.settle()
  end)
end)

describe("purge", function()
  local p, reports
  before_each(function()
    reports = {}
    p = helpers.offline_producer { on_delivery = function(err, msg)
      reports[#reports + 1] = { err.name, msg.value }
    end }
  end)
  after_each(function() p:close(0) end)

  local function serve()
    assert.is_truthy(helpers.wait_until(10, function() p:poll(0.1); return p:pending() == 0 end))
  end

  it("purges what is queued; the reports come with the next poll", function()
    for i = 1, 3 do assert.is_true(p:produce("t", tostring(i))) end
    assert.is_true(p:purge())
    assert.are.equal(3, p:pending()) -- not served yet
    serve()
    assert.are.same({ { "_PURGE_QUEUE", "1" }, { "_PURGE_QUEUE", "2" }, { "_PURGE_QUEUE", "3" } }, reports)
  end)

  it("purges only what it is told to", function()
    assert.is_true(p:produce("t", "kept"))
    assert.is_true(p:purge(false, false))
    assert.is_true(p:purge(false, true)) -- nothing is in flight without a broker
    assert.is_true(p:purge(nil, false) == true)
    serve()
    assert.are.same({ { "_PURGE_QUEUE", "kept" } }, reports)
  end)

  it("names the argument that is wrong", function()
    assert.matches("bad argument #1 to 'purge' %(in_queue must be a boolean or nil, got string%)",
      errmsg(function() p:purge("yes") end))
    assert.matches("bad argument #2 to 'purge' %(in_flight must be a boolean or nil, got number%)",
      errmsg(function() p:purge(true, 0) end))
    assert.matches("in_queue must be a boolean or nil, got table", errmsg(function() p:purge({}) end))
  end)

  it("is refused on a closed producer, and while it closes", function()
    local during
    local q
    q = helpers.offline_producer { on_delivery = function() during = { q:purge() } end }
    assert.is_true(q:produce("t", "v"))
    q:close(0.1)
    assert.is_nil(during[1])
    assert.are.equal("_STATE", during[2].name)
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() q:purge() end))
  end)
end)

describe("on_throttle", function()
  it("is taken by producers and consumers, as a function", function()
    local p = helpers.offline_producer { on_throttle = function() end }
    local c = helpers.offline_consumer { on_throttle = function() end }
    p:close(0)
    c:close(0)
    assert.matches("config key 'on_throttle': function expected, got string",
      errmsg(function() helpers.offline_producer { on_throttle = "f" } end))
    assert.matches("config key 'on_throttle': function expected, got boolean",
      errmsg(function() helpers.offline_consumer { on_throttle = true } end))
  end)
end)

describe("transactions", function()
  local mc, bootstrap
  lazy_setup(function()
    mc = helpers.mock_with_topics { txn = 2 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  local function transactional(extra)
    local conf = { ["bootstrap.servers"] = bootstrap, ["transactional.id"] = helpers.unique("txn") }
    for k, v in pairs(extra or {}) do conf[k] = v end
    local p = rdkafka.producer(conf)
    assert.is_true(p:init_transactions())
    return p
  end

  it("run on the mock cluster: produce in a transaction, commit, abort, offsets of a group", function()
    local reports = {}
    local p = transactional { on_delivery = function(err, msg)
      assert(err == nil, tostring(err))
      reports[#reports + 1] = msg.opaque
    end }
    assert.is_true(p:begin_transaction())
    for i = 1, 3 do assert.is_true(p:produce("txn", "v" .. i, nil, nil, i)) end
    assert.is_true(p:send_offsets_to_transaction(helpers.unique("group"), { { topic = "txn", partition = 0,
      offset = 5 } }))
    -- commit serves the reports first: on_delivery runs inside it.
    assert.is_true(p:commit_transaction())
    table.sort(reports) -- two partitions: reports of one may come first
    assert.are.same({ 1, 2, 3 }, reports)
    assert.are.equal(0, p:pending())
    -- Aborted right after producing: the reports are served, nothing pends.
    assert.is_true(p:begin_transaction())
    for i = 4, 6 do assert.is_true(p:produce("txn", "v" .. i, nil, nil, i)) end
    assert.is_true(p:abort_transaction())
    assert.are.equal(6, #reports)
    assert.are.equal(0, p:pending())
    -- With a consumer's group metadata.
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("group")))
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "v7"))
    assert.is_true(p:send_offsets_to_transaction(c, { { topic = "txn", partition = 1, offset = 0 } }))
    assert.is_true(p:commit_transaction())
    c:close()
    assert.are.equal(0, p:close())
  end)

  it("return Kafka's error for a call in the wrong state", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["transactional.id"] = helpers.unique("txn") }
    local ok, err = p:begin_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name) -- before init_transactions
    assert.is_true(p:init_transactions())
    ok, err = p:commit_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name) -- without begin
    ok, err = p:abort_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name)
    assert.is_true(p:begin_transaction())
    ok, err = p:begin_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name) -- twice
    assert.matches("Operation not valid in state InTransaction", err.message)
    assert.is_true(p:commit_transaction())
    p:close()
  end)

  it("return _NOT_CONFIGURED on a producer without transactional.id, at once whatever the timeout", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    assert.is_true(p:produce("txn", "plain"))
    for _, call in ipairs {
      function() return p:init_transactions(1e308) end,
      function() return p:begin_transaction() end,
      function() return p:send_offsets_to_transaction("g", { { topic = "txn", partition = 0, offset = 2 ^ 53 } },
        math.huge) end,
      function() return p:commit_transaction(math.huge) end,
      function() return p:abort_transaction(1e308) end,
    } do
      local ok, err = call()
      assert.is_nil(ok)
      assert.are.equal("_NOT_CONFIGURED", err.name)
      assert.is_false(err.fatal)
    end
    assert.are.equal(0, p:close())
  end)

  it("name the argument that is wrong", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["transactional.id"] = helpers.unique("txn") }
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, "g"))
    local tp = { { topic = "txn", partition = 0, offset = 1 } }
    local timed = {
      init_transactions = function(t) local ok, err = p:init_transactions(t) return ok, err end,
      commit_transaction = function(t) local ok, err = p:commit_transaction(t) return ok, err end,
      abort_transaction = function(t) local ok, err = p:abort_transaction(t) return ok, err end,
    }
    for name, call in pairs(timed) do
      assert.matches("bad argument #1 to '" .. name .. "' %(number expected, got string%)",
        errmsg(function() call("soon") end))
      assert.matches("bad argument #1 to '" .. name .. "' %(timeout must be a non%-negative number",
        errmsg(function() call(-1) end))
      assert.matches("timeout must be a non%-negative number", errmsg(function() call(0 / 0) end))
    end
    local function send(...)
      local ok, err = p:send_offsets_to_transaction(...) -- not a tail call: the error names the method
      return ok, err
    end
    assert.matches("bad argument #1 to 'send_offsets_to_transaction' %(rdkafka.Consumer or group id expected, "
      .. "got nil%)", errmsg(function() send(nil, tp) end))
    assert.matches("rdkafka.Consumer or group id expected, got number", errmsg(function() send(5, tp) end))
    assert.matches("rdkafka.Consumer or group id expected, got table", errmsg(function() send({}, tp) end))
    assert.matches("rdkafka.Consumer or group id expected, got rdkafka.Producer", errmsg(function() send(p, tp) end))
    assert.matches("group id must be a non%-empty string", errmsg(function() send("", tp) end))
    assert.matches("group id must be a non%-empty string", errmsg(function() send("a\0b", tp) end))
    assert.matches("bad argument #2 .-list of {topic=, partition=} tables expected, got no value",
      errmsg(function() send(c) end))
    assert.matches("list of partitions is empty", errmsg(function() send(c, {}) end))
    assert.matches("entry #1 must be a table, got string", errmsg(function() send(c, { "txn" }) end))
    assert.matches("entry #1: field 'topic' must be a non%-empty string",
      errmsg(function() send(c, { { partition = 0, offset = 1 } }) end))
    assert.matches("entry #1: field 'partition' must be a non%-negative integer",
      errmsg(function() send(c, { { topic = "txn", partition = 2 ^ 31, offset = 1 } }) end))
    assert.matches("entry #2: field 'offset' must be a non%-negative integer",
      errmsg(function() send(c, { tp[1], { topic = "txn", partition = 1 } }) end))
    assert.matches("entry #1: field 'offset' must be a non%-negative integer",
      errmsg(function() send(c, { { topic = "txn", partition = 0, offset = -1 } }) end))
    assert.matches("entry #1: field 'offset' must be a non%-negative integer",
      errmsg(function() send(c, { { topic = "txn", partition = 0, offset = 2 ^ 70 } }) end))
    assert.matches("entry #1: field 'offset' must be a non%-negative integer",
      errmsg(function() send(c, { { topic = "txn", partition = 0, offset = "end" } }) end))
    assert.matches("bad argument #3 to 'send_offsets_to_transaction' %(timeout must be a non%-negative number",
      errmsg(function() send(c, tp, -5) end))
    c:close()
    assert.matches("attempt to use a closed rdkafka.Consumer", errmsg(function() send(c, tp) end))
    p:close()
    for _, name in ipairs { "init_transactions", "begin_transaction", "commit_transaction", "abort_transaction" } do
      assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() p[name](p) end))
    end
    assert.matches("attempt to use a closed rdkafka.Producer", errmsg(function() send("g", tp) end))
    assert.matches("rdkafka.Producer expected", errmsg(function() p.commit_transaction({}) end))
  end)

  it("may not commit or abort from inside a callback of the same producer", function()
    local p
    local inside = {}
    p = transactional { on_delivery = function()
      inside[#inside + 1] = select(2, pcall(p.commit_transaction, p))
      inside[#inside + 1] = select(2, pcall(p.abort_transaction, p))
    end }
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "x"))
    assert.is_true(p:commit_transaction())
    assert.matches("cannot commit_transaction a rdkafka.Producer from inside one of its callbacks", inside[1])
    assert.matches("cannot abort_transaction a rdkafka.Producer from inside one of its callbacks", inside[2])
    p:close()
  end)

  it("raise a callback's error after the call; a failed commit leaves the transaction open to abort", function()
    local fail = true
    local p = transactional { on_delivery = function() if fail then error("report handler broke") end end }
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "x"))
    assert.matches("on_delivery callback failed: .*report handler broke", errmsg(function() p:commit_transaction() end))
    assert.are.equal(0, p:pending())
    fail = false
    assert.is_true(p:abort_transaction())
    assert.is_true(p:begin_transaction())
    assert.is_true(p:commit_transaction())
    p:close()
  end)

  it("commit says _TIMED_OUT with the transaction still open when the reports are not in", function()
    local p = transactional { ["linger.ms"] = 5000 }
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "lingering"))
    -- No time to send past linger.ms: the report cannot have come.
    local ok, err = p:commit_transaction(0)
    assert.is_nil(ok)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.is_true(err.retriable)
    assert.are.equal(1, p:pending())
    assert.is_true(p:commit_transaction())
    assert.are.equal(0, p:pending())
    p:close()
  end)

  it("abort gives up at its timeout while the broker is away, and finishes once it is back", function()
    local seen = {}
    local p = transactional { on_delivery = function(_, msg)
      if msg.opaque then seen[msg.opaque] = (seen[msg.opaque] or 0) + 1 end
    end }
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "a", nil, nil, 1))
    assert.are.equal(0, p:flush(30))
    mc:broker_down(1)
    for i = 2, 4 do assert.is_true(p:produce("txn", "b", nil, nil, i)) end
    local ok, err = p:abort_transaction(0.5)
    assert.is_nil(ok)
    assert.is_true(err.retriable)
    mc:broker_up(1)
    assert.is_true(p:abort_transaction())
    assert.are.equal(0, p:pending())
    assert.are.same({ 1, 1, 1, 1 }, seen) -- every message reported once
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce("txn", "after"))
    assert.is_true(p:commit_transaction())
    p:close()
  end)
end)

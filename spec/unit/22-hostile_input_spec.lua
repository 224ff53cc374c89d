-- Hostile input on the mock cluster: oversized messages, many headers, odd
-- topic names, broken configs and timeouts. Each ends in an error that names
-- the argument or key, or a delivery report that names the problem: never a
-- crash, a hang or a message lost without a word.
local rdkafka = require("rdkafka")
local service = require("rdkafka.service")
local helpers = require("helpers")
local errmsg = helpers.errmsg

local LONG = string.rep("t", 300)

describe("hostile input", function()
  local mc, bootstrap
  lazy_setup(function()
    mc = helpers.mock_with_topics { hostile = 1 }
    bootstrap = mc.bootstrap_servers
  end)
  lazy_teardown(function() mc:close() end)

  local function producer(extra)
    local conf = { ["bootstrap.servers"] = bootstrap, log_level = 0 }
    for k, v in pairs(extra or {}) do conf[k] = v end
    return rdkafka.producer(conf)
  end

  local function read_back(topic, n, seconds, partition)
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    assert(c:assign { { topic = topic, partition = partition or 0, offset = "beginning" } })
    local got = helpers.consume(c, n, seconds)
    c:close()
    return got
  end

  it("a message bigger than message.max.bytes is refused with MSG_SIZE_TOO_LARGE", function()
    local reports = 0
    local p = producer { ["message.max.bytes"] = 10000, on_delivery = function() reports = reports + 1 end }
    local big = string.rep("x", 20000)
    local ok, err = p:produce("hostile", big)
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    ok, err = p:produce { topic = "hostile", value = "v", key = big }
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    ok, err = p:produce { topic = "hostile", value = "v", headers = { { "h", big } } }
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    assert.are.equal(0, p:pending()) -- refused at once: nothing left to report
    assert.are.equal(0, p:flush(1))
    assert.are.equal(0, reports)
    p:close()
    -- The default limit (1,000,000 bytes) holds too.
    p = producer()
    ok, err = p:produce("hostile", string.rep("x", 1024 * 1024))
    assert.is_nil(ok)
    assert.are.equal("MSG_SIZE_TOO_LARGE", err.name)
    p:close()
  end)

  it("10,000 headers on one message arrive, in order", function()
    local headers = {}
    for i = 1, 10000 do headers[i] = { "h" .. i, tostring(i) } end
    local reports = {}
    local p = producer { on_delivery = function(err) reports[#reports + 1] = err or false end }
    assert.is_true(p:produce { topic = "hostile", value = "many headers", headers = headers })
    assert.are.equal(0, p:flush(10))
    assert.are.same({ false }, reports)
    p:close()
    local got = read_back("hostile", 1, 20)
    assert.are.equal(1, #got)
    assert.are.equal(10000, #got[1].headers)
    for _, i in ipairs { 1, 2, 5000, 9999, 10000 } do
      assert.are.same({ "h" .. i, tostring(i) }, got[1].headers[i])
    end
  end)

  it("an empty topic name, or one with a NUL byte, raises naming the argument", function()
    local p = producer()
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    for _, name in ipairs { "", "a\0b" } do
      assert.matches("bad argument #1 to 'produce' %(topic name must be a non%-empty string",
        errmsg(function() p:produce(name, "v") end))
      assert.matches("bad argument #1 to 'produce' %(.*topic",
        errmsg(function() p:produce { topic = name, value = "v" } end))
      assert.matches("bad argument #1 to 'metadata' %(topic name must be", errmsg(function() p:metadata(name, 1) end))
      assert.matches("bad argument #1 to 'subscribe' %(topic #1 must", errmsg(function() c:subscribe { name } end))
      assert.matches("bad argument #1 to 'subscribe' %(topic #1 must", errmsg(function() c:subscribe(name) end))
      local list = { { topic = name, partition = 0, offset = 0 } }
      -- Called as c[call](c, ...), Lua counts the handle as argument #1.
      for _, call in ipairs { "assign", "pause", "resume", "position", "store_offsets", "incremental_assign" } do
        assert.matches("bad argument #2 to '%?' %(entry #1: field 'topic' must be a non%-empty string",
          errmsg(function() c[call](c, list) end))
      end
      for _, call in ipairs { "commit", "committed", "seek" } do
        assert.matches("bad argument #2 to '%?' %(entry #1: field 'topic' must be a non%-empty string",
          errmsg(function() c[call](c, list, 1) end))
      end
      assert.matches("bad argument #1 to 'watermarks' %(topic name must be",
        errmsg(function() c:watermarks(name, 0, 1) end))
      assert.matches("bad argument #1 to 'cached_watermarks' %(topic name must be",
        errmsg(function() c:cached_watermarks(name, 0) end))
      assert.matches("bad argument #1 to 'create_topic' %(topic name must be",
        errmsg(function() mc:create_topic(name, 1, 1) end))
    end
    c:close()
    p:close()
  end)

  it("a topic name over Kafka's 249 bytes in a partition list raises naming the argument", function()
    -- Past 32767 bytes the protocol's 16-bit length framed the request wrong
    -- and the mock broker read the name as the rest of it; a 600-byte name
    -- given twice to incremental_assign crashed librdkafka 2.0.2 (it cannot
    -- make a local topic of more than 512 bytes).
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    local huge = string.rep("m", 1024 * 1024)
    local list = { { topic = huge, partition = 0, offset = 0 } }
    for _, call in ipairs { "commit", "committed" } do
      assert.matches("bad argument #2 to '%?' %(entry #1: field 'topic' is longer than 249 bytes, Kafka's limit",
        errmsg(function() c[call](c, list, 1) end))
    end
    assert.matches("bad argument #2 to 'commit' %(field 'topic' is longer than 249 bytes",
      errmsg(function() c.commit(c, { topic = huge, partition = 0, offset = 0 }, 1) end))
    local long = { { topic = string.rep("t", 600), partition = 0 } }
    for _ = 1, 2 do
      assert.matches("field 'topic' is longer than 249 bytes", errmsg(function() c:incremental_assign(long) end))
    end
    assert.is_true(c:assign { { topic = string.rep("t", 249), partition = 0 } })
    c:close()
    -- A group id too: librdkafka 2.0.2 then waited past the call's timeout.
    local p = producer { ["transactional.id"] = helpers.unique("tx") }
    assert.matches("bad argument #2 to 'send_offsets_to_transaction' %(group id is longer than 32767 bytes",
      errmsg(function()
        p.send_offsets_to_transaction(p, huge, { { topic = "hostile", partition = 0, offset = 1 } }, 1)
      end))
    p:close()
  end)

  it("a client.id over 32767 bytes raises before a request goes out", function()
    -- The protocol gives it a 16-bit length: librdkafka 2.0.2 sent it cut
    -- short, and the mock broker read the rest as the request and aborted the
    -- process (rd_realloc: Assertion 'p' failed; spec/fuzz/fuzz.lua --seed 701).
    assert.matches("config key 'client.id': the value is longer than 32767 bytes", errmsg(function()
      local p = producer { ["client.id"] = string.rep("m", 1024 * 1024) }
      p:metadata("hostile", 2)
      p:close()
    end))
    local p = producer { ["client.id"] = string.rep("m", 32767) }
    assert.is_table(p:metadata("hostile", 5))
    p:close()
  end)

  it("a 300-character topic name is passed to the broker, and the message is reported", function()
    -- Kafka refuses names over 249 characters (the report then says so);
    -- the mock cluster takes them, so here the message lands.
    local reports = {}
    local p = producer { on_delivery = function(err, msg) reports[#reports + 1] = { err = err, msg = msg } end }
    assert.is_true(p:produce(LONG, "long name"))
    assert.are.equal(0, p:flush(10))
    assert.are.equal(1, #reports)
    assert.is_nil(reports[1].err)
    assert.are.equal(LONG, reports[1].msg.topic)
    p:close()
    -- A partition list may not name it (no Kafka topic can have that name,
    -- and librdkafka 2.0.2 crashes on one over 512 bytes); a subscription may.
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    assert.matches("field 'topic' is longer than 249 bytes, Kafka's limit",
      errmsg(function() c:assign { { topic = LONG, partition = 0 } } end))
    assert.is_true(c:subscribe { LONG })
    assert.are.same({ LONG }, c:subscription())
    c:close()
  end)

  describe("a broken config raises naming the key", function()
    local makers = {
      producer = function(conf) return rdkafka.producer(conf) end,
      consumer = function(conf) conf["group.id"] = "g"; return rdkafka.consumer(conf) end,
      admin = function(conf) return rdkafka.admin(conf) end,
    }
    for kind, make in pairs(makers) do
      it("for " .. kind .. "s", function()
        local function fails(pattern, key, value)
          local conf = { ["bootstrap.servers"] = bootstrap, log_level = 0 }
          conf[key] = value
          assert.matches(pattern, errmsg(function() make(conf):close() end))
        end
        fails("config key 'no.such.property': No such configuration property", "no.such.property", "1")
        fails("config key 'linger.ms': string, number or boolean expected, got table", "linger.ms", {})
        fails("config key 'linger.ms': .*outside allowed range", "linger.ms", -5)
        fails("config key 'linger.ms': .*outside allowed range", "linger.ms", 1e12)
        fails("config key 'socket.timeout.ms': .*outside allowed range", "socket.timeout.ms", 2 ^ 53)
        fails("config key 'linger.ms': number must be finite", "linger.ms", 0 / 0)
        fails("config key 'socket.timeout.ms': number must be finite", "socket.timeout.ms", math.huge)
        fails("config key 'client.id': the value contains a NUL byte", "client.id", "a\0b")
        fails("config key 'client.id': the value is longer than 32767 bytes", "client.id", string.rep("m", 32768))
        fails("config key 'transactional.id': the value is longer than 32767 bytes", "transactional.id",
          string.rep("m", 32768))
        fails("config key 'client%.id...': a key must not contain a NUL byte", "client.id\0x", "a")
        fails("config key 'enable.auto.commit': Expected bool value", "enable.auto.commit", "maybe")
        -- librdkafka would keep the integer part of these silently.
        fails("config key 'message.timeout.ms': an integer is expected, got 2.5", "message.timeout.ms", 2.5)
        fails("config key 'batch.num.messages': an integer is expected, got 1.5", "batch.num.messages", 1.5)
        -- librdkafka 2.0.2 crashes on an extension it refuses (RFC 7628's rules).
        for value, problem in pairs {
          ["principal=svc extension_traceId=a\1b"] = "an extension value must consist of visible ASCII",
          ["principal=svc extension_traceId=caf\195\169"] = "an extension value must consist of visible ASCII",
          ["principal=svc extension_traceId=a\127"] = "an extension value must consist of visible ASCII",
          ["principal=svc extension_trace1=x"] = "an extension key must consist of letters",
          ["principal=svc extension_auth=x"] = "the extension key 'auth' is reserved",
          ["principal=svc extension_=x"] = "an extension_ pair must be extension_KEY=VALUE",
        } do
          local pattern = "config key 'sasl.oauthbearer.config': " .. problem:gsub("%p", "%%%0")
          fails(pattern, "sasl.oauthbearer.config", value)
        end
        -- Whole numbers given as floats, and fractions where librdkafka takes them, are fine.
        for key, value in pairs { ["batch.num.messages"] = 100.0, ["linger.ms"] = 1.5,
          ["queue.buffering.max.ms"] = 0.123456789,
          ["sasl.oauthbearer.config"] = "principal=svc extension_traceId=a\tb extension_other=x" } do
          local conf = { ["bootstrap.servers"] = bootstrap, log_level = 0, [key] = value }
          make(conf):close(0)
        end
        fails("config key 'on_delivered': not a callback", "on_delivered", function() end)
        fails("config keys must be strings, got number", 1, "x")
        -- A secret's value stays out of the error, NUL byte or not.
        local conf = { ["bootstrap.servers"] = bootstrap, ["sasl.password"] = "hunter2\0more" }
        local message = errmsg(function() make(conf):close() end)
        assert.matches("config key 'sasl.password'", message)
        assert.is_nil(message:find("hunter2", 1, true))
      end)
    end
  end)

  describe("timeouts", function()
    local BAD = { -1, -0.001, 0 / 0, -math.huge }

    local function each_bad(name, call)
      for _, t in ipairs(BAD) do
        assert.matches("timeout must be a non%-negative number of seconds", errmsg(function() call(t) end),
          name .. "(" .. tostring(t) .. ")")
      end
      assert.matches("number expected, got table", errmsg(function() call({}) end), name .. "({})")
    end

    it("negative, NaN or not numbers raise on every producer call that takes one", function()
      local p = producer { ["transactional.id"] = helpers.unique("tx") }
      local list = { { topic = "hostile", partition = 0, offset = 1 } }
      each_bad("poll", function(t) return p:poll(t) end)
      each_bad("flush", function(t) return p:flush(t) end)
      each_bad("metadata", function(t) return p:metadata("hostile", t) end)
      each_bad("init_transactions", function(t) return p:init_transactions(t) end)
      each_bad("commit_transaction", function(t) return p:commit_transaction(t) end)
      each_bad("abort_transaction", function(t) return p:abort_transaction(t) end)
      each_bad("send_offsets_to_transaction", function(t) return p:send_offsets_to_transaction("g", list, t) end)
      each_bad("close", function(t) return p:close(t) end)
      assert.are.equal(0, p:close(1)) -- the refused closes left it open
    end)

    it("negative, NaN or not numbers raise on every consumer call that takes one", function()
      local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
      local list = { { topic = "hostile", partition = 0, offset = 0 } }
      each_bad("poll", function(t) return c:poll(t) end)
      each_bad("consume", function(t) return c:consume(1, t) end)
      each_bad("consume_columns", function(t) return c:consume_columns(1, t) end)
      each_bad("commit", function(t) return c:commit(list, t) end)
      each_bad("committed", function(t) return c:committed(list, t) end)
      each_bad("seek", function(t) return c:seek(list, t) end)
      each_bad("watermarks", function(t) return c:watermarks("hostile", 0, t) end)
      each_bad("offsets_for_times", function(t)
        return c:offsets_for_times({ { topic = "hostile", partition = 0, timestamp = 0 } }, t)
      end)
      each_bad("metadata", function(t) return c:metadata("hostile", t) end)
      each_bad("close", function(t) return c:close(t) end)
      for _, t in ipairs(BAD) do
        assert.matches("timeout must be a non%-negative number of seconds", errmsg(function() c:lag(t) end))
      end
      assert.is_true(c:close(5))
    end)

    it("negative, NaN or not numbers raise on admin requests and the runtime's calls", function()
      local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap, log_level = 0 }
      for _, t in ipairs(BAD) do
        for _, call in ipairs {
          function() return a:create_topics({ { name = "x", partitions = 1 } }, t) end,
          function() return a:delete_topics({ "x" }, t) end,
          function() return a:list_consumer_groups(t) end,
          function() return a:describe_consumer_groups({ "g" }, t) end,
          function() return a:list_consumer_group_offsets("g", nil, t) end,
          function() return a:poll(t) end,
          function() return a:metadata("hostile", t) end,
        } do
          assert.matches("timeout must be a non%-negative number of seconds", errmsg(call))
        end
        assert.matches("option 'timeout' must be a non%-negative number of seconds",
          errmsg(function() return a:delete_topics({ "x" }, { timeout = t }) end))
      end
      a:close()
      local pub = service.publisher { brokers = bootstrap, log_level = 0 }
      for _, t in ipairs(BAD) do
        for _, call in ipairs { "poll", "flush", "close" } do
          assert.matches("timeout must be a non%-negative number of seconds",
            errmsg(function() return pub[call](pub, t) end))
        end
      end
      pub:close(1)
      assert.matches("option 'lag_timeout' must be a non%-negative number of seconds",
        errmsg(function() service.new { name = "s", brokers = bootstrap, lag_timeout = -1 } end))
    end)

    -- Found by spec/fuzz/fuzz.lua. librdkafka 2.0.2 releases a group
    -- request's reference twice (rd_kafka_enq_once_del_source_return:
    -- eonce->refcnt > 0, an abort or a corrupted heap) when the request to
    -- the coordinator cannot be built, or when the request had timed out
    -- before the coordinator was found. The module keeps those timeouts
    -- itself and refuses the requests the mock cluster lacks.
    it("group requests the mock cluster lacks are refused with _UNSUPPORTED_FEATURE, never sent", function()
      for _ = 1, 30 do
        local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap, log_level = 0 }
        for _, call in ipairs {
          function() return a:describe_consumer_groups({ "g" }, 0.01) end,
          function() return a:delete_consumer_groups({ "g" }, 5) end,
          function() return a:delete_consumer_group_offsets("g", { { topic = "hostile", partition = 0 } }, 5) end,
        } do
          local res, err = call()
          assert.is_nil(res)
          assert.are.equal("_UNSUPPORTED_FEATURE", err.name)
          assert.matches("mock cluster does not implement this request", err.message)
        end
        a:close(0)
      end
      -- The group requests it has still go out.
      local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap, log_level = 0 }
      local offsets = { { topic = "hostile", partition = 0, offset = 0 } }
      assert.are.same(offsets, assert(a:alter_consumer_group_offsets(helpers.unique("g"), offsets, 10)))
      a:close()
    end)

    it("list_consumer_group_offsets answers NOT_COORDINATOR as an error, and the next call works", function()
      -- librdkafka 2.0.2's own request crashed the process on that answer
      -- (it asks the admin handle's consumer group, which it lacks, for a
      -- new coordinator): the offsets are read through a consumer of the group.
      local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap, log_level = 0 }
      local group = helpers.unique("g")
      local offsets = { { topic = "hostile", partition = 0, offset = 1 } }
      assert.are.same(offsets, assert(a:alter_consumer_group_offsets(group, offsets, 10)))
      for _, partitions in ipairs { { { topic = "hostile", partition = 0 } }, false } do
        mc:push_request_errors("OffsetFetch", "NOT_COORDINATOR")
        local res, err = a:list_consumer_group_offsets(group, partitions or nil, 10)
        assert.is_nil(res)
        assert.are.equal("NOT_COORDINATOR", err.name)
        assert.is_true(err.retriable)
        res = assert(a:list_consumer_group_offsets(group, partitions or nil, 10))
        assert.are.same(offsets, res)
      end
      a:close()
    end)

    it("list_consumer_group_offsets works with any admin config: a consumer's rules, test.mock.num.brokers", function()
      -- The offsets are read through a consumer made from the admin handle's
      -- config: librdkafka checked consumer rules there (this
      -- receive.message.max.bytes is below fetch.max.bytes + 512), and
      -- test.mock.num.brokers gave that consumer a mock cluster of its own.
      -- (librdkafka makes such a handle plaintext whatever security.protocol says.)
      local a = rdkafka.admin { ["test.mock.num.brokers"] = 1, ["receive.message.max.bytes"] = 10000000,
        ["security.protocol"] = "sasl_plaintext", ["sasl.mechanisms"] = "PLAIN",
        ["allow.auto.create.topics"] = true, log_level = 0 }
      assert.is_nil(a:metadata("own", 10).topics[1].error) -- created on the handle's mock cluster
      local group = helpers.unique("g")
      local offsets = { { topic = "own", partition = 0, offset = 7 } }
      assert.are.same(offsets, assert(a:alter_consumer_group_offsets(group, offsets, 10)))
      assert.are.same(offsets, assert(a:list_consumer_group_offsets(group, nil, 10)))
      assert.are.same(offsets, assert(a:list_consumer_group_offsets(group, { { topic = "own", partition = 0 } }, 10)))
      a:close()
    end)

    it("a group request that timed out while the broker was down leaves the process alive when it is back", function()
      local down = helpers.mock_with_topics { t = 1 }
      for i = 1, 3 do
        assert(down:broker_down(1))
        local a = rdkafka.admin { ["bootstrap.servers"] = down.bootstrap_servers, log_level = 0 }
        local group = helpers.unique("g")
        local res, err = a:list_consumer_group_offsets(group, { { topic = "t", partition = 0 } }, 0.2)
        assert.is_nil(res, "round " .. i)
        assert.are.equal("_TIMED_OUT", err.name)
        assert(down:broker_up(1))
        -- The coordinator turns up now: librdkafka 2.0.2 aborted here when
        -- its own timeout had run out first.
        local deadline = helpers.now() + 1.5
        while helpers.now() < deadline do a:poll(0.1) end
        res = assert(a:list_consumer_group_offsets(group, { { topic = "t", partition = 0 } }, 10))
        assert.are.equal("t", res[1].topic)
        assert.is_nil(res[1].offset)
        a:close(1)
      end
      down:close()
    end)
    -- A cooperative-sticky consumer destroyed after it joined and before its
    -- first assignment: spec/unit/11-groups_spec.lua.

    it("huge ones are taken as 'wait as long as it takes', and return as soon as the answer is there", function()
      -- Only where the answer comes at once: poll would wait that long for
      -- a message that never comes, and an admin request (capped at an
      -- hour) for an answer the mock cluster never gives.
      local p = producer()
      assert.are.equal(0, p:flush(math.huge))
      assert.are.equal(0, p:flush(1e300))
      assert.is_true(p:produce("hostile", "for huge timeouts"))
      assert.are.equal(0, p:flush(2 ^ 63))
      assert.is_table(p:metadata("hostile", math.huge))
      assert.are.equal(0, p:close(math.huge))
      local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
      assert(c:assign { { topic = "hostile", partition = 0, offset = "beginning" } })
      assert.is_table(c:poll(math.huge))
      assert.are.equal(1, #c:consume(1, 1e300))
      local low, high = c:watermarks("hostile", 0, math.huge)
      assert.are.equal(0, low)
      assert.is_true(high >= 2)
      assert.is_true(c:commit({ { topic = "hostile", partition = 0, offset = 2 } }, math.huge))
      assert.are.equal(2, c:committed({ { topic = "hostile", partition = 0 } }, math.huge)[1].offset)
      assert.is_true(c:seek({ topic = "hostile", partition = 0, offset = 0 }, 2 ^ 63))
      assert.is_table(c:lag(math.huge))
      assert.is_true(c:close(math.huge))
    end)
  end)
end)

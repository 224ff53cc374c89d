-- Fault injection on the mock cluster: delays, request errors, leaders and
-- topic errors, each shown to change what a client sees.
local rdkafka = require("rdkafka")
local helpers = require("helpers")
local errmsg, now = helpers.errmsg, helpers.now

-- A producer on `mc` that keeps its reports: reports[i] = {err=, msg=, at=}.
local function producer(mc, reports, extra)
  local conf = { ["bootstrap.servers"] = mc.bootstrap_servers, ["log_level"] = 0,
    on_delivery = function(err, msg) reports[#reports + 1] = { err = err, msg = msg, at = now() } end,
    on_error = function() end, on_log = function() end }
  for k, v in pairs(extra or {}) do conf[k] = v end
  local p = rdkafka.producer(conf)
  return p
end

-- The messages of partition 0 of `topic`, read from the start: waits up to
-- 15 s for the first, then `seconds` more for any copy.
local function read_back(mc, topic, seconds)
  local c = rdkafka.consumer(helpers.consumer_conf(mc.bootstrap_servers, helpers.unique("g")))
  assert(c:assign { { topic = topic, partition = 0, offset = "beginning" } })
  local got = helpers.consume(c, 1, 15)
  for _, msg in ipairs(helpers.drain(c, seconds)) do got[#got + 1] = msg end
  c:close()
  return got
end

describe("mock cluster faults", function()
  local mc
  before_each(function()
    mc = rdkafka.mock_cluster { brokers = 2 }
  end)
  after_each(function()
    mc:close()
  end)

  it("set_rtt delays a broker's answers", function()
    assert.is_true(mc:create_topic("slow", 1, 1))
    local reports = {}
    local p = producer(mc, reports)
    assert(p:metadata("slow", 5)) -- connected before the delay starts
    assert.is_true(mc:set_rtt(1, 0.5))
    assert.is_true(mc:set_rtt(2, 0.5))
    local started = now()
    assert.is_true(p:produce("slow", "late"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal(1, #reports)
    assert.is_nil(reports[1].err)
    assert.is_true(reports[1].at - started >= 0.4, "delivered after " .. (reports[1].at - started) .. " s")
    assert.is_true(mc:set_rtt(1, 0))
    p:close()
  end)

  it("retriable Produce errors are retried and the message lands exactly once", function()
    assert.is_true(mc:create_topic("retried", 1, 2))
    local reports = {}
    local p = producer(mc, reports) -- idempotent (the module's default)
    assert(p:metadata("retried", 5))
    assert.is_true(mc:push_request_errors("Produce", "NOT_LEADER_FOR_PARTITION",
      "NOT_LEADER_FOR_PARTITION", rdkafka.errors.NOT_LEADER_FOR_PARTITION))
    assert.is_true(p:produce("retried", "once"))
    assert.are.equal(0, p:flush(8))
    assert.are.equal(1, #reports)
    assert.is_nil(reports[1].err)
    p:close()
    local got = read_back(mc, "retried", 1.5)
    assert.are.equal(1, #got)
    assert.are.equal("once", got[1].value)
  end)

  it("pushed errors answer requests in order, one each", function()
    -- Three retriable errors are used up by retries; the fourth, which
    -- cannot be retried, is the one the delivery report gets.
    assert.is_true(mc:create_topic("ordered", 1, 1))
    local reports = {}
    local p = producer(mc, reports)
    assert(p:metadata("ordered", 5))
    assert.is_true(mc:push_request_errors("Produce", "NOT_LEADER_FOR_PARTITION", "NOT_LEADER_FOR_PARTITION",
      "NOT_LEADER_FOR_PARTITION", "TOPIC_AUTHORIZATION_FAILED"))
    assert.is_true(p:produce("ordered", "refused"))
    assert.are.equal(0, p:flush(8))
    assert.are.equal(1, #reports)
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED", reports[1].err.name)
    assert.is_false(reports[1].err.retriable)
    assert.are.equal("refused", reports[1].msg.value)
    -- Nothing is left pushed: the next message lands (on another topic:
    -- librdkafka now refuses this one locally, as it was refused access).
    assert.is_true(mc:create_topic("ordered-2", 1, 1))
    assert.is_true(p:produce("ordered-2", "accepted"))
    assert.are.equal(0, p:flush(5))
    assert.is_nil(reports[2].err)
    p:close()
  end)

  it("a non-retriable Produce error comes in the delivery report", function()
    assert.is_true(mc:create_topic("big", 1, 1))
    local reports = {}
    local p = producer(mc, reports)
    assert(p:metadata("big", 5))
    assert.is_true(mc:push_request_errors(0, "MSG_SIZE_TOO_LARGE"))
    assert.is_true(p:produce("big", "too big, says the broker"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal(1, #reports)
    assert.are.equal("MSG_SIZE_TOO_LARGE", reports[1].err.name)
    assert.is_false(reports[1].err.fatal)
    assert.are.equal("too big, says the broker", reports[1].msg.value)
    p:close()
  end)

  it("an error that makes an idempotent producer fatal says so in the delivery report", function()
    assert.is_true(mc:create_topic("desync", 1, 1))
    local reports, errors = {}, {}
    local p = producer(mc, reports, { on_error = function(err) errors[#errors + 1] = err end })
    assert(p:metadata("desync", 5))
    assert.is_true(mc:push_request_errors("Produce", "OUT_OF_ORDER_SEQUENCE_NUMBER"))
    assert.is_true(p:produce("desync", "v"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal(1, #reports)
    assert.are.equal("OUT_OF_ORDER_SEQUENCE_NUMBER", reports[1].err.name)
    assert.is_true(reports[1].err.fatal)
    assert.is_true(#errors >= 1)
    assert.is_true(errors[1].fatal)
    assert.are.equal("OUT_OF_ORDER_SEQUENCE_NUMBER", errors[1].name)
    p:close(1)
  end)

  it("clear_request_errors forgets what was pushed", function()
    assert.is_true(mc:create_topic("cleared", 1, 1))
    local reports = {}
    local p = producer(mc, reports)
    assert(p:metadata("cleared", 5))
    assert.is_true(mc:push_request_errors("Produce", "TOPIC_AUTHORIZATION_FAILED"))
    assert.is_true(mc:clear_request_errors("Produce"))
    assert.is_true(p:produce("cleared", "v"))
    assert.are.equal(0, p:flush(5))
    assert.is_nil(reports[1].err)
    p:close()
  end)

  it("_TRANSPORT drops the connection; the message is sent again", function()
    assert.is_true(mc:create_topic("dropped", 1, 1))
    local reports, errors = {}, {}
    local p = producer(mc, reports, { on_error = function(err) errors[#errors + 1] = err end })
    assert(p:metadata("dropped", 5))
    assert.is_true(mc:push_request_errors("Produce", "_TRANSPORT"))
    assert.is_true(p:produce("dropped", "v"))
    assert.are.equal(0, p:flush(8))
    assert.is_nil(reports[1].err)
    local transport = false
    for _, err in ipairs(errors) do transport = transport or err.name == "_TRANSPORT" end
    assert.is_true(transport, "no disconnection was reported")
    p:close()
    assert.are.equal(1, #read_back(mc, "dropped", 1.5))
  end)

  it("push_broker_request_errors delays and fails one broker's answers", function()
    assert.is_true(mc:create_topic("one-broker", 1, 1))
    local p0 = producer(mc, {})
    local leader = assert(p0:metadata("one-broker", 5)).topics[1].partitions[1].leader
    p0:close()
    local reports = {}
    local p = producer(mc, reports)
    assert(p:metadata("one-broker", 5))
    assert.is_true(mc:push_broker_request_errors(leader, "Produce", { "NO_ERROR", 0.5 },
      { "TOPIC_AUTHORIZATION_FAILED", 0 }))
    local started = now()
    assert.is_true(p:produce("one-broker", "slow"))
    assert.are.equal(0, p:flush(5))
    assert.is_nil(reports[1].err)
    assert.is_true(reports[1].at - started >= 0.4, "delivered after " .. (reports[1].at - started) .. " s")
    assert.is_true(p:produce("one-broker", "refused"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED", reports[2].err.name)
    p:close()
  end)

  it("set_partition_leader moves a leader, or leaves a partition without one", function()
    assert.is_true(mc:create_topic("moved", 1, 2))
    local reports = {}
    local p = producer(mc, reports, { ["message.timeout.ms"] = 1000 })
    assert.is_true(mc:set_partition_leader("moved", 0, -1))
    assert.are.equal(-1, assert(p:metadata("moved", 5)).topics[1].partitions[1].leader)
    assert.is_true(p:produce("moved", "nowhere to go"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal("_MSG_TIMED_OUT", reports[1].err.name)
    for _, id in ipairs { 2, 1 } do
      assert.is_true(mc:set_partition_leader("moved", 0, id))
      assert.are.equal(id, assert(p:metadata("moved", 5)).topics[1].partitions[1].leader)
    end
    p:close()
    -- A producer without the 1 s message timeout: the first one may still be
    -- waiting for its next metadata refresh to learn the new leader.
    local landed = {}
    local p2 = producer(mc, landed)
    assert.is_true(p2:produce("moved", "landed"))
    assert.are.equal(0, p2:flush(30))
    assert.is_nil(landed[1].err)
    p2:close()
    -- Past the topic's partitions: Kafka's error, nothing created.
    local ok, err = mc:set_partition_leader("moved", 5, 1)
    assert.is_nil(ok)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", err.name)
  end)

  it("set_topic_error makes the brokers answer a topic's metadata with an error", function()
    assert.is_true(mc:create_topic("forbidden", 1, 1))
    local p = producer(mc, {})
    assert.is_true(mc:set_topic_error("forbidden", "TOPIC_AUTHORIZATION_FAILED"))
    local md = assert(p:metadata("forbidden", 5))
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED", md.topics[1].error.name)
    assert.is_true(mc:set_topic_error("forbidden", "NO_ERROR"))
    md = assert(p:metadata("forbidden", 5))
    assert.is_nil(md.topics[1].error)
    p:close()
  end)

  it("names what is wrong with its arguments", function()
    local function raises(pattern, fn) assert.matches(pattern, errmsg(fn)) end
    raises("#1 to 'set_rtt' %(no broker with that id%)", function() mc:set_rtt(3, 1) end)
    raises("#1 to 'set_rtt' %(number expected", function() mc:set_rtt("one", 1) end)
    raises("#2 to 'set_rtt' %(seconds must be a number between 0 and 3600%)", function() mc:set_rtt(1, -0.1) end)
    raises("#2 to 'set_rtt' %(seconds must be", function() mc:set_rtt(1, 0 / 0) end)
    raises("#2 to 'set_rtt' %(seconds must be", function() mc:set_rtt(1, math.huge) end)
    raises("#1 to 'push_request_errors' %(unknown Kafka request type 'Produse'%)",
      function() mc:push_request_errors("Produse", "NOT_LEADER_FOR_PARTITION") end)
    raises("#1 to 'push_request_errors' %(request type must be between 0 and 51%)",
      function() mc:push_request_errors(-1, 1) end)
    raises("#1 to 'push_request_errors' %(request type name or number expected, got table%)",
      function() mc:push_request_errors({}, 1) end)
    raises("#2 to 'push_request_errors' %(at least one error expected%)",
      function() mc:push_request_errors("Fetch") end)
    raises("#2 to 'push_request_errors' %(unknown error name 'NOT_A_LEADER'%)",
      function() mc:push_request_errors("Fetch", "NOT_A_LEADER") end)
    raises("#3 to 'push_request_errors' %(unknown error code%)",
      function() mc:push_request_errors("Fetch", 6, 100000) end)
    raises("#2 to 'push_request_errors' %(_TIMED_OUT is not an error a broker answers with",
      function() mc:push_request_errors("Fetch", "_TIMED_OUT") end)
    raises("#2 to 'push_request_errors' %(NO_ERROR is not an error a broker answers with",
      function() mc:push_request_errors("Fetch", 0) end)
    raises("#2 to 'push_request_errors' %(error name or code expected, got boolean%)",
      function() mc:push_request_errors("Fetch", true) end)
    raises("#3 to 'push_broker_request_errors' %({error, seconds} pair expected%)",
      function() mc:push_broker_request_errors(1, "Fetch", "NOT_LEADER_FOR_PARTITION") end)
    raises("#3 to 'push_broker_request_errors' %(seconds must be",
      function() mc:push_broker_request_errors(1, "Fetch", { "NOT_LEADER_FOR_PARTITION", -1 }) end)
    raises("#3 to 'push_broker_request_errors' %({error, seconds}: the error is missing%)",
      function() mc:push_broker_request_errors(1, "Fetch", {}) end)
    raises("#1 to 'push_broker_request_errors' %(no broker with that id%)",
      function() mc:push_broker_request_errors(0, "Fetch", { 6, 0 }) end)
    raises("#1 to 'clear_request_errors' %(unknown Kafka request type",
      function() mc:clear_request_errors("produce") end)
    raises("#1 to 'set_partition_leader' %(topic name must be a non%-empty string%)",
      function() mc:set_partition_leader("", 0, 1) end)
    raises("#1 to 'set_partition_leader' %(topic name must be",
      function() mc:set_partition_leader("a\0b", 0, 1) end)
    raises("#2 to 'set_partition_leader' %(partition must be between 0 and 99999%)",
      function() mc:set_partition_leader("t", -1, 1) end)
    raises("#3 to 'set_partition_leader' %(no broker with that id %(%-1: no leader%)%)",
      function() mc:set_partition_leader("t", 0, 3) end)
    raises("#2 to 'set_topic_error' %(_TRANSPORT is not a topic's error%)",
      function() mc:set_topic_error("t", "_TRANSPORT") end)
    raises("#2 to 'set_topic_error' %(error name or code expected, got no value%)",
      function() mc:set_topic_error("t") end)
    local closed = rdkafka.mock_cluster()
    closed:close()
    for _, call in ipairs {
      function() closed:set_rtt(1, 0) end,
      function() closed:push_request_errors("Produce", 6) end,
      function() closed:push_broker_request_errors(1, "Produce", { 6, 0 }) end,
      function() closed:clear_request_errors("Produce") end,
      function() closed:set_partition_leader("t", 0, 1) end,
      function() closed:set_topic_error("t", 6) end,
    } do
      raises("attempt to use a closed rdkafka.MockCluster", call)
    end
  end)
end)

-- Transactions against the real Apache Kafka broker started by
-- `scripts/kafka up` (tag: kafka): what read_committed and read_uncommitted
-- consumers see, offsets committed with a transaction, and Kafka's errors.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("#kafka transactions on a real broker", function()
  local bootstrap
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
    helpers.transactions_ready(bootstrap)
  end)

  local function transactional(id, extra)
    local conf = { ["bootstrap.servers"] = bootstrap, ["transactional.id"] = id or helpers.unique("txn") }
    for k, v in pairs(extra or {}) do conf[k] = v end
    local p = rdkafka.producer(conf)
    assert.is_true(p:init_transactions())
    return p
  end

  local function consumer(isolation, group)
    return rdkafka.consumer(helpers.consumer_conf(bootstrap, group or helpers.unique("reader"),
      { ["isolation.level"] = isolation }))
  end

  -- The values a consumer of the one-partition topic reads up to and
  -- including `marker`, which is committed last: everything before it in the
  -- log has been seen or skipped by then.
  local function read_until(c, topic, marker)
    assert.is_true(c:subscribe(topic))
    local got = {}
    local reached = helpers.wait_until(60, function()
      local msg, err = c:poll(0.2)
      assert(err == nil or err.name == "_PARTITION_EOF", tostring(err))
      if msg then got[#got + 1] = msg.value end
      return msg ~= nil and msg.value == marker
    end)
    assert.is_truthy(reached, "never read " .. marker .. " (read: " .. table.concat(got, ",") .. ")")
    c:close()
    return got
  end

  local function commit_marker(p, topic)
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce(topic, "end"))
    assert.is_true(p:commit_transaction())
  end

  it("committed messages reach a read_committed consumer, with their reports served by the commit", function()
    local topic = helpers.unique("txn-commit")
    helpers.create_topic(topic, 1)
    local reported = {}
    local p = transactional(nil, { on_delivery = function(err, msg)
      assert(err == nil, tostring(err))
      reported[#reported + 1] = msg.opaque
    end })
    assert.is_true(p:begin_transaction())
    for i = 1, 10 do assert.is_true(p:produce(topic, "c" .. i, nil, nil, i)) end
    assert.is_true(p:commit_transaction())
    assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, reported)
    assert.are.equal(0, p:pending())
    commit_marker(p, topic)
    assert.are.equal(0, p:close())
    assert.are.same({ "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "end" },
      read_until(consumer("read_committed"), topic, "end"))
  end)

  it("aborted messages are invisible to read_committed and visible to read_uncommitted", function()
    local topic = helpers.unique("txn-abort")
    helpers.create_topic(topic, 1)
    local p = transactional()
    assert.is_true(p:begin_transaction())
    for i = 1, 5 do assert.is_true(p:produce(topic, "a" .. i)) end
    assert.is_true(p:abort_transaction())
    assert.are.equal(0, p:pending())
    assert.is_true(p:begin_transaction())
    for i = 1, 3 do assert.is_true(p:produce(topic, "c" .. i)) end
    assert.is_true(p:commit_transaction())
    commit_marker(p, topic)
    p:close()
    assert.are.same({ "c1", "c2", "c3", "end" }, read_until(consumer("read_committed"), topic, "end"))
    assert.are.same({ "a1", "a2", "a3", "a4", "a5", "c1", "c2", "c3", "end" },
      read_until(consumer("read_uncommitted"), topic, "end"))
  end)

  it("aborting right after producing never fails (30 producers, a transaction committed first)", function()
    -- librdkafka 2.0.2 alone fails such an abort fatally now and then
    -- (INVALID_TXN_STATE, upstream #4849); abort_transaction delivers first.
    local topic = helpers.unique("txn-abort-now")
    helpers.create_topic(topic, 3)
    local failures = {}
    for run = 1, 30 do
      local p = transactional(helpers.unique("abort-now"), { on_delivery = function() end })
      assert.is_true(p:begin_transaction())
      assert.is_true(p:produce(topic, "warm-up"))
      assert.is_true(p:commit_transaction())
      assert.is_true(p:begin_transaction())
      for i = 1, 5 do assert.is_true(p:produce(topic, run .. ":" .. i)) end
      local ok, err = p:abort_transaction()
      if not ok then failures[#failures + 1] = tostring(err) end
      assert.are.equal(0, p:pending())
      p:close(0)
    end
    assert.are.same({}, failures)
    helpers.settle()
  end)

  it("offsets sent to a transaction are committed for the group only when it commits", function()
    local input, output = helpers.unique("txn-in"), helpers.unique("txn-out")
    helpers.create_topic(input, 1)
    helpers.create_topic(output, 1)
    local plain = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 10 do assert.is_true(plain:produce(input, "in" .. i)) end
    assert.are.equal(0, plain:flush(30))
    plain:close()
    local group = helpers.unique("transformer")
    local c = consumer("read_committed", group)
    assert.is_true(c:subscribe(input))
    local got = helpers.consume(c, 10, 60)
    assert.are.equal(10, #got)
    local p = transactional()
    local partition = { { topic = input, partition = 0 } }
    local function committed()
      local list = assert(c:committed(partition, 10))
      return list[1].offset
    end
    -- Aborted: the group's offset does not move.
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce(output, "out1"))
    assert.is_true(p:send_offsets_to_transaction(c, { { topic = input, partition = 0, offset = 5 } }))
    assert.is_true(p:abort_transaction())
    assert.is_nil(committed())
    -- Committed: it does, to the next offset to read.
    assert.is_true(p:begin_transaction())
    assert.is_true(p:produce(output, "out2"))
    assert.is_true(p:send_offsets_to_transaction(c, { { topic = input, partition = 0, offset = 10 } }))
    assert.is_true(p:commit_transaction())
    assert.are.equal(10, committed())
    c:close()
    -- A group id alone (no member) works too.
    local other = helpers.unique("standalone")
    assert.is_true(p:begin_transaction())
    assert.is_true(p:send_offsets_to_transaction(other, { { topic = input, partition = 0, offset = 7 } }))
    assert.is_true(p:commit_transaction())
    p:close()
    local probe = consumer("read_committed", other)
    assert.are.equal(7, assert(probe:committed(partition, 10))[1].offset)
    probe:close()
  end)

  it("return Kafka's errors: begin twice, commit without begin, no transactional.id", function()
    local p = transactional()
    local ok, err = p:commit_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name)
    assert.is_true(p:begin_transaction())
    ok, err = p:begin_transaction()
    assert.is_nil(ok)
    assert.are.equal("_STATE", err.name)
    assert.is_false(err.fatal)
    assert.is_true(p:abort_transaction())
    p:close()
    local plain = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    ok, err = plain:init_transactions()
    assert.is_nil(ok)
    assert.are.equal("_NOT_CONFIGURED", err.name)
    ok, err = plain:begin_transaction()
    assert.is_nil(ok)
    assert.are.equal("_NOT_CONFIGURED", err.name)
    plain:close()
  end)

  it("a second producer with the same transactional.id fences the first, whose open transaction is aborted", function()
    local topic = helpers.unique("txn-fence")
    helpers.create_topic(topic, 1)
    local id = helpers.unique("fenced")
    local errors = {}
    local first = transactional(id, { on_error = function(e) errors[#errors + 1] = e end,
      on_delivery = function() end })
    assert.is_true(first:begin_transaction())
    assert.is_true(first:produce(topic, "zombie1"))
    assert.are.equal(0, first:flush(30))
    local second = transactional(id)
    -- The first one's next produce reaches the broker with the old epoch.
    assert.is_true(first:produce(topic, "zombie2"))
    local ok, err = first:commit_transaction()
    assert.is_nil(ok)
    assert.is_true(err.fatal or err.txn_requires_abort, "neither fatal nor abortable: " .. tostring(err))
    assert.is_truthy(({ _FENCED = true, PRODUCER_FENCED = true, INVALID_PRODUCER_EPOCH = true })[err.name],
      tostring(err))
    if err.fatal then
      ok, err = first:begin_transaction()
      assert.is_nil(ok)
      assert.is_true(err.fatal)
    end
    first:close(1)
    assert.is_true(second:begin_transaction())
    assert.is_true(second:produce(topic, "survivor"))
    assert.is_true(second:commit_transaction())
    commit_marker(second, topic)
    second:close()
    assert.are.same({ "survivor", "end" }, read_until(consumer("read_committed"), topic, "end"))
  end)
end)

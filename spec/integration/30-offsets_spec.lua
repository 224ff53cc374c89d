-- Offsets on the real Apache Kafka broker (tag: kafka): watermarks,
-- offsets_for_times, committed, seek.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("#kafka offsets on a real broker", function()
  local bootstrap, topic
  -- An hour ago: a fixed date in the past would be older than the broker's
  -- retention (7 days), and its log could be deleted under the spec.
  local base_ts = math.floor(require("rdkafka.core").time_ms()) - 3600 * 1000
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
    topic = helpers.unique("offsets")
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    -- Ten messages in partition 0, a second apart in their timestamps.
    for i = 0, 9 do
      assert(p:produce { topic = topic, partition = 0, value = tostring(i), timestamp = base_ts + i * 1000 })
    end
    assert.are.equal(0, p:flush(30))
    p:close()
  end)

  it("watermarks, offsets_for_times, committed and seek agree with what was produced", function()
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("offsets")))
    assert(c:subscribe(topic))
    local got = helpers.consume(c, 10, 60)
    assert.are.equal(10, #got)
    local low, high = c:watermarks(topic, 0, 10)
    assert.are.equal(0, low)
    assert.are.equal(10, high)
    -- Between the 5th and 6th message: the 6th; after the last: none.
    local found = assert(c:offsets_for_times({ { topic = topic, partition = 0, timestamp = base_ts + 4500 } }, 10))
    assert.are.equal(5, found[1].offset)
    local after = assert(c:offsets_for_times({ { topic = topic, partition = 0, timestamp = base_ts + 60000 } }, 10))
    assert.is_nil(after[1].offset)
    local p0 = { { topic = topic, partition = 0 } }
    assert.is_nil(c:committed(p0, 10)[1].offset)
    assert.is_true(c:commit(got[6]))
    assert.are.equal(6, c:committed(p0, 10)[1].offset)
    assert.is_true(c:seek({ topic = topic, partition = 0, offset = found[1].offset }, 10))
    assert.are.equal("5", helpers.consume(c, 1, 30)[1].value)
    assert.is_true(c:close())
  end)

  it("lag is 0 after consuming everything and N after N more are produced", function()
    local lag_topic = helpers.unique("lag")
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, 30 do assert(p:produce { topic = lag_topic, key = tostring(i), value = "v" }) end
    assert.are.equal(0, p:flush(30))
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("lag")))
    assert(c:subscribe(lag_topic))
    assert.are.equal(30, #helpers.consume(c, 30, 60))
    local function total()
      local sum = 0
      for _, entry in ipairs(assert(c:lag(10))) do sum = sum + entry.lag end
      return sum
    end
    assert.are.equal(0, total())
    for i = 1, 7 do assert(p:produce { topic = lag_topic, key = tostring(i), value = "more" }) end
    assert.are.equal(0, p:flush(30))
    assert.are.equal(7, total())
    p:close()
    assert.is_true(c:close())
  end)
end)

-- on_throttle against the real Apache Kafka broker (tag: kafka): a client id
-- with a small produce quota (set by `scripts/kafka quota`, librdkafka 2.0.2
-- cannot) is throttled, and the broker says so in its responses.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

describe("#kafka on_throttle", function()
  local bootstrap
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
  end)

  local function quota(client_id, rate)
    local ok = os.execute(("scripts/kafka quota '%s' %s"):format(client_id, rate))
    assert(ok == true or ok == 0, "scripts/kafka quota failed")
  end

  it("tells a producer over its quota which broker throttles it, and for how long", function()
    local client_id = helpers.unique("throttled")
    local topic = helpers.unique("throttle")
    helpers.create_topic(topic, 1)
    quota(client_id, 10240) -- 10 KB/s
    local notes = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["client.id"] = client_id,
      on_delivery = function() end,
      on_throttle = function(broker, seconds, broker_id)
        notes[#notes + 1] = { broker = broker, seconds = seconds, broker_id = broker_id }
      end }
    local value = ("x"):rep(10000)
    -- Quotas reach the broker through the metadata log: produce until a
    -- throttled response comes (one over 100 KB is enough once it applies).
    local throttled = helpers.wait_until(60, function()
      for _ = 1, 20 do p:produce(topic, value) end
      p:poll(0.5)
      for _, note in ipairs(notes) do
        if note.seconds > 0 then return note end
      end
      return false
    end)
    p:close(0)
    quota(client_id, "none")
    assert.is_truthy(throttled, "no throttled response within 60 s")
    local brokers = {}
    for address in bootstrap:gmatch("[^,]+") do brokers[address] = true end
    assert.is_true(brokers[throttled.broker], throttled.broker .. " is not one of " .. bootstrap)
    assert.are.equal("number", type(throttled.broker_id))
    assert.is_true(throttled.broker_id >= 1)
    assert.is_true(throttled.seconds > 0)
    helpers.settle()
  end)

  -- A throttled client's connection is muted by the broker: the produce
  -- requests sent meanwhile wait there, in flight, and the messages behind
  -- them wait in the producer's queue.
  it("purges what is queued with _PURGE_QUEUE and what is in flight with _PURGE_INFLIGHT", function()
    local client_id = helpers.unique("purged")
    local topic = helpers.unique("purge")
    helpers.create_topic(topic, 1)
    quota(client_id, 1024)
    local reports, fatal = {}, nil
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, ["client.id"] = client_id,
      ["linger.ms"] = 0,
      on_delivery = function(err) local name = err and err.name or "delivered"
        reports[name] = (reports[name] or 0) + 1
      end,
      on_error = function(err) if err.fatal then fatal = err end end }
    local value = ("x"):rep(10000)
    local produced, rounds = 0, 0
    -- Each round queues 20 messages, lets the producer send what it may,
    -- then purges the queue and the requests in flight. Until the quota
    -- applies they are delivered instead.
    local both = helpers.wait_until(60, function()
      rounds = rounds + 1
      for _ = 1, 20 do
        assert(p:produce(topic, value))
        produced = produced + 1
      end
      p:poll(0.3)
      assert.is_true(p:purge(true, false))
      assert.is_true(p:purge(false, true))
      helpers.wait_until(30, function()
        p:poll(0.1)
        return p:pending() == 0
      end)
      assert.are.equal(0, p:pending())
      return (reports._PURGE_QUEUE or 0) > 0 and (reports._PURGE_INFLIGHT or 0) > 0
    end)
    p:close(0)
    quota(client_id, "none")
    assert.is_truthy(both, ("not both purged in %d rounds of 20: %s queued, %s in flight"):format(
      rounds, tostring(reports._PURGE_QUEUE), tostring(reports._PURGE_INFLIGHT)))
    local total = 0
    for name, n in pairs(reports) do
      assert.is_truthy(name == "delivered" or name == "_PURGE_QUEUE" or name == "_PURGE_INFLIGHT", name)
      total = total + n
    end
    assert.are.equal(produced, total) -- each message reported once
    assert.is_nil(fatal)
    helpers.settle()
  end)
end)

-- Against the 3-broker cluster of `scripts/kafka up --brokers 3` (tag: cluster3):
-- topics are created with replication factor 3 and min.insync.replicas 2.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

local function replicas_of(bootstrap, topic)
  local pipe = assert(io.popen(("kcat -L -b '%s' -t '%s' 2>&1"):format(bootstrap, topic)))
  local out = pipe:read("*a")
  pipe:close()
  return out:match("replicas: ([%d,]+)"), out:match("isrs: ([%d,]+)")
end

describe("#cluster3 a 3-broker cluster", function()
  it("serves a topic replicated on all three brokers, with acks=all", function()
    local bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka cluster: run `scripts/kafka up --brokers 3` or set KAFKA_BOOTSTRAP")
    local _, commas = bootstrap:gsub(",", "")
    assert.are.equal(2, commas, "expected three bootstrap servers, got " .. bootstrap)

    local topic = helpers.unique("replicated")
    local failures = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap, acks = "all",
      on_delivery = function(err) if err then failures[#failures + 1] = tostring(err) end end }
    for i = 1, 50 do assert.is_true(p:produce(topic, "m" .. i, "k" .. i)) end
    assert.are.equal(0, p:flush(60))
    assert.are.same({}, failures)
    p:close()

    local replicas, isrs = replicas_of(bootstrap, topic)
    assert.are.equal(3, select(2, (replicas or ""):gsub("%d+", "")), "replicas: " .. tostring(replicas))
    assert.are.equal(3, select(2, (isrs or ""):gsub("%d+", "")), "in-sync replicas: " .. tostring(isrs))

    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("g")))
    c:subscribe(topic)
    assert.are.equal(50, #helpers.consume(c, 50, 90))
    assert.is_true(c:commit())
    c:close()
  end)
end)

-- The admin handle on the real Apache Kafka broker (tag: kafka): topics,
-- partitions, metadata, configs, records, consumer groups and their offsets.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

local function by(list, key)
  local map = {}
  for _, entry in ipairs(list) do map[entry[key]] = entry end
  return map
end

describe("#kafka admin", function()
  local bootstrap, admin
  lazy_setup(function()
    bootstrap = helpers.kafka_bootstrap()
    assert(bootstrap, "no Kafka broker: run `scripts/kafka up` or set KAFKA_BOOTSTRAP")
    admin = rdkafka.admin { ["bootstrap.servers"] = bootstrap }
  end)
  lazy_teardown(function()
    if admin then admin:close() end
  end)

  -- Waits until the broker serves `topic` with `partitions` partitions: the
  -- controller answers create_topics before every broker has the topic.
  local function served(topic, partitions)
    assert.is_truthy(helpers.wait_until(15, function()
      local md = admin:metadata(topic, 10)
      return md and not md.topics[1].error and #md.topics[1].partitions == partitions
    end), "topic " .. topic .. " never served")
  end

  -- Creates topics that the spec then uses.
  local function create(topics)
    local res = assert(admin:create_topics(topics))
    for i, t in ipairs(topics) do
      assert.is_nil(res[i].error, t.name)
      served(t.name, t.partitions)
    end
  end

  local function produce(topic, n, partition)
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    for i = 1, n do assert(p:produce(topic, "m" .. i, "k" .. i, partition)) end
    assert.are.equal(0, p:flush(30))
    p:close()
  end

  it("creates topics with configs, says which already exist, and validate_only creates nothing", function()
    local a, b = helpers.unique("adm-a"), helpers.unique("adm-b")
    local res = assert(admin:create_topics({
      { name = a, partitions = 3, replication_factor = 1, config = { ["retention.ms"] = 3600000 } },
      { name = b, partitions = 1 },
    }, 30))
    assert.are.equal(2, #res)
    assert.are.equal(a, res[1].name)
    assert.is_nil(res[1].error)
    assert.are.equal(b, res[2].name)
    assert.is_nil(res[2].error)
    served(a, 3)
    served(b, 1)
    local cfg = assert(admin:describe_configs({ { type = "topic", name = a } }))[1].configs["retention.ms"]
    assert.are.equal("3600000", cfg.value)
    assert.are.equal("DYNAMIC_TOPIC_CONFIG", cfg.source)
    assert.is_false(cfg.default)

    local again = assert(admin:create_topics({ { name = a, partitions = 3 } }))
    assert.are.equal("TOPIC_ALREADY_EXISTS", again[1].error.name)
    assert.are.equal(a, again[1].name)

    local v = helpers.unique("adm-validate")
    local checked = assert(admin:create_topics({ { name = v, partitions = 2 } }, { validate_only = true }))
    assert.is_nil(checked[1].error)
    local missing = assert(admin:metadata(v, 10))
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", missing.topics[1].error.name)
    -- An invalid config is the topic's own error, not the call's.
    local bad = assert(admin:create_topics({
      { name = v, partitions = 1, config = { ["cleanup.policy"] = "nonsense" } } }))
    assert.are.equal("INVALID_CONFIG", bad[1].error.name)
  end)

  it("metadata lists brokers, the controller, partitions with leaders, replicas and ISR", function()
    local t = helpers.unique("adm-md")
    create({ { name = t, partitions = 2 } })
    local md = assert(admin:metadata(10))
    assert.is_true(#md.brokers >= 1)
    local broker = md.brokers[1]
    assert.are.equal("number", type(broker.id))
    assert.are.equal("127.0.0.1", broker.host)
    assert.are.equal("number", type(broker.port))
    assert.is_truthy(by(md.brokers, "id")[md.controller_id])
    local topic = by(md.topics, "name")[t]
    assert.is_truthy(topic)
    assert.is_nil(topic.error)
    assert.are.equal(2, #topic.partitions)
    for i, p in ipairs(topic.partitions) do
      assert.are.equal(i - 1, p.id)
      assert.are.equal(broker.id, p.leader)
      assert.are.same({ broker.id }, p.replicas)
      assert.are.same({ broker.id }, p.isrs)
    end
    -- Producers and consumers answer the same question.
    local p = rdkafka.producer { ["bootstrap.servers"] = bootstrap }
    local pm = assert(p:metadata(t, 10))
    assert.are.equal(2, #pm.topics[1].partitions)
    p:close()
    -- The admin handle never creates the topic it asks about.
    local ghost = helpers.unique("adm-ghost")
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", assert(admin:metadata(ghost, 10)).topics[1].error.name)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", assert(admin:metadata(ghost, 10)).topics[1].error.name)
  end)

  it("adds partitions, refuses fewer per topic, and deletes topics", function()
    local t = helpers.unique("adm-parts")
    create({ { name = t, partitions = 2 } })
    local res = assert(admin:create_partitions({ { topic = t, count = 5 }, { topic = t .. "-none", count = 2 } }))
    assert.are.equal(t, res[1].topic)
    assert.is_nil(res[1].error)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", res[2].error.name)
    assert.is_truthy(helpers.wait_until(10, function()
      return #assert(admin:metadata(t, 10)).topics[1].partitions == 5
    end))
    local fewer = assert(admin:create_partitions({ { topic = t, count = 3 } }))
    assert.are.equal("INVALID_PARTITIONS", fewer[1].error.name)
    assert.matches("5 partition", fewer[1].error.message)
    local same = assert(admin:create_partitions({ { topic = t, count = 6 } }, { validate_only = true }))
    assert.is_nil(same[1].error)
    assert.are.equal(5, #assert(admin:metadata(t, 10)).topics[1].partitions)

    local gone = assert(admin:delete_topics({ t, t .. "-none" }))
    assert.is_nil(gone[1].error)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", gone[2].error.name)
    assert.is_truthy(helpers.wait_until(10, function()
      local md = assert(admin:metadata(t, 10))
      return md.topics[1].error and md.topics[1].error.name == "UNKNOWN_TOPIC_OR_PART"
    end))
  end)

  -- The configs of a resource once check(configs) holds: a broker applies
  -- a change a moment after the controller took it.
  local function settled(resource, check)
    local cfg
    assert.is_truthy(helpers.wait_until(10, function()
      cfg = assert(admin:describe_configs({ resource }))[1].configs
      return check(cfg)
    end), "the configs did not settle")
    return cfg
  end

  it("alter_configs changes what it is given and keeps what was set before", function()
    local t = helpers.unique("adm-cfg")
    local topic = { type = "topic", name = t }
    create({ { name = t, partitions = 1, config = { ["retention.ms"] = 7200000, ["max.message.bytes"] = 500000 } } })
    local res = assert(admin:alter_configs({ { type = "topic", name = t, configs = { ["retention.ms"] = 1800000 } } }))
    assert.are.equal(t, res[1].name)
    assert.is_nil(res[1].error)
    local cfg = settled(topic, function(c) return c["retention.ms"].value == "1800000" end)
    assert.are.equal("500000", cfg["max.message.bytes"].value) -- kept
    -- reset puts a config back to its default.
    local reset = assert(admin:alter_configs({ { type = "topic", name = t, reset = { "max.message.bytes" } } }))
    assert.is_nil(reset[1].error)
    cfg = settled(topic, function(c) return c["max.message.bytes"].source ~= "DYNAMIC_TOPIC_CONFIG" end)
    assert.are.equal("1800000", cfg["retention.ms"].value)
    -- validate_only changes nothing.
    assert.is_nil(assert(admin:alter_configs({ { type = "topic", name = t, configs = { ["retention.ms"] = 60000 } } },
      { validate_only = true }))[1].error)
    -- replace_configs is Kafka's own AlterConfigs: what is not given goes back to default.
    local replaced = assert(admin:replace_configs({
      { type = "topic", name = t, configs = { ["cleanup.policy"] = "delete" } } }))
    assert.is_nil(replaced[1].error)
    cfg = settled(topic, function(c) return c["cleanup.policy"].source == "DYNAMIC_TOPIC_CONFIG" end)
    assert.are_not.equal("DYNAMIC_TOPIC_CONFIG", cfg["retention.ms"].source) -- validate_only left 1800000, now gone
    assert.are_not.equal("60000", cfg["retention.ms"].value)
    -- Per-resource errors: an unknown topic, an invalid value.
    local errs = assert(admin:alter_configs({
      { type = "topic", name = t .. "-none", configs = { ["retention.ms"] = 1 } },
      { type = "topic", name = t, configs = { ["retention.ms"] = "soon" } },
    }))
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", errs[1].error.name)
    assert.are.equal("INVALID_CONFIG", errs[2].error.name)
  end)

  it("describes a broker's configs by id", function()
    local md = assert(admin:metadata(10))
    local id = md.brokers[1].id
    local res = assert(admin:describe_configs({ { type = "broker", name = id } }))
    assert.are.equal(1, #res)
    assert.are.equal("broker", res[1].type)
    assert.are.equal(tostring(id), res[1].name)
    assert.is_nil(res[1].error)
    local node = res[1].configs["node.id"]
    assert.are.equal(tostring(id), node.value)
    assert.is_true(node.read_only)
    assert.are.equal("STATIC_BROKER_CONFIG", node.source)
    assert.is_false(res[1].configs["num.io.threads"].read_only) -- dynamic: a broker may change it
    assert.are.equal(res[1].configs["num.io.threads"].value,
      assert(admin:describe_configs({ { type = "broker", name = tostring(id) } }))[1].configs["num.io.threads"].value)
    -- librdkafka takes one broker per request and says so.
    local none, err = admin:describe_configs({ { type = "broker", name = id }, { type = "broker", name = id } })
    assert.is_nil(none)
    assert.are.equal("_CONFLICT", err.name)
  end)

  it("alter_configs on a broker id keeps that broker's other dynamic configs", function()
    local id = assert(admin:metadata(10)).brokers[1].id
    local broker = { type = "broker", name = id }
    assert.is_nil(assert(admin:alter_configs({ { type = "broker", name = id,
      configs = { ["message.max.bytes"] = 2000000 } } }))[1].error)
    local cfg = settled(broker, function(c) return c["message.max.bytes"].value == "2000000" end)
    assert.are.equal("DYNAMIC_BROKER_CONFIG", cfg["message.max.bytes"].source)
    assert.is_nil(assert(admin:alter_configs({ { type = "broker", name = tostring(id),
      configs = { ["log.cleaner.backoff.ms"] = 20000 } } }))[1].error)
    cfg = settled(broker, function(c) return c["log.cleaner.backoff.ms"].value == "20000" end)
    assert.are.equal("2000000", cfg["message.max.bytes"].value) -- kept
    assert.is_nil(assert(admin:alter_configs({ { type = "broker", name = id,
      reset = { "message.max.bytes", "log.cleaner.backoff.ms" } } }))[1].error)
    settled(broker, function(c)
      return c["message.max.bytes"].source ~= "DYNAMIC_BROKER_CONFIG"
        and c["log.cleaner.backoff.ms"].source ~= "DYNAMIC_BROKER_CONFIG"
    end)
  end)

  it("delete_records moves the low watermark; a consumer starts after it", function()
    local t = helpers.unique("adm-records")
    create({ { name = t, partitions = 2 } })
    produce(t, 10, 0)
    produce(t, 4, 1)
    -- Results come in the order asked (librdkafka sorts its own copy).
    local res = assert(admin:delete_records({
      { topic = t, partition = 1, offset = "end" }, { topic = t, partition = 0, offset = 6 } }))
    assert.are.equal(2, #res)
    assert.are.equal(1, res[1].partition)
    assert.are.equal(4, res[1].offset)
    assert.is_nil(res[1].error)
    assert.are.equal(0, res[2].partition)
    assert.are.equal(6, res[2].offset)
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("adm-records")))
    local low, high = c:watermarks(t, 0, 10)
    assert.are.equal(6, low)
    assert.are.equal(10, high)
    assert(c:subscribe(t))
    local got = helpers.consume(c, 4, 60)
    assert.are.equal(4, #got)
    for i, m in ipairs(got) do assert.are.equal(5 + i, m.offset) end
    c:close()
    local beyond = assert(admin:delete_records({ { topic = t, partition = 0, offset = 50 } }))
    assert.are.equal("OFFSET_OUT_OF_RANGE", beyond[1].error.name)
    assert.is_nil(beyond[1].offset) -- no low watermark to report
  end)

  it("lists, describes and deletes consumer groups; rewinds a group's offsets", function()
    local t, group = helpers.unique("adm-groups"), helpers.unique("adm-group")
    create({ { name = t, partitions = 2 } })
    produce(t, 6, 0)
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, group, { ["client.id"] = "adm-member" }))
    assert(c:subscribe(t))
    local got = helpers.consume(c, 6, 60)
    assert.are.equal(6, #got)
    assert(c:commit(got[6]))

    local listed = by(assert(admin:list_consumer_groups()), "group_id")[group]
    assert.is_truthy(listed)
    assert.are.equal("Stable", listed.state)
    assert.is_false(listed.simple)
    local described = assert(admin:describe_consumer_groups({ group }))[1]
    assert.are.equal(group, described.group_id)
    assert.is_nil(described.error)
    assert.are.equal("Stable", described.state)
    assert.are.equal(1, #described.members)
    local member = described.members[1]
    assert.are.equal("adm-member", member.client_id)
    assert.are.equal(2, #member.assignment)
    assert.are.equal(t, member.assignment[1].topic)
    assert.is_string(member.member_id)
    assert.is_truthy(described.coordinator.id)

    local offsets = by(assert(admin:list_consumer_group_offsets(group)), "partition")
    assert.are.equal(6, offsets[0].offset)
    local two = assert(admin:list_consumer_group_offsets(group,
      { { topic = t, partition = 1 }, { topic = t, partition = 0 } }, { require_stable = true }))
    assert.are.equal(2, #two)
    assert.are.equal(1, two[1].partition) -- in the order asked
    assert.is_nil(two[1].offset) -- nothing committed there
    assert.are.equal(0, two[2].partition)
    assert.are.equal(6, two[2].offset)

    -- A group with a member cannot be rewound, lose its offsets or be deleted.
    local busy = assert(admin:alter_consumer_group_offsets(group, { { topic = t, partition = 0, offset = 2 } }))
    assert.are.equal("UNKNOWN_MEMBER_ID", busy[1].error.name)
    local subscribed = assert(admin:delete_consumer_group_offsets(group, { { topic = t, partition = 0 } }))
    assert.are.equal("GROUP_SUBSCRIBED_TO_TOPIC", subscribed[1].error.name)
    local in_use = assert(admin:delete_consumer_groups({ group }))
    assert.are.equal("NON_EMPTY_GROUP", in_use[1].error.name)
    assert.are.equal(6, by(assert(admin:list_consumer_group_offsets(group)), "partition")[0].offset)
    c:close()
    -- Stopped, it can: the next member starts at the new offset.
    local rewound = assert(admin:alter_consumer_group_offsets(group, { { topic = t, partition = 0, offset = 2 } }))
    assert.is_nil(rewound[1].error)
    assert.are.equal(2, rewound[1].offset)
    local c2 = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    assert(c2:subscribe(t))
    local again = helpers.consume(c2, 4, 60)
    assert.are.equal(4, #again)
    assert.are.equal(2, again[1].offset)
    c2:close()

    local deleted = assert(admin:delete_consumer_groups({ group, helpers.unique("adm-nogroup") }))
    assert.are.equal(group, deleted[1].group_id)
    assert.is_nil(deleted[1].error)
    assert.are.equal("GROUP_ID_NOT_FOUND", deleted[2].error.name)
    assert.is_nil(by(assert(admin:list_consumer_groups()), "group_id")[group])
  end)

  it("answers for topics and partitions that do not exist", function()
    local t = helpers.unique("adm-unknown")
    local ghost = helpers.unique("adm-ghost")
    create({ { name = t, partitions = 1 } })
    produce(t, 3, 0)
    -- With a partition that exists in the request, the others get their own error.
    local res = assert(admin:delete_records({
      { topic = ghost, partition = 0, offset = 1 }, { topic = t, partition = 0, offset = 1 } }))
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", res[1].error.name)
    assert.is_nil(res[1].offset)
    assert.is_nil(res[2].error)
    assert.are.equal(1, res[2].offset)
    -- With none, librdkafka finds no leader to send it to: the call fails.
    local none, err = admin:delete_records({ { topic = ghost, partition = 0, offset = 1 },
      { topic = t, partition = 5, offset = 1 } })
    assert.is_nil(none)
    assert.are.equal("_NOENT", err.name)

    local described = assert(admin:describe_configs({ { type = "topic", name = ghost }, { type = "topic", name = t } }))
    assert.are.equal(2, #described)
    assert.are.equal(ghost, described[1].name)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", described[1].error.name)
    assert.is_nil(described[2].error)
    assert.is_truthy(described[2].configs["retention.ms"])
  end)

  it("replace_configs says which resources it could not change", function()
    local t = helpers.unique("adm-replace")
    create({ { name = t, partitions = 1, config = { ["retention.ms"] = 7200000 } } })
    local id = assert(admin:metadata(10)).brokers[1].id
    local res = assert(admin:replace_configs({
      { type = "topic", name = t .. "-none", configs = { ["retention.ms"] = 1 } },
      { type = "topic", name = t, configs = { ["retention.ms"] = "soon" } },
      { type = "broker", name = id, configs = { ["node.id"] = 7 } },
    }))
    assert.are.equal(3, #res)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", res[1].error.name)
    assert.are.equal("INVALID_CONFIG", res[2].error.name)
    assert.matches("retention.ms", res[2].error.message)
    assert.are.equal("INVALID_REQUEST", res[3].error.name) -- read-only: not a dynamic config
    assert.matches("node.id", res[3].error.message)
    -- The refused value changed nothing.
    local cfg = assert(admin:describe_configs({ { type = "topic", name = t } }))[1].configs["retention.ms"]
    assert.are.equal("7200000", cfg.value)
  end)

  -- Kafka answers NOT_COORDINATOR for groups until the broker has loaded
  -- its group coordinator (on a new cluster, after the first group request).
  local function coordinator_ready(group)
    assert.is_truthy(helpers.wait_until(30, function()
      local d = assert(admin:describe_consumer_groups({ group }))[1]
      return not (d.error and (d.error.name == "NOT_COORDINATOR" or d.error.name == "COORDINATOR_NOT_AVAILABLE"
        or d.error.name == "COORDINATOR_LOAD_IN_PROGRESS"))
    end), "the group coordinator never became ready")
  end

  it("answers for groups that do not exist", function()
    local t, group = helpers.unique("adm-nogroup"), helpers.unique("adm-nogroup")
    create({ { name = t, partitions = 2 } })
    coordinator_ready(group) -- describing it does not make it
    local described = assert(admin:describe_consumer_groups({ group }))
    assert.are.equal(1, #described)
    assert.are.equal(group, described[1].group_id)
    assert.is_nil(described[1].error)
    assert.are.equal("Dead", described[1].state)
    assert.are.same({}, described[1].members)
    -- No committed offsets: an empty list, or the partitions asked without offsets.
    assert.are.same({}, assert(admin:list_consumer_group_offsets(group)))
    local asked = assert(admin:list_consumer_group_offsets(group, { { topic = t, partition = 1 } }))
    assert.are.same({ { topic = t, partition = 1 } }, asked)
    local none, err = admin:delete_consumer_group_offsets(group, { { topic = t, partition = 0 } })
    assert.is_nil(none)
    assert.are.equal("GROUP_ID_NOT_FOUND", err.name)
    -- Setting offsets makes the group (with no member: Empty); a partition
    -- that does not exist is that entry's error.
    local altered = assert(admin:alter_consumer_group_offsets(group, {
      { topic = t, partition = 0, offset = 2 }, { topic = t, partition = 7, offset = 1 } }))
    assert.is_nil(altered[1].error)
    assert.are.equal(2, altered[1].offset)
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", altered[2].error.name)
    assert.are.equal("Empty", assert(admin:describe_consumer_groups({ group }))[1].state)
    assert.is_nil(assert(admin:delete_consumer_groups({ group }))[1].error)
  end)

  it("delete_consumer_group_offsets drops a stopped group's offsets of the partitions given", function()
    local t, group = helpers.unique("adm-deloff"), helpers.unique("adm-deloff")
    create({ { name = t, partitions = 3 } })
    coordinator_ready(group)
    -- Committed by a consumer that then left: the group has no member.
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, group))
    assert(c:commit({ { topic = t, partition = 0, offset = 4 }, { topic = t, partition = 1, offset = 5 },
      { topic = t, partition = 2, offset = 6 } }, 30))
    c:close()
    assert.are.equal(3, #assert(admin:list_consumer_group_offsets(group)))
    local res = assert(admin:delete_consumer_group_offsets(group,
      { { topic = t, partition = 2 }, { topic = t, partition = 0 } }))
    assert.are.equal(2, #res)
    assert.are.same({ topic = t, partition = 2 }, res[1]) -- in the order asked, no offset, no error
    assert.are.same({ topic = t, partition = 0 }, res[2])
    local left = assert(admin:list_consumer_group_offsets(group))
    assert.are.same({ { topic = t, partition = 1, offset = 5 } }, left)
    local ghost = helpers.unique("adm-ghost")
    local unknown = assert(admin:delete_consumer_group_offsets(group, { { topic = ghost, partition = 0 } }))
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", unknown[1].error.name)
    assert.is_nil(assert(admin:delete_consumer_groups({ group }))[1].error)
  end)

  it("serves its callbacks inside its calls and refuses a closed handle", function()
    local stats = 0
    local a = rdkafka.admin { ["bootstrap.servers"] = bootstrap, ["statistics.interval.ms"] = 100,
      on_stats = function() stats = stats + 1 end }
    assert(a:metadata(10))
    helpers.wait_until(10, function()
      assert(a:list_consumer_groups())
      return stats > 0
    end)
    assert.is_true(stats > 0)
    a:close()
    a:close()
    assert.matches("closed", helpers.errmsg(function() a:create_topics({ { name = "x" } }) end))
    assert.matches("closed", helpers.errmsg(function() a:metadata() end))
    assert.matches("closed", helpers.errmsg(function()
      a:alter_configs({ { type = "topic", name = "x", configs = {} } })
    end))
  end)
end)

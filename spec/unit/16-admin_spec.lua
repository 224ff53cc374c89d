-- The admin handle without a broker: bad input to every method, timeouts,
-- closing, and the calls librdkafka 2.0.2 lacks.
local rdkafka = require("rdkafka")
local helpers = require("helpers")
local unpack = table.unpack or unpack -- luacheck: ignore

local function offline(extra)
  local conf = { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
  for k, v in pairs(extra or {}) do conf[k] = v end
  return rdkafka.admin(conf)
end

describe("admin handle", function()
  local a
  before_each(function() a = offline() end)
  after_each(function() a:close() end)

  it("is made from a config table and says what it is", function()
    assert.matches("^rdkafka.Admin %(", tostring(a))
    assert.is_string(a:name())
    assert.matches("config table expected, got nil", helpers.errmsg(function() rdkafka.admin() end))
    assert.matches("config table expected, got string", helpers.errmsg(function() rdkafka.admin("x") end))
    assert.matches("no.such.key", helpers.errmsg(function() rdkafka.admin { ["no.such.key"] = 1 } end))
    assert.matches("on_delivery", helpers.errmsg(function() rdkafka.admin { on_delivery = print } end))
    assert.matches("on_assign", helpers.errmsg(function() rdkafka.admin { on_assign = print } end))
  end)

  it("refuses bad topic lists, naming the argument and the entry", function()
    local cases = {
      { nil, "list of topic tables expected, got nil" },
      { "t", "list of topic tables expected, got string" },
      { {}, "list of topic tables is empty" },
      { { "t" }, "entry #1 must be a table, got string" },
      { { {} }, "entry #1: field 'name' must be a non%-empty string, got nil" },
      { { { name = "" } }, "entry #1: field 'name' must be a non%-empty string" },
      { { { name = "a\0b" } }, "entry #1: field 'name' must be a non%-empty string" },
      { { { name = "t", partitions = 1.5 } }, "entry #1: field 'partitions' must be an integer" },
      { { { name = "t", partitions = "3" } }, "entry #1: field 'partitions' must be an integer" },
      { { { name = "t", partitions = 1e9 } }, "entry #1: field 'partitions' must be an integer" },
      { { { name = "t", replication_factor = -2 } }, "field 'replication_factor' must be an integer" },
      { { { name = "t" }, { name = "u", config = "x" } }, "entry #2: field 'config' must be a table" },
      { { { name = "t", config = { [1] = "x" } } }, "config keys must be non%-empty strings" },
      { { { name = "t", config = { ["retention.ms"] = {} } } },
        "config 'retention.ms' must be a string, number or boolean" },
    }
    for _, case in ipairs(cases) do
      local msg = helpers.errmsg(function() a:create_topics(case[1]) end)
      assert.matches("bad argument #1 to 'create_topics'", msg, 1, true)
      assert.matches(case[2], msg)
    end
  end)

  it("refuses bad options and timeouts", function()
    local list = { { name = "t" } }
    assert.matches("timeout %(seconds%) or options table expected, got string",
      helpers.errmsg(function() a:create_topics(list, "soon") end))
    assert.matches("non%-negative", helpers.errmsg(function() a:create_topics(list, -1) end))
    assert.matches("non%-negative", helpers.errmsg(function() a:create_topics(list, 0 / 0) end))
    assert.matches("unknown option 'validate'",
      helpers.errmsg(function() a:create_topics(list, { validate = true }) end))
    assert.matches("option 'validate_only' must be a boolean",
      helpers.errmsg(function() a:create_topics(list, { validate_only = "yes" }) end))
    -- validate_only only where Kafka has it.
    assert.matches("unknown option 'validate_only'",
      helpers.errmsg(function() a:delete_topics({ "t" }, { validate_only = true }) end))
    assert.matches("unknown option 'require_stable'",
      helpers.errmsg(function() a:list_consumer_groups({ require_stable = true }) end))
  end)

  it("refuses bad input to the other methods", function()
    local cases = {
      { "delete_topics", { nil }, "list of topic names expected, got nil" },
      { "delete_topics", { { "" } }, "entry #1 must be a non%-empty string" },
      { "delete_topics", { { 1 } }, "entry #1 must be a non%-empty string, got number" },
      { "create_partitions", { { { topic = "t" } } }, "field 'count' must be an integer from 1" },
      { "create_partitions", { { { topic = "t", count = 0 } } }, "field 'count' must be an integer from 1" },
      { "create_partitions", { { { count = 2 } } }, "field 'topic' must be a non%-empty string" },
      { "delete_records", { { { topic = "t", partition = 0 } } }, "field 'offset' must be a non%-negative integer" },
      { "delete_records", { { { topic = "t", partition = 0, offset = "beginning" } } }, "\"end\"" },
      { "delete_records", { {} }, "list of partitions is empty" },
      { "describe_configs", { { { type = "group", name = "g" } } }, "field 'type' must be \"topic\" or \"broker\"" },
      { "describe_configs", { { { type = "topic", name = "" } } }, "field 'name' must be a non%-empty topic name" },
      { "describe_configs", { { { type = "broker", name = -1 } } }, "field 'name' must be a broker id" },
      { "replace_configs", { { { type = "topic", name = "t" } } }, "field 'configs' must be a table, got nil" },
      { "alter_configs", { {} }, "non%-empty list" },
      { "alter_configs", { { { type = "topic", name = "t", configs = 1 } } }, "field 'configs' must be a table" },
      { "alter_configs", { { { type = "topic", name = "t", reset = { 1 } } } },
        "field 'reset' must hold config names" },
      { "alter_configs", { { { type = "topic", name = "t", config = {} } } }, "unknown field 'config'" },
      { "describe_consumer_groups", { "g" }, "list of group ids expected, got string" },
      { "delete_consumer_groups", { { false } }, "entry #1 must be a non%-empty string, got boolean" },
      { "list_consumer_group_offsets", { nil }, "group id must be a non%-empty string, got nil" },
      { "list_consumer_group_offsets", { "" }, "group id must be a non%-empty string" },
      { "list_consumer_group_offsets", { "g", { { topic = "t" } } },
        "field 'partition' must be a non%-negative integer" },
      { "alter_consumer_group_offsets", { "g" }, "list of {topic=, partition=} tables expected, got nil" },
      { "alter_consumer_group_offsets", { "g", { { topic = "t", partition = 0 } } }, "field 'offset' must be" },
      { "metadata", { true }, "topic name or timeout expected, got boolean" },
      { "metadata", { "" }, "topic name must be a non%-empty string" },
      { "metadata", { "t", -1 }, "non%-negative" },
    }
    for _, case in ipairs(cases) do
      local method, args, want = case[1], case[2], case[3]
      local msg = helpers.errmsg(function() a[method](a, unpack(args, 1, 2)) end)
      assert.matches(want, msg)
    end
  end)

  it("answers nil and _TIMED_OUT when no broker answers within the timeout", function()
    local started = helpers.now()
    local res, err = a:create_topics({ { name = "t", partitions = 1 } }, 0.3)
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    res, err = a:list_consumer_groups(0.2)
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    res, err = a:metadata(0.2)
    assert.is_nil(res)
    assert.is_truthy(err)
    assert.is_true(helpers.now() - started < 5)
  end)

  it("serves on_error while it waits", function()
    local errors = {}
    local b = offline { on_error = function(err) errors[#errors + 1] = err end }
    local res = assert(b:describe_consumer_groups({ "g" }, 1.5))
    assert.are.equal("_TIMED_OUT", res[1].error.name) -- the group's own error
    assert.are.equal("g", res[1].group_id)
    assert.is_true(#errors > 0)
    assert.are.equal("table", type(errors[1]))
    b:close()
  end)

  it("raises what a callback raised, after the call", function()
    local b = offline { on_error = function() error("boom in on_error") end }
    assert.matches("boom in on_error", helpers.errmsg(function() b:describe_consumer_groups({ "g" }, 1.5) end))
    pcall(b.close, b) -- may serve (and raise) another one
    assert.matches("closed", tostring(b))
  end)

  it("closes once, by close, by a scope or by the collector, and refuses use after", function()
    a:close()
    a:close()
    assert.matches("^rdkafka.Admin %(closed%)", tostring(a))
    for _, method in ipairs { "create_topics", "delete_topics", "metadata", "describe_configs",
      "list_consumer_groups", "list_consumer_group_offsets", "delete_records", "poll", "name" } do
      assert.matches("attempt to use a closed rdkafka.Admin",
        helpers.errmsg(function() a[method](a, { { name = "t" } }) end))
    end
    do local _ = offline() end
    collectgarbage()
    collectgarbage()
    assert.is_truthy(helpers.settle(30))
  end)

  it("names the librdkafka version a missing admin call needs", function()
    for _, method in ipairs { "list_offsets", "describe_cluster", "describe_topics", "incremental_alter_configs",
      "describe_user_scram_credentials", "alter_user_scram_credentials" } do
      local msg = helpers.errmsg(function() a[method](a) end)
      assert.matches(method .. " needs librdkafka >= 2%.%d%.0", msg)
    end
  end)

  it("metadata on producers and consumers checks its handle", function()
    local p = helpers.offline_producer()
    local res, err = p:metadata("t", 0.2)
    assert.is_nil(res)
    assert.is_truthy(err)
    p:close(0)
    assert.matches("closed", helpers.errmsg(function() p:metadata() end))
    assert.matches("producer, consumer or admin handle expected",
      helpers.errmsg(function() p.metadata(io.stdout) end))
  end)
end)

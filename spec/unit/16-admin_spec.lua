-- The admin handle without a broker: bad input to every method, timeouts,
-- closing, and the calls librdkafka 2.0.2 lacks.
local rdkafka = require("rdkafka")
local helpers = require("helpers")
local unpack = table.unpack or unpack -- luacheck: ignore
local load_string = loadstring or load -- luacheck: ignore (Lua 5.1 load takes no string)

-- The admin calls librdkafka 2.0.2 lacks, and the version that has them.
local missing = {
  list_offsets = "2.3.0", describe_cluster = "2.3.0", describe_topics = "2.3.0",
  incremental_alter_configs = "2.2.0",
  describe_user_scram_credentials = "2.2.0", alter_user_scram_credentials = "2.2.0",
}

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
    local b = offline { on_error = print, on_log = print, on_stats = print, on_throttle = print }
    assert.matches("^rdkafka.Admin %(", tostring(b))
    b:close()
  end)

  it("refuses bad topic lists, naming the argument and the entry", function()
    local cases = {
      { nil, "list of topic tables expected, got nil" },
      { "t", "list of topic tables expected, got string" },
      { {}, "list of topic tables is empty" },
      { { "t" }, "entry #1 must be a table, got string" },
      { { {} }, "entry #1: field 'name' must be a non%-empty string without NUL bytes, got nil" },
      { { { name = "" } }, "entry #1: field 'name' must be a non%-empty string" },
      { { { name = "a\0b" } }, "entry #1: field 'name' must be a non%-empty string without NUL bytes, got NUL bytes" },
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
    -- The argument named is the options table, wherever the timeout is wrong.
    assert.matches("bad argument #2 to 'create_topics' %(option 'timeout' must be a non%-negative number",
      helpers.errmsg(function() a:create_topics(list, { timeout = "1" }) end))
    assert.matches("bad argument #1 to 'list_consumer_groups' %(option 'timeout' must be",
      helpers.errmsg(function() a:list_consumer_groups({ timeout = -1 }) end))
    assert.matches("bad argument #3 to 'list_consumer_group_offsets' %(option 'timeout'",
      helpers.errmsg(function() a:list_consumer_group_offsets("g", nil, { timeout = 0 / 0 }) end))
    assert.matches("bad argument #2 to 'alter_configs' %(option 'timeout'",
      helpers.errmsg(function() a:alter_configs({ { type = "topic", name = "t" } }, { timeout = {} }) end))
  end)

  it("keeps the timeout given after nil partitions", function()
    local started = helpers.now()
    local res, err = a:list_consumer_group_offsets("g", nil, 0.3)
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    res, err = a:list_consumer_group_offsets("g", nil, { timeout = 0.3, require_stable = true })
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.is_true(helpers.now() - started < 3) -- the default would be 30 s each
  end)

  it("delete_consumer_group_offsets takes a timeout or {timeout=} and answers nil, err", function()
    local partitions = { { topic = "t", partition = 0 } }
    local res, err = a:delete_consumer_group_offsets("g", partitions, 0.2)
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    res, err = a:delete_consumer_group_offsets("g", partitions, { timeout = 0.2 })
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.matches("bad argument #3 to 'delete_consumer_group_offsets' %(unknown option 'validate_only'",
      helpers.errmsg(function() a:delete_consumer_group_offsets("g", partitions, { validate_only = true }) end))
    assert.matches("bad argument #3 to 'delete_consumer_group_offsets' %(timeout %(seconds%) or options",
      helpers.errmsg(function() a:delete_consumer_group_offsets("g", partitions, "soon") end))
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
      { "describe_configs", { { { type = "topic", name = "" } } }, "field 'name' must be a non%-empty string" },
      { "describe_configs", { { { type = "broker", name = -1 } } }, "field 'name' must be a broker id" },
      { "describe_configs", { { { type = "broker", name = "" } } }, "field 'name' must be a broker id" },
      { "describe_configs", { { { type = "broker", name = 2 ^ 40 } } }, "field 'name' must be a broker id" },
      { "describe_configs", { { { type = "broker", name = "1a" } } }, "field 'name' must be a broker id" },
      { "alter_configs", { { { type = "broker", name = "" } } }, "field 'name' must be a broker id" },
      { "alter_configs", { { { type = "topic" } } }, "field 'name' must be a non%-empty topic name" },
      { "alter_configs", { { { type = "group", name = "g" } } }, "field 'type' must be \"topic\" or \"broker\"" },
      { "alter_configs", { { { type = "topic", name = "t", configs = { [1] = "x" } } } }, "config keys must be" },
      { "alter_configs", { { { type = "topic", name = "t", configs = { x = {} } } } }, "config 'x' must be a string" },
      { "alter_configs", { { { type = "topic", name = "t" } }, { validate_only = "yes" } },
        "option 'validate_only' must be a boolean" },
      { "alter_configs", { { { type = "topic", name = "t" } }, { verify = true } }, "unknown option 'verify'" },
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
      { "delete_consumer_group_offsets", { nil }, "group id must be a non%-empty string, got nil" },
      { "delete_consumer_group_offsets", { "" }, "group id must be a non%-empty string, got an empty one" },
      { "delete_consumer_group_offsets", { "g" }, "list of {topic=, partition=} tables expected, got nil" },
      { "delete_consumer_group_offsets", { "g", {} }, "list of partitions is empty" },
      { "delete_consumer_group_offsets", { "g", { { partition = 0 } } }, "entry #1: field 'topic' must be" },
      { "delete_consumer_group_offsets", { "g", { { topic = "t", partition = -1 } } },
        "entry #1: field 'partition' must be a non%-negative integer" },
      { "metadata", { true }, "topic name or timeout expected, got boolean" },
      { "metadata", { "" }, "topic name must be a non%-empty string" },
      { "metadata", { "t", -1 }, "non%-negative" },
    }
    for _, case in ipairs(cases) do
      local method, args, want = case[1], case[2], case[3]
      -- Called as a method from a chunk of its own, so that Lua names the
      -- method and the place of the call.
      local call = assert(load_string("local a, x, y = ...\nlocal r = a:" .. method .. "(x, y)\nreturn r", "=caller"))
      local msg = helpers.errmsg(function() call(a, unpack(args, 1, 2)) end)
      assert.matches(want, msg)
      assert.matches("^caller:2: bad argument #%d to '" .. method .. "'", msg)
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
    -- Every method but close (and the calls librdkafka 2.0.2 lacks), given
    -- arguments it would take on an open handle.
    local partitions = { { topic = "t", partition = 0, offset = 1 } }
    local args = {
      create_topics = { { { name = "t" } } },
      delete_topics = { { "t" } },
      create_partitions = { { { topic = "t", count = 2 } } },
      delete_records = { partitions },
      describe_configs = { { { type = "topic", name = "t" } } },
      alter_configs = { { { type = "topic", name = "t", configs = { ["retention.ms"] = 1 } } } },
      replace_configs = { { { type = "topic", name = "t", configs = {} } } },
      describe_consumer_groups = { { "g" } },
      delete_consumer_groups = { { "g" } },
      list_consumer_group_offsets = { "g" },
      alter_consumer_group_offsets = { "g", partitions },
      delete_consumer_group_offsets = { "g", partitions },
      metadata = { "t", 1 },
      poll = { 0 },
    }
    local tested = {}
    for method, fn in pairs(require("rdkafka.core").admin_methods) do
      if method ~= "close" and not missing[method] then
        local call = args[method] or {}
        assert.matches("attempt to use a closed rdkafka.Admin",
          helpers.errmsg(function() fn(a, unpack(call, 1, 2)) end), 1, true)
        tested[method] = true
      end
    end
    for method in pairs(args) do assert.is_true(tested[method], method) end
    assert.is_true(tested.list_consumer_groups and tested.name)
    if _VERSION == "Lua 5.4" then -- a to-be-closed variable closes it at the end of its scope
      local scoped = assert(load([[
        local offline = ...
        local h <close> = offline()
        return h
      ]]))(offline)
      assert.matches("%(closed%)", tostring(scoped))
    end
    -- The collector finalizes an unreferenced handle (without waiting for it).
    local weak = setmetatable({}, { __mode = "v" })
    weak[1] = offline()
    weak[2] = offline { on_error = function() end }
    collectgarbage()
    collectgarbage()
    assert.is_nil(weak[1])
    assert.is_nil(weak[2])
  end)

  it("names the librdkafka version a missing admin call needs", function()
    for method, version in pairs(missing) do
      local msg = helpers.errmsg(function() a[method](a) end)
      assert.matches(method .. " needs librdkafka >= " .. version:gsub("%.", "%%."), msg)
    end
  end)

  it("metadata on producers and consumers checks its handle", function()
    local p = helpers.offline_producer()
    local res, err = p:metadata("t", 0.2)
    assert.is_nil(res)
    assert.is_truthy(err)
    p:close(0)
    assert.matches("closed", helpers.errmsg(function() p:metadata() end))
    local c = helpers.offline_consumer()
    res, err = c:metadata(0.2)
    assert.is_nil(res)
    assert.is_truthy(err)
    assert.matches("without NUL bytes", helpers.errmsg(function() c:metadata("a\0b") end))
    c:close(0)
    assert.matches("closed", helpers.errmsg(function() c:metadata() end))
    assert.matches("producer, consumer or admin handle expected",
      helpers.errmsg(function() p.metadata(io.stdout) end))
  end)
end)

-- alter_configs is Lua over describe_configs and replace_configs: its merge
-- is checked here against a stand-in for the two requests.
describe("admin alter_configs merge", function()
  local alter = require("rdkafka.core").admin_methods.alter_configs
  local function entry(value, source, sensitive)
    return { value = value, source = source, sensitive = sensitive or false, default = source == "DEFAULT_CONFIG" }
  end
  local function fake(described)
    local f = { written = nil }
    function f.describe_configs(_, wanted)
      local out = {}
      for i, w in ipairs(wanted) do
        out[i] = { type = w.type, name = tostring(w.name), configs = described[i] }
      end
      return out
    end
    function f.replace_configs(_, writes, opts)
      f.written, f.opts = writes, opts
      local out = {}
      for i, w in ipairs(writes) do out[i] = { type = w.type, name = tostring(w.name) } end
      return out
    end
    return f
  end

  it("keeps what is set on the resource, adds what is given, drops what is reset", function()
    local f = fake({ {
      ["retention.ms"] = entry("1000", "DYNAMIC_TOPIC_CONFIG"),
      ["max.message.bytes"] = entry("5000", "DYNAMIC_TOPIC_CONFIG"),
      ["segment.ms"] = entry("60000", "DYNAMIC_TOPIC_CONFIG"),
      ["cleanup.policy"] = entry("delete", "DEFAULT_CONFIG"),
      ["min.insync.replicas"] = entry("2", "STATIC_BROKER_CONFIG"),
    } })
    local res = assert(alter(f, { { type = "topic", name = "t",
      configs = { ["retention.ms"] = 2000, ["flush.ms"] = true }, reset = { "segment.ms" } } },
      { timeout = 5, validate_only = true }))
    assert.are.same({ { type = "topic", name = "t" } }, res)
    assert.are.same({ { type = "topic", name = "t", configs = {
      ["retention.ms"] = 2000, ["flush.ms"] = true, ["max.message.bytes"] = "5000" } } }, f.written)
    assert.is_true(f.opts.validate_only)
    assert.is_true(f.opts.timeout <= 5)
  end)

  it("keeps a broker's own dynamic configs, not the cluster default's", function()
    local f = fake({ {
      ["log.cleaner.threads"] = entry("2", "DYNAMIC_BROKER_CONFIG"),
      ["log.retention.bytes"] = entry("100", "DYNAMIC_DEFAULT_BROKER_CONFIG"),
    } })
    assert(alter(f, { { type = "broker", name = 1, configs = { ["message.max.bytes"] = "2000000" } } }))
    assert.are.same({ ["log.cleaner.threads"] = "2", ["message.max.bytes"] = "2000000" }, f.written[1].configs)
  end)

  it("refuses to drop a sensitive config it cannot read back, and writes the other resources", function()
    local f = fake({
      { ["ssl.key.password"] = entry(nil, "DYNAMIC_BROKER_CONFIG", true) },
      { ["retention.ms"] = entry("1", "DYNAMIC_TOPIC_CONFIG") },
    })
    local res = assert(alter(f, { { type = "broker", name = "1", configs = { ["log.cleaner.threads"] = 2 } },
      { type = "topic", name = "t", configs = {} } }))
    assert.are.equal("INVALID_CONFIG", res[1].error.name)
    assert.matches("ssl.key.password", res[1].error.message)
    assert.is_nil(res[2].error)
    assert.are.equal(1, #f.written)
    assert.are.equal("t", f.written[1].name)
    -- Named in reset (or given), it goes through.
    f = fake({ { ["ssl.key.password"] = entry(nil, "DYNAMIC_BROKER_CONFIG", true) } })
    res = assert(alter(f, { { type = "broker", name = 1, reset = { "ssl.key.password" } } }))
    assert.is_nil(res[1].error)
    assert.are.same({}, f.written[1].configs)
  end)

  it("refuses a broker that does not say where its values come from", function()
    local f = fake({ { ["retention.ms"] = entry("1", "UNKNOWN_CONFIG") } })
    local res = assert(alter(f, { { type = "topic", name = "t", configs = { ["segment.ms"] = 1 } } }))
    assert.are.equal("INVALID_CONFIG", res[1].error.name)
    assert.is_nil(f.written)
  end)

  it("passes on a failed read or write and a resource's own error", function()
    local f = fake({ {} })
    f.describe_configs = function() return nil, rdkafka.error(rdkafka.errors._TIMED_OUT) end
    local res, err = alter(f, { { type = "topic", name = "t" } })
    assert.is_nil(res)
    assert.are.equal("_TIMED_OUT", err.name)
    f = fake({ {} })
    f.describe_configs = function()
      local unknown = rdkafka.error(rdkafka.errors.UNKNOWN_TOPIC_OR_PART)
      return { { type = "topic", name = "t", error = unknown, configs = {} } }
    end
    res = assert(alter(f, { { type = "topic", name = "t", configs = { a = 1 } } }))
    assert.are.equal("UNKNOWN_TOPIC_OR_PART", res[1].error.name)
    assert.is_nil(f.written)
  end)

  it("pairs each resource with its own description and answer, wherever they come", function()
    local f = fake({})
    -- The first resource left out of the read, the others out of order.
    function f.describe_configs()
      return {
        { type = "broker", name = "2", configs = { ["log.cleaner.threads"] = entry("3", "DYNAMIC_BROKER_CONFIG") } },
        { type = "topic", name = "b", configs = { ["segment.ms"] = entry("10", "DYNAMIC_TOPIC_CONFIG") } },
      }
    end
    local replace = f.replace_configs
    function f.replace_configs(self, writes, opts)
      local out = replace(self, writes, opts)
      out[1].error = rdkafka.error(rdkafka.errors.POLICY_VIOLATION)
      return { out[2], out[1] } -- answered in the other order
    end
    local res = assert(alter(f, {
      { type = "topic", name = "a", configs = { ["retention.ms"] = 1 } },
      { type = "topic", name = "b", configs = { ["retention.ms"] = 2 } },
      { type = "broker", name = 2, configs = { ["message.max.bytes"] = 3 } },
    }))
    assert.are.same({ "a", "b", "2" }, { res[1].name, res[2].name, res[3].name })
    assert.are.equal("_BAD_MSG", res[1].error.name)
    assert.are.equal("POLICY_VIOLATION", res[2].error.name)
    assert.is_nil(res[3].error)
    assert.are.same({
      { type = "topic", name = "b", configs = { ["segment.ms"] = "10", ["retention.ms"] = 2 } },
      { type = "broker", name = 2, configs = { ["log.cleaner.threads"] = "3", ["message.max.bytes"] = 3 } },
    }, f.written)
    -- A write the answer leaves out is that resource's error.
    function f.replace_configs(_, writes) f.written = writes; return {} end
    res = assert(alter(f, { { type = "topic", name = "b", configs = {} } }))
    assert.are.equal("_BAD_MSG", res[1].error.name)
  end)
end)

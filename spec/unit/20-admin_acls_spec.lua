-- The admin handle's ACL calls without a broker: bad bindings and filters
-- raise, naming the argument, the entry and the field; a call nobody answers
-- gives nil and _TIMED_OUT. (spec/integration/80-security_spec.lua runs them
-- against Kafka's authorizer.)
local rdkafka = require("rdkafka")
local helpers = require("helpers")

local NONE = {} -- a field binding() leaves out

local function binding(extra)
  local b = { resource_type = "topic", resource_name = "t", principal = "User:alice", operation = "read",
    permission_type = "allow" }
  for k, v in pairs(extra or {}) do
    if v == NONE then b[k] = nil else b[k] = v end
  end
  return b
end

local load_string = loadstring or load -- luacheck: ignore (Lua 5.1 load takes no string)

-- Calls a:<method>(x, y) as written in Lua, so that errors name the method.
local function call(a, method, x, y)
  return assert(load_string("local a, x, y = ...; local r, e = a:" .. method .. "(x, y); return r, e"))(a, x, y)
end

describe("admin ACL calls", function()
  local a
  before_each(function() a = rdkafka.admin { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 } end)
  after_each(function() a:close() end)

  it("refuses bad bindings to create_acls, naming the entry and the field", function()
    local cases = {
      { nil, "list of ACL binding tables expected, got nil" },
      { {}, "list of ACL binding tables is empty" },
      { { "x" }, "entry #1 must be a table, got string" },
      { { binding(), 1 }, "entry #2 must be a table, got number" },
      { { binding { resource_type = NONE } }, "entry #1: field 'resource_type' must be \"topic\", \"group\" or "
        .. "\"cluster\", got nil" },
      { { binding { resource_type = "any" } }, "field 'resource_type' must be \"topic\", \"group\" or \"cluster\", "
        .. "not \"any\"" },
      { { binding { resource_type = "Topic" } }, "not \"Topic\"" },
      { { binding { resource_type = "transactional_id" } }, "entry #1: resource type \"transactional_id\" is not "
        .. "in the ACL API of librdkafka 2.0.2" },
      { { binding { resource_name = "" } }, "entry #1: field 'resource_name' must be a non%-empty string" },
      { { binding { resource_name = false } }, "field 'resource_name' must be a non%-empty string without NUL "
        .. "bytes, got boolean" },
      { { binding { resource_name = "a\0b" } }, "got NUL bytes" },
      { { binding(), binding { resource_name = NONE } }, "entry #2: field 'resource_name' must be a non%-empty "
        .. "string without NUL bytes, got nil" },
      { { binding { principal = NONE } }, "field 'principal' must be a non%-empty string" },
      { { binding { host = 1 } }, "field 'host' must be a non%-empty string without NUL bytes, got number" },
      { { binding { pattern_type = "match" } }, "field 'pattern_type' must be \"literal\" or \"prefixed\", "
        .. "not \"match\"" },
      { { binding { pattern_type = "any" } }, "not \"any\"" },
      { { binding { operation = NONE } }, "field 'operation' must be \"all\", \"read\", \"write\"" },
      { { binding { operation = "any" } }, "\"idempotent_write\", not \"any\"" },
      { { binding { operation = "READ" } }, "not \"READ\"" },
      { { binding { permission_type = NONE } }, "field 'permission_type' must be \"allow\" or \"deny\", got nil" },
      { { binding { permission_type = "any" } }, "not \"any\"" },
      { { binding { permission = "allow" } }, "entry #1: unknown field 'permission' %(expected resource_type, " },
      { { binding { [1] = "x" } }, "unknown field 'number'" },
    }
    for _, case in ipairs(cases) do
      local msg = helpers.errmsg(function() a:create_acls(case[1]) end)
      assert.matches("bad argument #1 to 'create_acls'", msg, 1, true)
      assert.matches(case[2], msg)
    end
  end)

  it("refuses bad filters to describe_acls and delete_acls", function()
    local cases = {
      { "describe_acls", { "topic" }, "bad argument #1 to 'describe_acls' %(ACL filter table expected, got string" },
      { "describe_acls", { { resource_type = "broker" } }, "bad argument #1 to 'describe_acls' %(field "
        .. "'resource_type' must be \"topic\", \"group\", \"cluster\" or \"any\", not \"broker\"" },
      { "describe_acls", { { pattern_type = "exact" } }, "\"literal\", \"prefixed\", \"match\" or \"any\"" },
      { "describe_acls", { { operation = 3 } }, "field 'operation' must be .*\"any\", got number" },
      { "describe_acls", { { permission_type = "" } }, "\"allow\", \"deny\" or \"any\", not \"\"" },
      { "describe_acls", { { principal = "" } }, "field 'principal' must be a non%-empty string" },
      { "describe_acls", { { name = "t" } }, "unknown field 'name'" },
      { "describe_acls", { nil, "soon" }, "bad argument #2 to 'describe_acls' %(timeout %(seconds%) or options" },
      { "describe_acls", { {}, { validate_only = true } }, "unknown option 'validate_only'" },
      { "create_acls", { { binding() }, { validate_only = true } }, "unknown option 'validate_only'" },
      { "delete_acls", { nil }, "bad argument #1 to 'delete_acls' %(list of ACL filter tables expected, got nil" },
      { "delete_acls", { {} }, "list of ACL filter tables is empty" },
      { "delete_acls", { { {} } }, "entry #1: field 'resource_type' is required to delete %(\"any\" for every type%)" },
      { "delete_acls", { { { resource_type = "any" }, { principal = "User:bob" } } },
        "entry #2: field 'resource_type' is required" },
      { "delete_acls", { { { resource_type = "any", host = "" } } }, "entry #1: field 'host' must be" },
      { "delete_acls", { { "x" } }, "entry #1 must be a table, got string" },
      { "delete_acls", { { { resource_type = "any" } }, -1 }, "non%-negative" },
    }
    for _, case in ipairs(cases) do
      local msg = helpers.errmsg(function() call(a, case[1], case[2][1], case[2][2]) end)
      assert.matches(case[3], msg)
    end
  end)

  it("answers nil and _TIMED_OUT when no broker answers, with the defaults filled in", function()
    local calls = {
      function() return a:create_acls({ binding { host = NONE, pattern_type = NONE } }, 0.2) end,
      function() return a:create_acls({ { resource_type = "cluster", principal = "User:alice",
        operation = "alter", permission_type = "deny" } }, 0.2) end,
      function() return a:describe_acls(nil, 0.2) end,
      function() return a:describe_acls({ resource_type = "group", pattern_type = "match", resource_name = "g" },
        { timeout = 0.2 }) end,
      function() return a:delete_acls({ { resource_type = "any", principal = "User:alice" } }, 0.2) end,
    }
    for _, request in ipairs(calls) do
      local res, err = request()
      assert.is_nil(res)
      assert.are.equal("_TIMED_OUT", err.name)
    end
  end)

  it("refuses a closed handle", function()
    local b = rdkafka.admin { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
    b:close()
    assert.matches("attempt to use a closed rdkafka.Admin", helpers.errmsg(function() b:create_acls({ binding() }) end))
    assert.matches("attempt to use a closed rdkafka.Admin", helpers.errmsg(function() b:describe_acls() end))
    assert.matches("attempt to use a closed rdkafka.Admin",
      helpers.errmsg(function() b:delete_acls({ { resource_type = "any" } }) end))
  end)
end)

-- TLS, SASL/SCRAM and ACLs on the real broker (tags: kafka, security), on the
-- SASL_SSL listener of `scripts/kafka up --security`: produce and consume as
-- a user, the errors a wrong CA or a wrong password gives the caller, and a
-- user without ACLs refused, let in by create_acls and refused again after
-- delete_acls. The client configs come from `scripts/kafka client-config`;
-- KAFKA_SECURITY_STATE names that cluster's KAFKA_STATE when it is not the
-- default one. Without such a cluster every spec here fails, saying so.
local rdkafka = require("rdkafka")
local helpers = require("helpers")

-- s as one word for the shell, whatever it holds.
local function shell_quote(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

-- The librdkafka properties of `scripts/kafka client-config <args>`.
local function client_config(args)
  local state = os.getenv("KAFKA_SECURITY_STATE")
  local env = state and state ~= "" and ("KAFKA_STATE=%s "):format(shell_quote(state)) or ""
  local pipe = assert(io.popen(env .. "scripts/kafka client-config " .. args .. " 2>&1; echo \"exit=$?\""))
  local out = pipe:read("*a")
  pipe:close()
  assert(out:match("exit=(%d+)%s*$") == "0", "no cluster with a SASL_SSL listener (start one with "
    .. "`scripts/kafka up --security`; KAFKA_SECURITY_STATE names its KAFKA_STATE): " .. out)
  local conf = {}
  for line in io.lines((out:match("^([^\n]*)\n"))) do
    local key, value = line:match("^([^=]+)=(.*)$")
    if key then conf[key] = value end
  end
  assert(conf["security.protocol"] == "SASL_SSL", "not a SASL_SSL client config: " .. out)
  return conf
end

local function with(conf, extra)
  local merged = {}
  for k, v in pairs(conf) do merged[k] = v end
  for k, v in pairs(extra or {}) do merged[k] = v end
  return merged
end

describe("#kafka #security", function()
  local admin_conf, alice_conf, admin
  lazy_setup(function()
    admin_conf = client_config("admin")
    alice_conf = client_config("alice")
    admin = rdkafka.admin(admin_conf)
  end)
  lazy_teardown(function()
    if admin then admin:close() end
  end)

  local function create_topic()
    local topic = helpers.unique("security")
    local res = assert(admin:create_topics({ { name = topic, partitions = 1 } }))
    assert.is_nil(res[1].error)
    assert.is_truthy(helpers.wait_until(15, function()
      local md = admin:metadata(topic, 10)
      return md and not md.topics[1].error and #md.topics[1].partitions == 1
    end), "topic " .. topic .. " never served")
    return topic
  end

  -- Produces one message as the user of conf with a new producer; returns
  -- its delivery error (nil when it landed).
  local function produce_once(conf, topic, value)
    local done, failure = false, nil
    local p = rdkafka.producer(with(conf, { on_delivery = function(err)
      done, failure = true, err
    end }))
    assert(p:produce { topic = topic, value = value })
    assert.is_truthy(helpers.wait_until(30, function()
      p:poll(0.2)
      return done
    end), "no delivery report within 30 s")
    p:close()
    return failure
  end

  -- Subscribes to topic in group as alice with a new consumer; returns the
  -- first error named `wanted` that on_error or poll gives within 30 s (the
  -- broker applies a new ACL a moment after create_acls), else the last one.
  local function consume_refused(topic, group, wanted)
    local last
    local function note(err)
      if not (last and last.name == wanted) then last = err end
    end
    local c = rdkafka.consumer(with(alice_conf, helpers.consumer_conf(nil, group, { on_error = note })))
    c:subscribe { topic }
    helpers.wait_until(30, function()
      local _, err = c:poll(0.2)
      if err then note(err) end
      return last and last.name == wanted
    end)
    c:close()
    return last
  end

  it("produces and consumes over TLS with SCRAM-SHA-512", function()
    local topic = create_topic()
    local lines = {}
    assert.is_nil(produce_once(with(admin_conf, {
      debug = "security,broker",
      on_log = function(_, facility, text) lines[#lines + 1] = facility .. " " .. text end,
    }), topic, "over TLS"))
    local scram = 0
    for _, line in ipairs(lines) do
      if line:find("SCRAM", 1, true) then scram = scram + 1 end
    end
    assert.is_true(scram > 0, "no SCRAM log line at debug=security")
    local c = rdkafka.consumer(with(admin_conf, helpers.consumer_conf(nil, helpers.unique("security"))))
    c:subscribe { topic }
    local got = helpers.consume(c, 1, 30)
    c:close()
    assert.are.equal(1, #got)
    assert.are.equal("over TLS", got[1].value)
  end)

  it("tells the caller of a CA that did not sign the broker's certificate, retrying at the backoff's pace", function()
    local conf = client_config("alice --wrong-ca")
    local errors, attempts = {}, 0
    local p = rdkafka.producer(with(conf, {
      debug = "broker",
      on_error = function(err) errors[#errors + 1] = err end,
      on_log = function(_, _, text)
        if text:find("Connecting to ", 1, true) then attempts = attempts + 1 end
      end,
      on_delivery = function() end,
    }))
    local deadline = helpers.now() + 10
    while helpers.now() < deadline do p:poll(0.1) end
    p:close(1)
    local ssl
    for _, err in ipairs(errors) do
      if err.name == "_SSL" then ssl = err end
    end
    assert.is_truthy(ssl, "no _SSL error in 10 s")
    assert.matches("certificate verify failed", ssl.message)
    assert.is_true(attempts >= 1)
    -- At most one connection to each broker per reconnect.backoff.ms (100 ms
    -- by default, growing): a client that retried at once would make thousands.
    local _, brokers = conf["bootstrap.servers"]:gsub("[^,]+", "")
    assert.is_true(attempts <= 100 * brokers, attempts .. " connection attempts in 10 s")
    print(("\n    wrong CA: %d connection attempts and %d errors in 10 s"):format(attempts, #errors))
  end)

  it("reports a wrong password as an authentication error within 10 s", function()
    local conf = client_config("alice --wrong-password")
    local failure, started = nil, helpers.now()
    local p = rdkafka.producer(with(conf, {
      on_error = function(err)
        if err.name == "_AUTHENTICATION" then failure = failure or err end
      end,
      on_delivery = function() end,
    }))
    helpers.wait_until(10, function()
      p:poll(0.1)
      return failure
    end)
    local took = helpers.now() - started
    p:close(1)
    assert.is_truthy(failure, "no _AUTHENTICATION error within 10 s")
    assert.matches("Authentication failed", failure.message)
    print(("\n    wrong password: _AUTHENTICATION after %.2f s"):format(took))
  end)

  it("refuses a user without ACLs, lets her in after create_acls and refuses her again after delete_acls", function()
    local topic, group = create_topic(), helpers.unique("security")
    -- The refusals are probed without idempotence: an idempotent producer
    -- without any ACL also fails fatally with CLUSTER_AUTHORIZATION_FAILED
    -- (InitProducerId), and which of the two errors comes first is a race.
    local alice_plain = with(alice_conf, { ["enable.idempotence"] = false })
    -- Without ACLs: refused, not left waiting.
    local failure = produce_once(alice_plain, topic, "refused")
    assert.is_truthy(failure, "alice produced without an ACL")
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED", failure.name)
    local refused = consume_refused(topic, group, "GROUP_AUTHORIZATION_FAILED")
    assert.are.equal("GROUP_AUTHORIZATION_FAILED", refused and refused.name)
    -- Nor may she grant herself one, or read the ACLs (librdkafka 2.0.2 drops
    -- the error of a DescribeAcls answer: she gets an empty list).
    local grant = { resource_type = "topic", resource_name = topic, principal = "User:alice", operation = "write",
      permission_type = "allow" }
    local alice_admin = rdkafka.admin(alice_conf)
    local own = assert(alice_admin:create_acls({ grant }, 15))
    local seen = assert(alice_admin:describe_acls({ principal = "User:alice" }, 15))
    alice_admin:close()
    assert.is_truthy(own[1].error, "alice granted herself an ACL")
    assert.are.equal("CLUSTER_AUTHORIZATION_FAILED", own[1].error.name)
    assert.are.same({}, seen)

    -- The group first: now the topic is what she may not read.
    local grants = {
      { resource_type = "group", resource_name = group, principal = "User:alice", operation = "read",
        permission_type = "allow" },
      grant,
      { resource_type = "topic", resource_name = topic, principal = "User:alice", operation = "read",
        permission_type = "allow" },
      { resource_type = "topic", resource_name = topic, principal = "User:alice", operation = "describe",
        permission_type = "allow" },
    }
    local created = assert(admin:create_acls({ grants[1] }))
    assert.are.equal(1, #created)
    assert.is_nil(created[1].error)
    refused = consume_refused(topic, group, "TOPIC_AUTHORIZATION_FAILED")
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED", refused and refused.name)
    created = assert(admin:create_acls({ grants[2], grants[3], grants[4] }))
    assert.are.equal(3, #created)
    for i = 1, 3 do assert.is_nil(created[i].error) end

    -- describe_acls shows them, in the shape create_acls takes, with the defaults filled in.
    local function alice_acls()
      local found = {}
      for _, acl in ipairs(assert(admin:describe_acls({ principal = "User:alice" }))) do
        if acl.resource_name == topic or acl.resource_name == group then
          found[#found + 1] = ("%s %s %s %s %s %s %s"):format(acl.resource_type, acl.resource_name,
            acl.pattern_type, acl.principal, acl.host, acl.operation, acl.permission_type)
        end
      end
      table.sort(found)
      return found
    end
    local expected = {}
    for i, g in ipairs(grants) do
      expected[i] = ("%s %s literal User:alice * %s allow"):format(g.resource_type, g.resource_name, g.operation)
    end
    table.sort(expected)
    helpers.wait_until(15, function() return #alice_acls() == 4 end)
    assert.are.same(expected, alice_acls())

    -- The broker applies ACLs a moment after the controller took them.
    local landed = helpers.wait_until(30, function() return produce_once(alice_conf, topic, "granted") == nil end)
    assert.is_truthy(landed, "alice still refused 30 s after the grant")
    -- Each broker applies them in its own time: an authorization error
    -- before the message is that lag.
    local c = rdkafka.consumer(with(alice_conf, helpers.consumer_conf(nil, group, {
      on_error = function() end,
    })))
    c:subscribe { topic }
    local got, lag = nil, nil
    helpers.wait_until(30, function()
      local msg, err = c:poll(0.2)
      if err and err.name ~= "_PARTITION_EOF" then
        assert.matches("_AUTHORIZATION_FAILED$", err.name)
        lag = err
      end
      got = got or msg
      return got
    end)
    c:close()
    assert.is_truthy(got, "alice read nothing in 30 s after the grant: " .. tostring(lag))
    assert.are.equal("granted", got.value)

    -- (Filters on this spec's names: an earlier run that failed half-way may have left others.)
    local deleted = assert(admin:delete_acls({
      { resource_type = "topic", resource_name = topic, principal = "User:alice" },
      { resource_type = "any", pattern_type = "match", resource_name = group, operation = "read" },
    }))
    assert.are.equal(2, #deleted)
    assert.is_nil(deleted[1].error)
    assert.is_nil(deleted[2].error)
    assert.are.equal(3, #deleted[1].matching)
    assert.are.equal(1, #deleted[2].matching)
    assert.are.same({ resource_type = "group", resource_name = group, pattern_type = "literal",
      principal = "User:alice", host = "*", operation = "read", permission_type = "allow" }, deleted[2].matching[1])
    helpers.wait_until(15, function() return #alice_acls() == 0 end)
    assert.are.same({}, alice_acls())
    local again = helpers.wait_until(30, function()
      failure = produce_once(alice_plain, topic, "refused again")
      return failure and failure.name == "TOPIC_AUTHORIZATION_FAILED"
    end)
    assert.is_truthy(again, "alice still let in 30 s after delete_acls: " .. tostring(failure))
  end)

  it("answers create_acls item by item", function()
    local name = helpers.unique("security")
    local res = assert(admin:create_acls({
      { resource_type = "topic", resource_name = name, principal = "User:alice",
        operation = "read", permission_type = "deny" },
      { resource_type = "topic", resource_name = "t", principal = "alice", operation = "read",
        permission_type = "allow" }, -- no principal type: the broker refuses this one
    }))
    assert.are.equal(2, #res)
    assert.is_nil(res[1].error)
    assert.is_truthy(res[2].error)
    local deleted = assert(admin:delete_acls({ { resource_type = "topic", resource_name = name,
      permission_type = "deny" } }))
    assert.is_nil(deleted[1].error)
    assert.are.equal(1, #deleted[1].matching)
    assert.are.equal("deny", deleted[1].matching[1].permission_type)
  end)
end)

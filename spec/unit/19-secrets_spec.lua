-- Secrets in a handle's config (sasl.password, ssl.key.password,
-- ssl.keystore.password, ssl.key.pem, sasl.oauthbearer.client.secret and the
-- extension values of sasl.oauthbearer.config) never reach Lua: librdkafka's
-- text (log lines, on_error, error objects) is redacted, and a client.id
-- that would carry a secret into stats and the handle's name is refused.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local cjson = require("cjson")
local helpers = require("helpers")

local SECRET_KEYS = { "sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem",
  "sasl.oauthbearer.client.secret" }

local function never_says(said, secret)
  for _, s in ipairs(said) do
    assert.is_nil(s:find(secret, 1, true), "the secret is in: " .. s)
  end
end

local function count(said, text)
  local n = 0
  for _, s in ipairs(said) do
    if s:find(text, 1, true) then n = n + 1 end
  end
  return n
end

-- Whether librdkafka takes the key (sasl.oauthbearer.client.secret needs a
-- librdkafka built with libcurl).
local function accepted(key)
  local ok, p = pcall(rdkafka.producer, { [key] = "x-value", ["bootstrap.servers"] = "127.0.0.1:1", log_level = 0 })
  if ok then p:close(0) end
  return ok
end

describe("secrets", function()
  local mc
  setup(function() mc = rdkafka.mock_cluster { brokers = 1 } end)
  teardown(function() mc:close() end)

  describe("client.id", function()
    for _, key in ipairs(SECRET_KEYS) do
      it("may not contain the value of " .. key .. " (stats and names show it as it is)", function()
        if not accepted(key) then
          pending("this librdkafka does not take " .. key)
          return
        end
        local secret = "Secret-" .. key:gsub("%W", "-") .. "-0451"
        for _, new in ipairs { rdkafka.producer, rdkafka.consumer, rdkafka.admin } do
          local ok, err = pcall(new, { ["client.id"] = "svc-" .. secret, [key] = secret, ["group.id"] = "g",
            ["bootstrap.servers"] = mc.bootstrap_servers, log_level = 0 })
          assert.is_false(ok)
          assert.matches("config key 'client.id': must not contain the value of '" .. key:gsub("%p", "%%%0") .. "'",
            tostring(err))
          never_says({ tostring(err) }, secret)
        end
      end)
    end

    it("may not contain an extension value of sasl.oauthbearer.config", function()
      local ok, err = pcall(rdkafka.producer, { ["client.id"] = "svc-Ext-Value-0456",
        ["sasl.oauthbearer.config"] = "principal=svc extension_traceId=Ext-Value-0456", log_level = 0 })
      assert.is_false(ok)
      assert.matches("config key 'client.id': must not contain the value of 'sasl.oauthbearer.config'", tostring(err))
      never_says({ tostring(err) }, "Ext-Value-0456")
    end)

    it("may hold the non-secret parts of sasl.oauthbearer.config", function()
      local p = rdkafka.producer { ["client.id"] = "alice-3600",
        ["sasl.oauthbearer.config"] = "principal=alice scope=read lifeSeconds=3600", log_level = 0 }
      assert.are.equal("alice-3600#producer", p:name():match("^(.-)%-%d+$"))
      p:close(0)
    end)
  end)

  it("tostring and name() agree, and show client.id", function()
    for _, new in ipairs { rdkafka.producer, rdkafka.consumer, rdkafka.admin } do
      local h = new { ["client.id"] = "named-svc", ["group.id"] = "g", ["sasl.password"] = "Secret-Name-0457",
        ["bootstrap.servers"] = mc.bootstrap_servers, log_level = 0 }
      local name = h:name()
      assert.matches("^named%-svc#%a+%-%d+$", name)
      assert.matches("^rdkafka%.%a+ %(" .. name:gsub("%p", "%%%0") .. "%)$", tostring(h))
      h:close()
    end
  end)

  it("hides a secret in the stats of a fatal handle, which stay JSON", function()
    -- Once fatal, librdkafka 2.0.2 puts the fatal error's reason in the
    -- stats as it is (quotes too). Only that reason is redacted: a short,
    -- numeric secret ("12") stays a number elsewhere in the stats.
    local secret = "Secret-Stats-0455"
    local stats = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers, ["client.id"] = "stats-svc",
      ["sasl.password"] = secret, ["ssl.key.password"] = "12", ["statistics.interval.ms"] = 100,
      log_level = 0, on_log = function() end, on_error = function() end,
      on_stats = function(json) stats[#stats + 1] = json end }
    assert.are.equal(0, core._test_fatal_error(p, rdkafka.errors.OUT_OF_ORDER_SEQUENCE_NUMBER,
      'lost "' .. secret .. '"'))
    local fatal = helpers.wait_until(30, function()
      p:poll(0.1)
      for _, json in ipairs(stats) do
        if json:find('"fatal"', 1, true) then return json end
      end
    end)
    p:close(1)
    assert.is_truthy(fatal, #stats .. " stats, none with the fatal error")
    never_says(stats, secret)
    for _, json in ipairs(stats) do
      local ok, decoded = pcall(cjson.decode, json)
      assert.is_true(ok, json)
      assert.are.equal("stats-svc", decoded.client_id)
      assert.are.equal("number", type(decoded.age))
      local _, redactions = json:gsub("%[redacted%]", "")
      assert.are.equal(decoded.fatal and 1 or 0, redactions, json)
    end
    local reason = cjson.decode(fatal).fatal.reason
    assert.are.equal('test_fatal_error: lost "[redacted]"', reason)
  end)

  it("hides a secret in a log line (a password reused as the user name, which debug=conf shows)", function()
    -- librdkafka hides the values of its sensitive properties itself;
    -- sasl.username is not one of them.
    local secret = "Svc-Shared-0463"
    local lines = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers, ["sasl.username"] = secret,
      ["sasl.password"] = secret, debug = "conf", on_log = function(_, _, text) lines[#lines + 1] = text end }
    local shown = helpers.wait_until(10, function()
      p:poll(0.1)
      return count(lines, "sasl.username = ") > 0
    end)
    p:close(1)
    assert.is_truthy(shown, "no log line shows sasl.username")
    never_says(lines, secret)
    assert.are.equal(1, count(lines, "sasl.username = [redacted]"))
  end)

  -- The error object of a produce refused by a fatal producer whose fatal
  -- error has the reason given, and the fatal errors on_error got.
  local function fatal_texts(conf, reason)
    local errors = {}
    conf["bootstrap.servers"] = mc.bootstrap_servers
    conf.log_level = 0
    conf.on_log = function() end
    conf.on_error = function(err) if err.fatal then errors[#errors + 1] = err.message end end
    local p = rdkafka.producer(conf)
    assert.are.equal(0, core._test_fatal_error(p, rdkafka.errors.OUT_OF_ORDER_SEQUENCE_NUMBER, reason))
    local _, err = p:produce("t", "v")
    assert.is_true(err.fatal)
    assert.is_truthy(helpers.wait_until(10, function()
      p:poll(0.1)
      return #errors > 0
    end), "on_error got no fatal error")
    p:close(1)
    return err.message, errors
  end

  -- How librdkafka 2.0.2 words the fatal error (cut at 511 bytes) and, in
  -- front of it, the error object of a produce it refuses.
  local FATAL = "test_fatal_error: "
  local REFUSED = "Producing not allowed since a previous fatal error was raised: "

  it("hides the beginning of a secret that librdkafka's 512-byte text cuts off", function()
    local secret = "Secret-Cut-0460-Tail"
    -- The fatal error's text ends with the first 10 characters of the secret.
    local pad = ("x"):rep(511 - #FATAL - 10)
    local message, errors = fatal_texts({ ["sasl.password"] = secret }, pad .. secret)
    assert.are.equal(FATAL .. pad .. "[redacted]", errors[1])
    assert.are.equal(REFUSED .. FATAL .. pad .. "[redacted]", message)
    -- A cut shorter than 4 characters stays: it could be any word.
    local _, short = fatal_texts({ ["sasl.password"] = secret }, pad .. "xxxxxxxSec")
    assert.are.equal(FATAL .. pad .. "xxxxxxxSec", short[1])
  end)

  it("hides a secret past byte 512 of an error object's text, and keeps the text whole", function()
    local secret = "Secret-Long-0461"
    -- The refusal is longer than 512 bytes; the secret begins 2 bytes before.
    local pad = ("y"):rep(511 - #REFUSED - #FATAL - 2)
    local message = fatal_texts({ ["sasl.password"] = secret }, pad .. secret .. " end")
    assert.are.equal(REFUSED .. FATAL .. pad .. "[redacted] end", message)
  end)

  it("hides overlapping secrets whole", function()
    local conf = { ["sasl.password"] = "Alpha-Bra", ["ssl.key.password"] = "Bravo-Charlie-9" }
    local message, errors = fatal_texts(conf, "Alpha-Bravo-Charlie-9 and Bravo-Charlie-9Alpha-Bra!")
    assert.are.equal(FATAL .. "[redacted] and [redacted]!", errors[1])
    assert.are.equal(REFUSED .. errors[1], message)
  end)

  it("refuses more extension values than it can keep hidden", function()
    local words = { "principal=alice" }
    for i = 1, 30 do words[#words + 1] = ("extension_k%s=Secret-Value-%04d"):format(("x"):rep(i % 5 + 1), i) end
    local ok, err = pcall(rdkafka.producer, { ["sasl.oauthbearer.config"] = table.concat(words, " ") })
    assert.is_false(ok)
    assert.matches("config key 'sasl.oauthbearer.config': more than 24 values to keep hidden", tostring(err))
  end)
end)

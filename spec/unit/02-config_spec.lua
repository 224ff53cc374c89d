local rdkafka = require("rdkafka")
local helpers = require("helpers")
local errmsg = helpers.errmsg

describe("configuration", function()
  it("must be a table", function()
    assert.matches("bad argument #1 to 'producer' %(config table expected, got nil%)",
      errmsg(function() rdkafka.producer() end))
    assert.matches("config table expected, got string",
      errmsg(function() rdkafka.consumer("bootstrap.servers=x") end))
  end)

  it("names an unknown key", function()
    assert.matches("config key 'no.such.property'",
      errmsg(function() rdkafka.producer { ["no.such.property"] = 1 } end))
  end)

  it("names a key whose value librdkafka refuses", function()
    assert.matches("config key 'acks'",
      errmsg(function() rdkafka.producer { acks = "sometimes" } end))
    assert.matches("config key 'linger.ms'",
      errmsg(function() rdkafka.producer { ["linger.ms"] = -5 } end))
  end)

  it("refuses values that are not strings, numbers or booleans", function()
    assert.matches("config key 'client.id': string, number or boolean expected, got table",
      errmsg(function() rdkafka.producer { ["client.id"] = {} } end))
  end)

  it("refuses keys that are not strings", function()
    assert.matches("config keys must be strings, got number",
      errmsg(function() rdkafka.producer { "bootstrap.servers" } end))
  end)

  it("accepts numbers and booleans for properties", function()
    local p = rdkafka.producer { ["linger.ms"] = 0.5, ["batch.num.messages"] = 10,
      ["enable.idempotence"] = false, ["log_level"] = 2 }
    assert.are.equal(0, p:close(0))
  end)

  it("checks callbacks are functions, and only where the handle takes them", function()
    assert.matches("config key 'on_delivery': function expected, got string",
      errmsg(function() rdkafka.producer { on_delivery = "print" } end))
    assert.matches("config key 'on_delivery': not a callback a rdkafka.Consumer takes",
      errmsg(function() rdkafka.consumer { ["group.id"] = "g", on_delivery = print } end))
    assert.matches("config key 'on_whatever': not a callback",
      errmsg(function() rdkafka.producer { on_whatever = print } end))
  end)

  it("never shows a secret in an error", function()
    local msg = errmsg(function()
      rdkafka.producer { ["sasl.password"] = "hunter2", ["ssl.key.password"] = {} }
    end)
    assert.is_nil(msg:find("hunter2", 1, true))
    -- A secret that librdkafka refuses (bad type) is named, its value is not.
    msg = errmsg(function() rdkafka.producer { ["ssl.key.password"] = "hunter2", ["sasl.password"] = {} } end)
    assert.matches("config key 'sasl.password'", msg)
    assert.is_nil(msg:find("hunter2", 1, true))
    local p = rdkafka.producer { ["sasl.password"] = "hunter2", ["log_level"] = 2 }
    assert.is_nil(tostring(p):find("hunter2", 1, true))
    p:close(0)
  end)

  it("requires a group id for a consumer", function()
    assert.matches("config key 'group.id'", errmsg(function() rdkafka.consumer {} end))
    assert.matches("config key 'group.id'", errmsg(function() rdkafka.consumer { ["group.id"] = "" } end))
  end)

  it("takes a huge value without harm", function()
    local p = rdkafka.producer { ["sasl.kerberos.service.name"] = ("x"):rep(1000000), ["log_level"] = 2 }
    assert.are.equal(0, p:close(0))
    -- Up to the protocol's limit for a string where the value goes to brokers.
    p = rdkafka.producer { ["client.id"] = ("x"):rep(32767), ["log_level"] = 2 }
    assert.are.equal(0, p:close(0))
    assert.matches("config key 'client.id': the value is longer than 32767 bytes",
      errmsg(function() rdkafka.producer { ["client.id"] = ("x"):rep(1000000) } end))
  end)
end)

local rdkafka = require("rdkafka")

describe("error objects", function()
  it("carry code, name, message and the flags a caller decides on", function()
    local err = rdkafka.error(rdkafka.errors._TIMED_OUT)
    assert.are.equal(rdkafka.errors._TIMED_OUT, err.code)
    assert.are.equal("_TIMED_OUT", err.name)
    assert.are.equal("Local: Timed out", err.message)
    assert.is_true(err.retriable)
    assert.is_false(err.fatal)
    assert.is_false(err.txn_requires_abort)
    assert.are.equal("_TIMED_OUT: Local: Timed out", tostring(err))
  end)

  it("keep a message given to them", function()
    local err = rdkafka.error(rdkafka.errors.TOPIC_AUTHORIZATION_FAILED, "no access to t")
    assert.are.equal("TOPIC_AUTHORIZATION_FAILED: no access to t", tostring(err))
    assert.is_false(err.retriable)
  end)

  it("list every librdkafka error code by name", function()
    assert.are.equal(-185, rdkafka.errors._TIMED_OUT)
    assert.are.equal(0, rdkafka.errors.NO_ERROR)
    assert.are.equal(3, rdkafka.errors.UNKNOWN_TOPIC_OR_PART)
  end)

  it("reject a code that is not a number", function()
    assert.has_error(function() rdkafka.error("x") end)
    assert.has_error(function() rdkafka.error(nil) end)
  end)

  it("come out whole when a finalizer makes another one meanwhile", function()
    -- Making an error object allocates, so the collector may run a finalizer
    -- that makes one too (here through begin_transaction, _NOT_CONFIGURED).
    local conf = { ["bootstrap.servers"] = "127.0.0.1:1", log_level = 0 }
    local p, p2 = rdkafka.producer(conf), rdkafka.producer(conf)
    local made = 0
    local mt = { __gc = function()
      local _, e = p2:begin_transaction()
      if e and e.name == "_NOT_CONFIGURED" then made = made + 1 end
    end }
    local make = newproxy and function() -- luacheck: ignore (Lua 5.1 and LuaJIT run no table finalizers)
      local u = newproxy(true)
      getmetatable(u).__gc = mt.__gc
    end or function() setmetatable({}, mt) end
    -- A collection step at almost every allocation.
    local pause, stepmul = collectgarbage("setpause", 1), collectgarbage("setstepmul", 1000)
    for _ = 1, 3000 do
      make()
      local _, e = p:begin_transaction()
      assert.are.equal("_NOT_CONFIGURED", e.name)
    end
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage()
    assert.is_true(made > 0)
    p:close(0)
    p2:close(0)
  end)

  it("cannot be made from a foreign value through the debug library", function()
    -- The maker sits in the registry; it read any value as librdkafka's error.
    local refused = 0
    for key, value in pairs(debug.getregistry()) do
      if type(key) == "userdata" and type(value) == "function" then
        for _, foreign in ipairs { io.stdout, key } do
          local ok, err = pcall(value, nil, foreign)
          if not ok and tostring(err):find("no error object is being made", 1, true) then refused = refused + 1 end
        end
      end
    end
    assert.are.equal(2, refused)
  end)

  it("report the librdkafka version", function()
    assert.matches("^%d+%.%d+%.%d+", rdkafka.librdkafka_version)
  end)
end)

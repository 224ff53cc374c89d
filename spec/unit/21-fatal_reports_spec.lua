-- Delivery reports once a producer failed fatally: `err.fatal` is true only
-- for a message the fatal error failed (its code, or librdkafka's purge of
-- what was queued when it came), never for an earlier, unrelated failure
-- that is merely served after it; and such an error is never retriable.
local rdkafka = require("rdkafka")
local core = require("rdkafka.core")
local helpers = require("helpers")
local cqueues = require("cqueues")
local socket = require("cqueues.socket")

describe("delivery reports of a fatal producer", function()
  it("say fatal for what the fatal error failed, and only for that", function()
    local reports, errors = {}, {}
    -- A broker that never answers: every message stays queued until it
    -- times out or is purged.
    local silent = assert(socket.listen("127.0.0.1", 0))
    local _, _, port = assert(silent:localname())
    local p = rdkafka.producer { ["bootstrap.servers"] = "127.0.0.1:" .. port, ["message.timeout.ms"] = 200,
      log_level = 0, on_log = function() end,
      on_delivery = function(err, msg) reports[#reports + 1] = { err = err, value = msg.value } end,
      on_error = function(err) errors[#errors + 1] = err end }
    assert.is_true(p:produce("t", "timed out"))
    -- Its _MSG_TIMED_OUT report waits in the queue, not served yet: the
    -- handle's descriptor turns readable once it is there (librdkafka looks
    -- for timed-out messages once a second). The listener accepts and never
    -- answers, so no connection error is queued before it.
    assert.are.equal(p, cqueues.poll(p, 30), "no _MSG_TIMED_OUT report in 30 s")
    assert.is_true(p:produce("t", "purged by the application"))
    assert.is_true(p:purge())
    assert.is_true(p:produce("t", "queued at the fatal error"))
    assert.are.equal(0, core._test_fatal_error(p, rdkafka.errors.OUT_OF_ORDER_SEQUENCE_NUMBER, "for a test"))
    local ok, err = p:produce("t", "refused")
    assert.is_nil(ok)
    assert.is_true(err.fatal)
    helpers.wait_until(5, function()
      p:poll(0.1)
      return #reports >= 3
    end)
    assert.are.equal(3, #reports)
    local by_value = {}
    for _, r in ipairs(reports) do by_value[r.value] = r.err end

    local timed_out = by_value["timed out"]
    assert.are.equal("_MSG_TIMED_OUT", timed_out.name)
    assert.is_false(timed_out.fatal)
    assert.is_true(timed_out.retriable)

    local purged = by_value["purged by the application"]
    assert.are.equal("_PURGE_QUEUE", purged.name)
    assert.is_false(purged.fatal)

    local failed = by_value["queued at the fatal error"]
    assert.are.equal("_PURGE_QUEUE", failed.name)
    assert.is_true(failed.fatal)
    assert.is_false(failed.retriable)

    local fatal
    for _, e in ipairs(errors) do if e.fatal then fatal = e end end
    assert.is_truthy(fatal)
    assert.are.equal("OUT_OF_ORDER_SEQUENCE_NUMBER", fatal.name)
    assert.is_false(fatal.retriable)
    p:close(1)
    silent:close()
  end)

  it("say fatal for the message whose error made the producer fatal", function()
    local mc = rdkafka.mock_cluster { brokers = 1 }
    assert.is_true(mc:create_topic("desync", 1, 1))
    local reports = {}
    local p = rdkafka.producer { ["bootstrap.servers"] = mc.bootstrap_servers, log_level = 0,
      on_log = function() end, on_error = function() end,
      on_delivery = function(err, msg) reports[#reports + 1] = { err = err, value = msg.value } end }
    assert(p:metadata("desync", 5))
    -- Idempotent (the module's default): this error cannot be retried safely.
    assert.is_true(mc:push_request_errors("Produce", "OUT_OF_ORDER_SEQUENCE_NUMBER"))
    assert.is_true(p:produce("desync", "v"))
    assert.are.equal(0, p:flush(5))
    assert.are.equal(1, #reports)
    assert.are.equal("OUT_OF_ORDER_SEQUENCE_NUMBER", reports[1].err.name)
    assert.is_true(reports[1].err.fatal)
    assert.is_false(reports[1].err.retriable)
    p:close(1)
    mc:close()
  end)
end)

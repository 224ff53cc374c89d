-- Shared by the examples: where the brokers are (an embedded mock cluster
-- unless --brokers LIST or KAFKA_BOOTSTRAP says otherwise), and service
-- options that make group joins quick there.
local rdkafka = require("rdkafka")

local M = {}

--- The brokers, and a function that stops what was started for them.
function M.brokers(topics)
  local brokers = os.getenv("KAFKA_BOOTSTRAP")
  for i = 1, #arg do
    if arg[i] == "--brokers" then brokers = arg[i + 1] end
  end
  if brokers and brokers ~= "" then return brokers, function() end end
  local cluster = rdkafka.mock_cluster { brokers = 1 }
  for name, partitions in pairs(topics or {}) do assert(cluster:create_topic(name, partitions, 1)) end
  return cluster.bootstrap_servers, function() cluster:close() end
end

--- Options for service.new: quick joins, quiet logs, and `extra`.
function M.options(name, brokers, extra)
  local o = { name = name, brokers = brokers, log_interval = 0, backoff = 0.2,
    ["session.timeout.ms"] = 6000, ["heartbeat.interval.ms"] = 500,
    log = function(level, line) if level ~= "info" then print(("  (%s) %s"):format(level, line)) end end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

--- Steps the services until done() or `seconds` pass; returns done().
function M.run_until(services, seconds, done)
  local deadline = os.time() + seconds
  repeat
    for _, svc in ipairs(services) do svc:step(0.05) end
  until done() or os.time() > deadline
  return done()
end

return M

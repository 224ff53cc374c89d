-- A mock cluster in its own process, so the broker's threads do not share the
-- benchmarked process. Prints its bootstrap servers, runs until stdin closes.
local rdkafka = require("rdkafka")
local mc = rdkafka.mock_cluster { brokers = 1 }
assert(mc:create_topic("bench", 1, 1))
io.stdout:write(mc.bootstrap_servers, "\n")
io.stdout:flush()
io.read("a")
mc:close()

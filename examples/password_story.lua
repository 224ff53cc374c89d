-- The seed's story end to end: the account service changes a password
-- synchronously and publishes user.password_changed; the email service
-- sends the confirmation and the audit service records it, asynchronously,
-- each as its own consumer group. A failing email server is retried, and an
-- event that cannot be read goes to the dead-letter topic.
--   make demo                          (embedded mock cluster, no Java)
--   lua5.4 examples/password_story.lua --brokers 127.0.0.1:9092
local rdkafka = require("rdkafka")
local service = require("rdkafka.service")

local brokers = os.getenv("KAFKA_BOOTSTRAP")
if arg[1] == "--brokers" then brokers = arg[2] end
local cluster
if not brokers or brokers == "" then
  cluster = rdkafka.mock_cluster { brokers = 1 }
  assert(cluster:create_topic("user.password_changed", 3, 1))
  brokers = cluster.bootstrap_servers
end
print("Kafka at " .. brokers)
local quiet = { log_interval = 0, ["session.timeout.ms"] = 6000, ["heartbeat.interval.ms"] = 500,
  log = function(level, line) print(("  (%s) %s"):format(level, line)) end }
local function opts(name)
  local o = { name = name, brokers = brokers, backoff = 0.2 }
  for k, v in pairs(quiet) do o[k] = v end
  return o
end

-- The account service: the request returns at once, the event travels on.
local users = { ada = { email = "ada@example.org" }, grace = { email = "grace@example.org" } }
local events = service.publisher { brokers = brokers, name = "account" }
local function change_password(user, password)
  local account = users[user]
  if not account then return 404, "no such user" end
  account.password_hash = ("%x"):format(#password * 2654435761 % 4294967296) -- a stand-in store
  local ok, err = events:publish("user.password_changed",
    { user = user, email = account.email, at = os.date("!%Y-%m-%dT%H:%M:%SZ") }, { key = user })
  if not ok then return 500, tostring(err) end
  return 200, "password changed"
end
for _, user in ipairs { "ada", "grace", "ada" } do
  print(("account: change_password(%s) -> %d %s"):format(user, change_password(user, "s3cret-" .. user)))
end
-- An event nobody can read, to show the dead-letter topic.
events.producer:produce { topic = "user.password_changed", key = "mallory", value = "{not json" }
assert(events:flush(10) == 0, "an event was not delivered")

-- The email service: its mail server fails the first time.
local sent, mail_server_up = 0, false
local email = service.new(opts("email"))
email:on("user.password_changed", function(event, ctx)
  if not mail_server_up then
    mail_server_up = true
    error("mail server unavailable")
  end
  sent = sent + 1
  print(("email: to %s, attempt %d: your password was changed at %s"):format(event.email, ctx.attempt, event.at))
end)

-- The audit service: records everything about users.
local audited = 0
local audit = service.new(opts("audit"))
audit:on("user.password_changed", function(event, ctx)
  audited = audited + 1
  print(("audit: %s changed a password (partition %d, offset %d)"):format(event.user, ctx.partition, ctx.offset))
end)

-- Both run in this process here; in production each is its own process
-- (bin/rdkafka-service), with as many instances as it needs.
local deadline = os.time() + 60
service.run_all({ email, audit }, { stop_when = function()
  return (sent == 3 and audited == 3 and email.counters.dead_lettered == 1) or os.time() > deadline
end })
events:close()
for _, svc in ipairs { email, audit } do
  local m = svc:metrics()
  print(("%s: handled %d, failed %d, retried %d, dead-lettered %d"):format(svc.name, m.handled, m.failed,
    m.retried, m.dead_lettered))
end
if cluster then cluster:close() end
assert(sent == 3 and audited == 3, "the story did not end as told")
print("done: 3 emails sent, 3 changes audited, 1 unreadable event dead-lettered by each service")

-- The seed's services as one file for the rdkafka-service command: `email`
-- sends the confirmation of a password change, `audit` records it. Each is
-- its own consumer group, so each sees every event.
--   bin/rdkafka-service examples/services.lua --mock         (embedded cluster)
--   bin/rdkafka-service examples/services.lua --brokers 127.0.0.1:9092 --watch
-- The brokers come from the command: these services do not name them.
local service = require("rdkafka.service")

local email = service.new { name = "email" }
email:on("user.password_changed", function(event, ctx)
  -- A real service would call its mail server here; raising retries the event.
  print(("[email] to %s: your password was changed at %s (partition %d, offset %d)")
    :format(event.email, event.at, ctx.partition, ctx.offset))
end)

local audit = service.new { name = "audit" }
audit:on("^user\\..*", function(event, ctx) -- every user.* topic, also ones created later
  print(("[audit] %s user=%s"):format(ctx.topic, tostring(event.user)))
end)

return { email, audit }

-- The rdkafka-service command: runs what a file returns on the embedded mock
-- cluster, reloads it with --watch (a broken file keeps the old handlers),
-- stops on SIGTERM; and its usage errors.
local helpers = require("helpers")

describe("rdkafka-service", function()
  local function command(args)
    return helpers.lua_command() .. " bin/rdkafka-service " .. args
  end

  local function run(args)
    local pipe = assert(io.popen(command(args) .. " 2>&1; echo \"exit=$?\""))
    local out = pipe:read("*a")
    pipe:close()
    return out
  end

  local function read(path)
    local f = io.open(path)
    if not f then return "" end
    local s = f:read("*a")
    f:close()
    return s
  end

  -- A services file: at load it publishes one event tagged `version`; its
  -- handler appends "<version> handled <event>" to `out`.
  -- Written aside and renamed into place, as editors save: the watcher never
  -- reads a file half written.
  local function services_file(path, out, version, broken)
    local f = assert(io.open(path .. ".new", "w"))
    f:write(([[
local service = require("rdkafka.service")
local pub = service.publisher { brokers = service.defaults.brokers }
assert(pub:publish("watched", { v = %q }))
assert(pub:close() == 0)
local svc = service.new { name = "watcher", log_interval = 0, ["session.timeout.ms"] = 6000,
  ["heartbeat.interval.ms"] = 500 }
svc:on("watched", function(event)
  local f = assert(io.open(%q, "a"))
  f:write(%q .. " handled " .. event.v .. "\n")
  f:close()
end)
%s
return svc
]]):format(version, out, version, broken and "error('this version is broken')" or ""))
    f:close()
    assert(os.rename(path .. ".new", path))
  end

  it("runs a file's services on the mock cluster and reloads them with --watch", function()
    local file, out, log, pidfile = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
    services_file(file, out, "v1")
    assert(os.execute(("%s >%s 2>&1 & echo $! >%s"):format(command(file .. " --mock --watch"), log, pidfile)))
    local pid = read(pidfile):match("%d+")
    assert.is_truthy(helpers.wait_until(60, function() return read(out):find("v1 handled v1", 1, true) end),
      "v1 never ran: " .. read(log))
    services_file(file, out, "v2", true) -- broken: v1 keeps running
    assert.is_truthy(helpers.wait_until(30, function() return read(log):find("not reloaded", 1, true) end))
    assert.matches("this version is broken", read(log))
    services_file(file, out, "v3")
    assert.is_truthy(helpers.wait_until(60, function() return read(out):find("v3 handled v3", 1, true) end),
      "v3 never ran: " .. read(log))
    assert.is_nil(read(out):find("v1 handled v3", 1, true))
    os.execute("kill -TERM " .. pid)
    assert.is_truthy(helpers.wait_until(30, function() return read(log):find("stop handled=", 1, true) end))
    for _, p in ipairs { file, out, log, pidfile } do os.remove(p) end
  end)

  it("says what is wrong with its arguments", function()
    assert.matches("usage: rdkafka%-service FILE.lua.*exit=2", run(""))
    assert.matches("unknown option %-%-nope.*exit=2", run("x.lua --nope"))
    assert.matches("%-%-brokers and %-%-mock exclude each other.*exit=2", run("x.lua --mock --brokers a:1"))
    assert.matches("cannot read /nonexistent.lua.*exit=2", run("/nonexistent.lua --brokers a:1"))
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write("return 42\n")
    f:close()
    assert.matches("must return a service or a list of services %(got number%).*exit=2", run(file .. " --brokers a:1"))
    os.remove(file)
  end)
end)

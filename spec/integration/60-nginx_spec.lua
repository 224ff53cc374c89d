-- A real nginx (Debian's nginx and its Lua module, the LuaJIT build of this
-- module) serving examples/nginx/nginx.conf as written, on the real broker:
-- every accepted request produces exactly one message, before and across
-- graceful reloads while requests are in flight; /metrics counts them; a
-- handle made in the master fails with the fork error in a worker.
local cqueues = require("cqueues")
local socket = require("cqueues.socket")
local rdkafka = require("rdkafka")
local helpers = require("helpers")

local ROOT = assert(os.getenv("PWD"), "run from the repository root")
local CONF = "examples/nginx/nginx.conf"
local TOPIC = "user.password_changed"

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

local function pause(seconds) cqueues.sleep(seconds) return nil end

local function read_file(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- One HTTP request on a connection of its own: status, body (nil, err
-- when the connection failed).
local function http(port, method, path, body)
  local s, err = socket.connect { host = "127.0.0.1", port = port }
  if not s then return nil, err end
  s:settimeout(15)
  s:setmode("b", "b") -- no newline translation: HTTP wants CRLF as written
  -- HTTP/1.0: the body comes as it is, not in chunks.
  local req = ("%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"):format(method, path)
  if body then
    req = req .. ("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"):format(#body)
  end
  local ok, werr = s:write(req .. "\r\n" .. (body or ""))
  if not ok then s:close() return nil, werr end
  local status_line, rerr = s:read("*l")
  if not status_line then s:close() return nil, rerr end
  local rest = s:read("*a") or ""
  s:close()
  return tonumber(status_line:match("^HTTP/1%.%d (%d+)")), rest:match("\r\n\r\n(.*)$") or ""
end

-- Outside a coroutine: the same, run on a controller of its own.
local function get(port, path)
  local cq, status, body = cqueues.new(), nil, nil
  cq:wrap(function() status, body = http(port, "GET", path) end)
  assert(cq:loop(20))
  return status, body
end

local function wait_for_http(port)
  return helpers.wait_until(20, function()
    local status = get(port, "/ping")
    return status ~= nil or pause(0.1)
  end)
end

local function master_pid(prefix)
  local s = read_file(prefix .. "/build/nginx/nginx.pid")
  return s and tonumber(s:match("%d+"))
end

local function alive(pid) return sh(("kill -0 %d 2>/dev/null"):format(pid)) end

describe("nginx #nginx #kafka", function()
  local bootstrap
  lazy_setup(function()
    bootstrap = assert(helpers.kafka_bootstrap(), "the real broker (scripts/kafka up)")
    assert(read_file("build/luajit/rdkafka/core.so"), "make LUA=luajit first")
    sh(("scripts/kafka create-topic %s 3 >/dev/null 2>&1"):format(TOPIC)) -- fails when it exists: fine
    assert(sh("mkdir -p build/nginx"))
  end)

  it("publishes exactly one message per accepted request, across two graceful reloads", function()
    local run = helpers.unique("u")
    local nginx = ("KAFKA_BOOTSTRAP='%s' nginx -p '%s/' -c %s -e build/nginx/stderr.log")
      :format(bootstrap, ROOT, CONF)
    assert(sh(nginx), "nginx did not start: " .. tostring(read_file("build/nginx/stderr.log")))
    local pid = master_pid(ROOT)
    finally(function()
      if pid and alive(pid) then sh(("kill -TERM %d"):format(pid)) end
    end)
    assert.is_truthy(wait_for_http(8080), "nginx does not answer")

    local total, clients, done = 900, 12, 0
    local accepted, refused = {}, {}
    local reloads = 0
    local cq = cqueues.new()
    for client = 1, clients do
      cq:wrap(function()
        for i = client, total, clients do
          local user = ("%s-%d"):format(run, i)
          local status, body = http(8080, "POST", "/password", "user=" .. user .. "&password=pw" .. i)
          if status == 200 then
            accepted[user] = true
          else
            refused[#refused + 1] = ("%s: %s %s"):format(user, tostring(status), tostring(body))
          end
          done = done + 1
        end
      end)
    end
    cq:wrap(function() -- reloads while requests are in flight
      for _, at in ipairs { math.floor(total / 3), math.floor(2 * total / 3) } do
        while done < at do cqueues.sleep(0.005) end
        assert(sh(("kill -HUP %d"):format(pid)))
        reloads = reloads + 1
      end
    end)
    assert(cq:loop(120))
    assert.are.equal(2, reloads)
    assert.are.same({}, refused)
    local n_accepted = 0
    for _ in pairs(accepted) do n_accepted = n_accepted + 1 end
    assert.are.equal(total, n_accepted)

    -- The counters, summed over the workers old and new: every event delivered.
    local metrics
    assert.is_truthy(helpers.wait_until(30, function()
      local _, body = get(8080, "/metrics")
      metrics = body or ""
      local delivered = tonumber(metrics:match("rdkafka_publisher_delivered_total (%d+)"))
      return delivered == total or pause(0.2)
    end), metrics)
    assert.matches("rdkafka_publisher_failed_total 0\n", metrics, 1, true)
    assert.matches('rdkafka_service_handled_total{service="email"}', metrics, 1, true)

    -- A graceful stop: the workers flush and exit.
    assert(sh(("kill -QUIT %d"):format(pid)))
    assert.is_truthy(helpers.wait_until(60, function() return not alive(pid) or pause(0.1) end))
    local log = read_file(ROOT .. "/build/nginx/error.log") or ""
    assert.is_nil(log:find("delivery failed", 1, true))

    -- A consumer of its own reads the topic to its end.
    local c = rdkafka.consumer(helpers.consumer_conf(bootstrap, helpers.unique("nginx-check")))
    local ends = {}
    for partition = 0, 2 do
      local _, high = assert(c:watermarks(TOPIC, partition, 10))
      ends[partition] = high
    end
    assert(c:assign { { topic = TOPIC, partition = 0, offset = "beginning" },
      { topic = TOPIC, partition = 1, offset = "beginning" },
      { topic = TOPIC, partition = 2, offset = "beginning" } })
    local seen, reached = {}, {}
    assert.is_truthy(helpers.wait_until(120, function()
      local msgs = c:consume(1000, 0.5)
      for _, m in ipairs(msgs) do
        if m.key and m.key:sub(1, #run + 1) == run .. "-" then seen[m.key] = (seen[m.key] or 0) + 1 end
        if m.offset + 1 >= ends[m.partition] then reached[m.partition] = true end
      end
      for partition = 0, 2 do
        if ends[partition] > 0 and not reached[partition] then return false end
      end
      return true
    end))
    c:close()
    local twice, unknown, missing = {}, {}, {}
    for user, n in pairs(seen) do
      if n > 1 then twice[#twice + 1] = user end
      if not accepted[user] then unknown[#unknown + 1] = user end
    end
    for user in pairs(accepted) do
      if not seen[user] then missing[#missing + 1] = user end
    end
    assert.are.same({ {}, {}, {} }, { missing, twice, unknown })
  end)

  it("the fork error for a handle of the master; bad input; a failed delivery logged and counted", function()
    local prefix = os.tmpname()
    os.remove(prefix)
    assert(sh(("mkdir -p '%s/build/nginx'"):format(prefix)))
    local f = assert(io.open(prefix .. "/nginx.conf", "w"))
    f:write(([[
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
worker_processes 1;
pid build/nginx/nginx.pid;
error_log build/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path build/nginx/body;
  lua_package_path "%s/lua/?.lua;%s/lua/?/init.lua;;";
  lua_package_cpath "%s/build/luajit/?.so;;";
  lua_shared_dict kafka 1m;
  init_by_lua_block {
    made_in_master = require("rdkafka").producer { ["bootstrap.servers"] = "%s" }
  }
  init_worker_by_lua_block {
    require("rdkafka.resty").init_worker { brokers = "127.0.0.1:1", shared_dict = "kafka",
      ["message.timeout.ms"] = 1000, ["log_level"] = 0 }
  }
  server {
    listen 127.0.0.1:8081;
    location = /ping { content_by_lua_block { ngx.say("pong") } }
    location = /publish {
      content_by_lua_block {
        local ok, err = require("rdkafka.resty").publish("resty-failing", { n = 1 })
        ngx.say(ok and "queued" or tostring(err))
      }
    }
    location = /metrics { content_by_lua_block { ngx.print(require("rdkafka.resty").metrics_text()) } }
    location = /bad_input {
      content_by_lua_block {
        local kafka = require("rdkafka.resty")
        for i, call in ipairs {
          function() kafka.init_worker { brokers = "x", poll_interval = -1 } end,
          function() kafka.init_worker { brokers = "x", shared_dict = "nope" } end,
          function() kafka.init_worker { brokers = "x", bogus = 1 } end,
          function() kafka.init_worker("x") end,
          function() kafka.init_worker {} end,
          function() kafka.run_service(nil) end,
          function() kafka.run_service({ step = function() end }, { idle = -1 }) end,
          function() kafka.publish(nil, {}) end,
          function() kafka.publish("", {}) end,
        } do
          local ok, err = pcall(call)
          ngx.say(i, ": ", ok and "no error" or tostring(err))
        end
      }
    }
    location = /produce {
      content_by_lua_block {
        local ok, err = pcall(made_in_master.produce, made_in_master, { topic = "t", value = "v" })
        ngx.say(ok and "no error" or tostring(err))
      }
    }
    location = /init_worker {
      content_by_lua_block {
        local ok, err = pcall(require("rdkafka.resty").init_worker, { brokers = "%s" })
        ngx.say(ok and "no error" or tostring(err))
      }
    }
  }
}
]]):format(ROOT, ROOT, ROOT, bootstrap, bootstrap))
    f:close()
    assert(sh(("nginx -p '%s/' -c nginx.conf -e build/nginx/stderr.log"):format(prefix)))
    local pid = master_pid(prefix)
    finally(function()
      if pid and alive(pid) then sh(("kill -TERM %d"):format(pid)) end
      sh(("rm -rf '%s'"):format(prefix))
    end)
    assert.is_truthy(wait_for_http(8081))
    local status, body = get(8081, "/produce")
    assert.are.equal(200, status)
    assert.matches("rdkafka.Producer was created in process %d+ and used in process %d+: librdkafka handles "
      .. "do not survive fork%(%); create handles per process %(in nginx, in init_worker_by_lua%*%)", body)
    status, body = get(8081, "/init_worker")
    assert.are.equal(200, status)
    assert.matches("call it from init_worker_by_lua%* .* not from content", body)

    status, body = get(8081, "/bad_input")
    assert.are.equal(200, status)
    for i, pattern in ipairs {
      "option 'poll_interval' must be a positive number of seconds",
      "no lua_shared_dict named 'nope'",
      "unknown option 'bogus'",
      "options table expected, got string",
      "option 'brokers' is required",
      "bad argument #1 to 'run_service' %(service expected%)",
      "option 'idle' must be a positive number of seconds",
      "bad argument #1 to 'publish' %(topic must be a non%-empty string, got nil%)",
      "bad argument #1 to 'publish' %(topic must be a non%-empty string, got string%)",
    } do
      assert.matches("\n?" .. i .. ": [^\n]*" .. pattern, body)
    end

    -- Never silent: a delivery that fails is in the error log and the counter.
    status, body = get(8081, "/publish")
    assert.are.same({ 200, "queued\n" }, { status, body })
    local metrics
    assert.is_truthy(helpers.wait_until(30, function()
      metrics = select(2, get(8081, "/metrics")) or ""
      return metrics:find("rdkafka_publisher_failed_total 1\n", 1, true) or pause(0.2)
    end), metrics)
    local log = read_file(prefix .. "/build/nginx/error.log") or ""
    assert.matches("kafka: delivery failed: topic=resty%-failing partition=%-?%d+ error=_MSG_TIMED_OUT", log)
  end)
end)

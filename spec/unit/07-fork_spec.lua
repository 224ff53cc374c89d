local rdkafka = require("rdkafka")
local fork = require("spec.fork")

-- Not under valgrind: a forked child of a threaded process stalls in its scheduler.
describe("a handle used after fork() #novalgrind", function()
  it("raises an error that says to create handles per process", function()
    local p = rdkafka.producer { ["bootstrap.servers"] = "127.0.0.1:1", ["log_level"] = 0 }
    local c = rdkafka.consumer { ["bootstrap.servers"] = "127.0.0.1:1", ["group.id"] = "g", ["log_level"] = 0 }
    local pid = fork.fork()
    if pid == 0 then
      local ok1, e1 = pcall(p.produce, p, "t", "v")
      local ok2, e2 = pcall(c.poll, c, 0)
      local good = not ok1 and tostring(e1):find("create handles per process", 1, true)
        and not ok2 and tostring(e2):find("create handles per process", 1, true)
      -- Closing in the child must not touch the parent's threads (and must not hang).
      p:close()
      c:close()
      fork.exit(good and 0 or 1)
    end
    assert.are.equal(0, fork.wait(pid))
    -- The parent's handles are untouched.
    assert.is_true(p:produce("t", "v"))
    p:close(0)
    c:close()
  end)
end)

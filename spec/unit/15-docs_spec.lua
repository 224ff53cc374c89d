-- The README shows examples/nginx/nginx.conf, examples/cqueues.lua and
-- examples/luv.lua as they are (CI runs those files), so what a reader
-- copies is what was tested.
local function read(path)
  local f = assert(io.open(path))
  local s = f:read("*a")
  f:close()
  return s
end

describe("README", function()
  local readme = read("README.md")

  local function blocks(lang)
    local found = {}
    for body in readme:gmatch("\n```" .. lang .. "\n(.-)```\n") do found[#found + 1] = body end
    return found
  end

  local function shows(list, text)
    for _, body in ipairs(list) do
      if body == text then return true end
    end
    return false
  end

  it("shows examples/nginx/nginx.conf as it is", function()
    assert.is_true(shows(blocks("nginx"), read("examples/nginx/nginx.conf")))
  end)

  for _, file in ipairs { "examples/cqueues.lua", "examples/luv.lua" } do
    it("shows " .. file .. " as it is", function()
      assert.is_true(shows(blocks("lua"), read(file)))
    end)
  end
end)

-- The generated API pages list every method: each class's methods have an
-- LDoc block (`@function name`) in one of the files config.ld gives LDoc.
describe("LDoc", function()
  it("documents every method of the producer, the consumer and the admin handle", function()
    require("rdkafka")
    local config = read("config.ld")
    local documented, class = {}, nil
    for path in config:match("file%s*=%s*(%b{})"):gmatch('"([^"]+)"') do
      for tag, value in read(path):gmatch("@(%w+)%s+([%w_.]+)") do
        if tag == "classmod" or tag == "submodule" or tag == "module" then
          class = value
          documented[class] = documented[class] or {}
        elseif tag == "function" and class then
          documented[class][value] = true
        end
      end
    end
    -- Documented in the class's own text, with the version that has them.
    local missing = { list_offsets = true, describe_cluster = true, describe_topics = true,
      incremental_alter_configs = true, describe_user_scram_credentials = true,
      alter_user_scram_credentials = true }
    for _, name in ipairs { "rdkafka.Producer", "rdkafka.Consumer", "rdkafka.Admin" } do
      local methods = debug.getregistry()[name].__index
      local undocumented = {}
      for method in pairs(methods) do
        if not (documented[name] and documented[name][method]) and not missing[method] then
          undocumented[#undocumented + 1] = method
        end
      end
      table.sort(undocumented)
      assert.are.same({}, undocumented, name)
      assert.is_truthy(documented[name].produce or documented[name].poll, name) -- the scan found the class
    end
  end)
end)

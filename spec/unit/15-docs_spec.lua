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

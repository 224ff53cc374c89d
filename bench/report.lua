-- The report of bench/all: reads its raw figures (case, client, value per
-- run), writes DEST.md (medians, ratios to C, the targets of the issue that
-- asked for them, met or not), DEST.tsv (the medians) and DEST.plot.tsv
-- (ratios to C of the throughput cases, for bench/plot.gp).
-- usage: lua5.4 bench/report.lua RAW.tsv MACHINE.txt DEST
local raw_path, machine_path, dest = arg[1], arg[2], arg[3]

local cases, by_case = {}, {}
for line in io.lines(raw_path) do
  local case, client, value = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
  if case then
    local c = by_case[case]
    if not c then
      c = { name = case, clients = {}, values = {} }
      by_case[case] = c
      cases[#cases + 1] = c
    end
    if not c.values[client] then
      c.values[client] = {}
      c.clients[#c.clients + 1] = client
    end
    table.insert(c.values[client], value)
  end
end

local function median(list)
  local nums = {}
  for _, v in ipairs(list) do nums[#nums + 1] = assert(tonumber(v), "not a number: " .. v) end
  table.sort(nums)
  local n = #nums
  if n % 2 == 1 then return nums[(n + 1) // 2] end
  return (nums[n // 2] + nums[n // 2 + 1]) / 2
end

local function med(case, client)
  local c = by_case[case]
  local v = c and c.values[client]
  if not v or case:match("^rss") then return nil end
  return median(v)
end

local function fmt(x)
  if x >= 100 then
    local s = ("%d"):format(math.floor(x + 0.5))
    return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
  end
  return ("%.3g"):format(x)
end

local out = {}
local function w(...) out[#out + 1] = table.concat({ ... }) end
w("# Benchmarks against peers, one run")
w("")
for line in io.lines(machine_path) do w("- ", line) end
w("")
w("Throughput in messages (events) per second, latency in milliseconds, medians over the rounds;")
w("\"of C\" is the median divided by the C program's median in the same case (for latency, lower is better).")
w("")
local tsv = { "case\tclient\tmedian\tof C\truns" }
for _, c in ipairs(cases) do
  w("## ", c.name)
  w("")
  if c.name:match("^rss") then
    w("| client | resident set size after each tenth of the run (MiB) |")
    w("| --- | --- |")
    for _, client in ipairs(c.clients) do
      for _, v in ipairs(c.values[client]) do w("| ", client, " | ", v, " |") end
    end
  else
    local base = med(c.name, "C")
    w("| client | median | of C | runs |")
    w("| --- | --- | --- | --- |")
    for _, client in ipairs(c.clients) do
      local m = med(c.name, client)
      local ratio = base and ("%.2f"):format(m / base) or ""
      w("| ", client, " | ", fmt(m), " | ", ratio, " | ", table.concat(c.values[client], ", "), " |")
      local runs = table.concat(c.values[client], " ")
      tsv[#tsv + 1] = table.concat({ c.name, client, ("%.3f"):format(m), ratio, runs }, "\t")
    end
  end
  w("")
end

-- The targets, where the run has the figures for them.
local targets = {}
local function target(what, case, client, value, want, op)
  if value then
    local met = (op == "<=" and value <= want) or (op ~= "<=" and value >= want)
    targets[#targets + 1] = ("| %s | %s | %s | %.2f | %s %.2f | %s |"):format(what, case, client, value,
      op or ">=", want, met and "met" or "missed")
  end
end
local function ratio(case, a, b)
  local x, y = med(case, a), med(case, b)
  return x and y and x / y or nil
end
local luas = {}
for _, c in ipairs(cases) do
  for _, client in ipairs(c.clients) do
    local lua = client:match("^(lua%S+) ")
    if lua and not luas[lua] then luas[lua] = true; luas[#luas + 1] = lua end
  end
end
for _, c in ipairs(cases) do
  local name = c.name
  for _, lua in ipairs(luas) do
    if name:match("^produce %d+B %a+$") then
      target("produce, positional, of C", name, lua, ratio(name, lua .. " positional", "C"), 0.9)
      target("produce, table form, of C", name, lua, ratio(name, lua .. " table", "C"), 0.75)
      target("produce, on_delivery with delivery.report.fields=none, of C", name, lua,
        ratio(name, lua .. " offsets", "C"), 0.9)
      target("produce, on_delivery for failures only, of C", name, lua, ratio(name, lua .. " failures", "C"), 0.9)
      target("produce, of confluent-kafka-python", name, lua, ratio(name, lua .. " positional", "python"), 2.5)
    elseif name:match("^consume") then
      target("consume(1000), of C", name, lua, ratio(name, lua .. " consume", "C"), 0.9)
      target("poll per message, of C", name, lua, ratio(name, lua .. " poll", "C"), 0.75)
      target("consume_columns(1000), of C", name, lua, ratio(name, lua .. " columns", "C"), 0.9)
      target("consume(1000), of confluent-kafka-python consume(1000)", name, lua,
        ratio(name, lua .. " consume", "python consume"), 2.5)
    elseif name == "latency p99 ms" then
      target("latency p99, of C", name, lua, ratio(name, lua, "C"), 1.2, "<=")
    end
  end
  if name:match("in nginx") then
    target("produce in nginx, of lua-resty-kafka async", name, "nginx rdkafka produce",
      ratio(name, "nginx rdkafka produce", "nginx lua-resty-kafka async"), 10)
  end
end
if #targets > 0 then
  w("## Targets")
  w("")
  w("| target | case | client | ratio | wanted | |")
  w("| --- | --- | --- | --- | --- | --- |")
  for _, t in ipairs(targets) do w(t) end
  w("")
end

local f = assert(io.open(dest .. ".md", "w"))
f:write(table.concat(out, "\n"))
f:close()
f = assert(io.open(dest .. ".tsv", "w"))
f:write(table.concat(tsv, "\n"), "\n")
f:close()

-- Plot data: one row per throughput case, the ratio to C of each column.
local columns = {
  { "Lua 5.4 positional / poll", { "lua5.4 positional", "lua5.4 poll" } },
  { "Lua 5.4 table / consume", { "lua5.4 table", "lua5.4 consume" } },
  { "Lua 5.4 failures only / consume_columns", { "lua5.4 failures", "lua5.4 columns" } },
  { "LuaJIT positional / poll", { "luajit positional", "luajit poll" } },
  { "LuaJIT table / consume", { "luajit table", "luajit consume" } },
  { "LuaJIT failures only / consume_columns", { "luajit failures", "luajit columns" } },
  { "confluent-kafka-python (consume)", { "python", "python consume" } },
  { "kcat", { "kcat" } },
}
local rows = { "case\t" .. table.concat((function()
  local names = {}
  for i, col in ipairs(columns) do names[i] = '"' .. col[1] .. '"' end
  return names
end)(), "\t") }
for _, c in ipairs(cases) do
  if c.name:match("^produce %d+B %a+$") or c.name:match("^consume") then
    local base = med(c.name, "C")
    local row = { '"' .. c.name .. '"' }
    for _, col in ipairs(columns) do
      local v = "?"
      for _, client in ipairs(col[2]) do
        local m = base and med(c.name, client)
        if m then v = ("%.3f"):format(m / base); break end
      end
      row[#row + 1] = v
    end
    rows[#rows + 1] = table.concat(row, "\t")
  end
end
f = assert(io.open(dest .. ".plot.tsv", "w"))
f:write(table.concat(rows, "\n"), "\n")
f:close()

-- A consume-transform-produce loop in a process of its own, for the
-- exactly-once spec (spec/integration/72-exactly_once_spec.lua), which kills
-- and restarts it. Reads INPUT as group GROUP (read_committed), and per batch:
-- begin, one output per input on OUTPUT (value "<INPUT VALUE>|topic|partition|offset"),
-- send_offsets_to_transaction(consumer, next offsets), commit. Every third
-- transaction is aborted instead, and the consumer rewound to the group's
-- committed offsets, so those inputs are transformed again.
-- Appends "<run> <event> <transaction> <inputs>" lines to LOG (flushed at
-- once): begin, commit, abort, and "paused" when it stops in transaction
-- PAUSE_AT (0: never) with its output delivered but not committed, to be
-- killed there. Stops between transactions once the file STOP exists.
-- usage: lua eos_transformer.lua BROKERS INPUT OUTPUT GROUP TRANSACTIONAL_ID RUN LOG STOP PAUSE_AT
local rdkafka = require("rdkafka")

local unpack = table.unpack or unpack
local brokers, input, output, group, txn_id, run, log_path, stop_path, pause_at = unpack(arg, 1, 9)
pause_at = tonumber(pause_at)

local log = assert(io.open(log_path, "a"))
local function note(event, n, count)
  log:write(("%s %s %d %d\n"):format(run, event, n, count or 0))
  log:flush()
end

local function stop_requested()
  local f = io.open(stop_path)
  if f then f:close() end
  return f ~= nil
end

local producer = rdkafka.producer {
  ["bootstrap.servers"] = brokers,
  ["transactional.id"] = txn_id,
  on_delivery = function(err) assert(err == nil, tostring(err)) end,
}
assert(producer:init_transactions(60))

local consumer = rdkafka.consumer {
  ["bootstrap.servers"] = brokers,
  ["group.id"] = group,
  ["isolation.level"] = "read_committed",
  ["auto.offset.reset"] = "earliest",
  -- A short session: after a kill -9 the group hands the partitions on soon.
  ["session.timeout.ms"] = 6000,
  ["heartbeat.interval.ms"] = 500,
}
assert(consumer:subscribe(input))

-- Back to what the group committed, for the partitions of the batch.
local function rewind(batch)
  local seen, list = {}, {}
  for _, msg in ipairs(batch) do
    if not seen[msg.partition] then
      seen[msg.partition] = true
      list[#list + 1] = { topic = msg.topic, partition = msg.partition }
    end
  end
  local committed = assert(consumer:committed(list, 30))
  for _, entry in ipairs(committed) do
    assert(consumer:seek({ topic = entry.topic, partition = entry.partition,
      offset = entry.offset or "beginning" }, 30))
  end
end

local function abort(batch)
  assert(producer:abort_transaction(60))
  rewind(batch)
end

local n = 0
while true do
  local batch, err = consumer:consume(100, 1)
  assert(err == nil, tostring(err))
  if #batch == 0 then
    if stop_requested() then break end
  else
    n = n + 1
    note("begin", n, #batch)
    assert(producer:begin_transaction())
    local next_offsets, order = {}, {}
    local failed
    for _, msg in ipairs(batch) do
      local ok, perr = producer:produce { topic = output, key = msg.key,
        value = ("%s|%s|%d|%d"):format(msg.value:upper(), msg.topic, msg.partition, msg.offset) }
      if not ok then failed = perr break end
      if not next_offsets[msg.partition] then order[#order + 1] = msg.partition end
      next_offsets[msg.partition] = msg.offset + 1
    end
    local offsets = {}
    for _, partition in ipairs(order) do
      offsets[#offsets + 1] = { topic = input, partition = partition, offset = next_offsets[partition] }
    end
    if not failed then
      local ok, serr = producer:send_offsets_to_transaction(consumer, offsets, 60)
      if not ok then failed = serr end
    end
    if failed then
      assert(not failed.fatal, tostring(failed))
      note("abort", n, #batch)
      abort(batch)
    elseif n == pause_at then
      assert(producer:flush(60) == 0)
      note("paused", n, #batch)
      while true do producer:poll(1) end -- until killed
    elseif n % 3 == 0 then
      note("abort", n, #batch)
      abort(batch)
    else
      local ok, cerr = producer:commit_transaction(60)
      while not ok and cerr.retriable and not cerr.txn_requires_abort do
        ok, cerr = producer:commit_transaction(60)
      end
      if ok then
        note("commit", n, #batch)
      else
        assert(cerr.txn_requires_abort, tostring(cerr))
        note("abort", n, #batch)
        abort(batch)
      end
    end
  end
end

consumer:close()
producer:close()
note("stopped", n)
log:close()

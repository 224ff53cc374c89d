rockspec_format = "3.0"
package = "lua-rdkafka"
version = "scm-1"
source = {
  -- Built from a checkout with `luarocks make`; no published source yet.
  url = "git+file:///dev/null",
}
description = {
  summary = "Kafka for Lua over librdkafka: producer, group consumer, mock cluster",
  detailed = [[
    Produce, consume with consumer groups, commit offsets, and run an embedded
    mock cluster, from Lua 5.1 to 5.4 and LuaJIT (OpenResty), over librdkafka.
  ]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson", -- the JSON codec of rdkafka.service (Debian: lua-cjson)
}
external_dependencies = {
  RDKAFKA = {
    header = "librdkafka/rdkafka.h",
    library = "rdkafka",
  },
}
build = {
  type = "builtin",
  modules = {
    ["rdkafka.core"] = {
      sources = {
        "src/core.c", "src/admin.c", "src/admin_acls.c", "src/admin_configs.c", "src/admin_groups.c", "src/admin_topics.c", "src/client.c",
        "src/columns.c",
        "src/conf.c", "src/consume.c", "src/consumer.c", "src/error.c",
        "src/guard.c", "src/message.c", "src/metadata.c", "src/mock.c", "src/offsets.c", "src/partitions.c",
        "src/process.c", "src/producer.c", "src/rebalance.c", "src/runtime.c",
        "src/shutdown.c", "src/txn.c", "src/wake.c",
      },
      libraries = { "rdkafka", "pthread", "dl" },
      incdirs = { "$(RDKAFKA_INCDIR)" },
      libdirs = { "$(RDKAFKA_LIBDIR)" },
    },
    ["rdkafka"] = "lua/rdkafka/init.lua",
    ["rdkafka.admin"] = "lua/rdkafka/admin.lua",
    ["rdkafka.service"] = "lua/rdkafka/service.lua",
    ["rdkafka.publisher"] = "lua/rdkafka/publisher.lua",
    ["rdkafka.codec"] = "lua/rdkafka/codec.lua",
    ["rdkafka.options"] = "lua/rdkafka/options.lua",
    ["rdkafka.metrics"] = "lua/rdkafka/metrics.lua",
    ["rdkafka.resty"] = "lua/rdkafka/resty.lua",
  },
  install = {
    bin = { ["rdkafka-service"] = "bin/rdkafka-service" },
  },
}
test = {
  type = "busted",
}

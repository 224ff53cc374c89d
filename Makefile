# Builds rdkafka.core for one Lua runtime into build/<LUA>/, runs the demo and tests.
#   make                  build for Lua 5.4
#   make LUA=luajit       build for LuaJIT (also 5.1, 5.3)
#   make demo             produce/consume, then the password story with services,
#                         on the embedded mock cluster (no Java);
#                         installs missing Debian packages first (make deps)
#   make test             everything CI runs (.ci/run)
#   make bench            every benchmark against its peers on the real broker
#                         (bench/all: C, kcat, confluent-kafka-python,
#                         lua-resty-kafka), results into bench/results/
#   make bench-smoke      the same, once, with small counts (CI runs it)
#   make faults           the fault suite on a 3-node cluster (spec/faults/run):
#                         brokers killed, paused, all down; consumers, services
#                         and producers killed or closed mid-stream
#   make fuzz             100,000 calls of random and hostile arguments to every
#                         public function, on Lua 5.4 and LuaJIT (spec/fuzz),
#                         and 20,000 on Lua 5.4 with AddressSanitizer
#   make asan             the Lua 5.4 module with AddressSanitizer, into
#                         build/asan-5.4/ (run lua5.4 with LD_PRELOAD=$$(gcc
#                         -print-file-name=libasan.so))
LUA ?= 5.4
CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Werror=implicit-function-declaration
RDKAFKA_CFLAGS = $(shell pkg-config --cflags rdkafka 2>/dev/null)
RDKAFKA_LIBS = $(or $(shell pkg-config --libs rdkafka 2>/dev/null),-lrdkafka) -lpthread -ldl

ifeq ($(LUA),luajit)
LUA_INC = $(shell pkg-config --cflags luajit)
LUA_BIN = luajit
else
LUA_INC = -I/usr/include/lua$(LUA)
LUA_BIN = lua$(LUA)
endif

SRC = $(wildcard src/*.c)
HDR = $(wildcard src/*.h)
OUT = build/$(LUA)/rdkafka/core.so
SPEC_FORK = build/$(LUA)/spec/fork.so
SPEC_GETPID = build/$(LUA)/spec/getpid_count.so
SPEC_NO_THREADS = build/$(LUA)/spec/no_threads.so

.PHONY: all deps demo test unit bench bench-smoke faults fuzz asan clean
all: $(OUT) $(SPEC_FORK) $(SPEC_GETPID) $(SPEC_NO_THREADS)

$(OUT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=gnu99 -fPIC -shared -fvisibility=hidden $(LUA_INC) $(RDKAFKA_CFLAGS) \
		-o $@.tmp $(SRC) $(RDKAFKA_LIBS)
	@mv -f $@.tmp $@  # a new file, not a rewrite: processes using the old one keep it

# A test helper only: fork() for the specs of handles used after fork.
$(SPEC_FORK): spec/support/fork.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -fvisibility=hidden $(LUA_INC) -o $@ $<

# A test helper only: preloaded into a child, counts its getpid() calls.
$(SPEC_GETPID): spec/support/getpid_count.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -o $@ $<

# A test helper only: preloaded into a child, makes the module's threads fail to start.
$(SPEC_NO_THREADS): spec/support/no_threads.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -fPIC -shared -o $@ $< -ldl

# LUA_PATH/LUA_CPATH for running against this tree without installing.
ENV = LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$(LUA)/?.so;;"

# Installs the Debian packages that are missing (nothing when all are there).
deps:
	@bash scripts/deps

demo: deps
	@$(MAKE) --no-print-directory $(OUT)
	$(ENV) $(LUA_BIN) examples/demo.lua
	$(ENV) $(LUA_BIN) examples/password_story.lua

unit: all
	$(ENV) $(LUA_BIN) /usr/bin/busted --exclude-tags=kafka,cluster3 spec

test:
	bash .ci/run

bench: deps
	bench/all

bench-smoke: deps
	bench/all --smoke

faults: deps all
	spec/faults/run

fuzz: deps asan
	@$(MAKE) --no-print-directory LUA=5.4 all
	@$(MAKE) --no-print-directory LUA=luajit all
	LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/5.4/?.so;;" lua5.4 spec/fuzz/fuzz.lua --calls 100000
	LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/luajit/?.so;;" luajit spec/fuzz/fuzz.lua --calls 100000
	LD_PRELOAD=$$($(CC) -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		LUA_PATH="lua/?.lua;lua/?/init.lua;spec/?.lua;;" LUA_CPATH="build/asan-5.4/?.so;;" \
		lua5.4 spec/fuzz/fuzz.lua --calls 20000

# librdkafka and Lua are not instrumented, but the sanitizer's allocator
# still catches double and invalid frees anywhere, and the module's own
# out-of-bounds accesses.
ASAN_OUT = build/asan-5.4/rdkafka/core.so
asan: $(ASAN_OUT)
$(ASAN_OUT): $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -fno-omit-frame-pointer -fsanitize=address $(WARN) -std=gnu99 -fPIC -shared \
		-fvisibility=hidden -I/usr/include/lua5.4 $(RDKAFKA_CFLAGS) -o $@.tmp $(SRC) $(RDKAFKA_LIBS)
	@mv -f $@.tmp $@

clean:
	rm -rf build

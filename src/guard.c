/* Guards: a C resource (a conf, a header list, a partition list) held while
 * Lua code that may raise runs is owned by a userdata on the stack, so an
 * error frees it through the collector instead of leaking it. */
#include "private.h"

#define GUARD_MT "rdkafka.Guard"

typedef struct guard {
    void *resource; /* NULL once the caller took it back */
    void (*destroy)(void *);
} guard;

static int guard_gc(lua_State *L) {
    guard *g = (guard *)lua_touserdata(L, 1);
    if (g->resource != NULL)
        g->destroy(g->resource);
    g->resource = NULL;
    return 0;
}

/* Pushes an empty guard and returns its slot: the caller creates the
 * resource into *slot (nothing can raise in between), and sets *slot = NULL
 * to take it back. */
void **rdk_guard(lua_State *L, void (*destroy)(void *)) {
    guard *g = (guard *)lua_newuserdata(L, sizeof *g);
    g->resource = NULL;
    g->destroy = destroy;
    if (luaL_newmetatable(L, GUARD_MT)) {
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    return &g->resource;
}

void rdk_destroy_conf(void *conf) { rd_kafka_conf_destroy((rd_kafka_conf_t *)conf); }
void rdk_destroy_headers(void *headers) { rd_kafka_headers_destroy((rd_kafka_headers_t *)headers); }
void rdk_destroy_partitions(void *list) {
    rd_kafka_topic_partition_list_destroy((rd_kafka_topic_partition_list_t *)list);
}

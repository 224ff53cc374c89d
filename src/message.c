/* Messages as Lua tables, and headers from Lua tables. */
#include <string.h>
#include "private.h"

static void push_headers(lua_State *L, const rd_kafka_message_t *rkm) {
    rd_kafka_headers_t *hdrs;
    const char *name;
    const void *value;
    size_t size, i;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    lua_createtable(L, (int)rd_kafka_header_cnt(hdrs), 0);
    /* A list of {name, value} pairs: Kafka headers are ordered and may repeat. */
    for (i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == 0; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, name);
        lua_rawseti(L, -2, 1);
        if (value != NULL) {
            lua_pushlstring(L, (const char *)value, size);
            lua_rawseti(L, -2, 2);
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "headers");
}

/* {topic, partition, offset, key, value, timestamp, headers}; absent parts are nil. */
void rdk_push_message(lua_State *L, const rd_kafka_message_t *rkm) {
    rd_kafka_timestamp_type_t tstype;
    int64_t ts;
    lua_createtable(L, 0, 7);
    if (rkm->rkt != NULL) {
        lua_pushstring(L, rd_kafka_topic_name(rkm->rkt));
        lua_setfield(L, -2, "topic");
    }
    lua_pushinteger(L, rkm->partition);
    lua_setfield(L, -2, "partition");
    if (rkm->offset >= 0) {
        rdk_pushint64(L, rkm->offset);
        lua_setfield(L, -2, "offset");
    }
    if (rkm->key != NULL) {
        lua_pushlstring(L, (const char *)rkm->key, rkm->key_len);
        lua_setfield(L, -2, "key");
    }
    if (rkm->payload != NULL) {
        lua_pushlstring(L, (const char *)rkm->payload, rkm->len);
        lua_setfield(L, -2, "value");
    }
    ts = rd_kafka_message_timestamp(rkm, &tstype);
    if (ts >= 0) {
        rdk_pushint64(L, ts);
        lua_setfield(L, -2, "timestamp");
    }
    push_headers(L, rkm);
}

/* Sets topic, partition and (when known) offset on the table at the top. */
void rdk_set_position(lua_State *L, const char *topic, int32_t partition, int64_t offset) {
    lua_pushstring(L, topic);
    lua_setfield(L, -2, "topic");
    lua_pushinteger(L, partition);
    lua_setfield(L, -2, "partition");
    if (offset >= 0) {
        rdk_pushint64(L, offset);
        lua_setfield(L, -2, "offset");
    }
}

/* Checks one header name/value at the top two stack slots (name below). */
static const char *check_header(lua_State *L, int argn, size_t *vlen, const char **value) {
    if (lua_type(L, -2) != LUA_TSTRING) {
        luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': header name must be a string, got %s",
                                               luaL_typename(L, -2)));
    }
    if (lua_isnil(L, -1)) {
        *value = NULL;
        *vlen = 0;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        *value = lua_tolstring(L, -1, vlen);
    } else {
        luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': value of header '%s' must be a string or nil, got %s",
                                               lua_tostring(L, -2), luaL_typename(L, -1)));
    }
    return lua_tostring(L, -2);
}

#define HEADERS_GUARD_MT "rdkafka.HeadersGuard"

static int headers_guard_gc(lua_State *L) {
    rd_kafka_headers_t **guard = (rd_kafka_headers_t **)lua_touserdata(L, 1);
    if (*guard != NULL)
        rd_kafka_headers_destroy(*guard);
    *guard = NULL;
    return 0;
}

/* Headers from either a map {name = value} or a list of {name, value} pairs
 * (the form that keeps order and repeats). Raises naming argument argn. The
 * caller owns the result; NULL for an empty table. */
rd_kafka_headers_t *rdk_headers_from_table(lua_State *L, int idx, int argn) {
    rd_kafka_headers_t *hdrs, **guard;
    const char *name, *value;
    size_t vlen;
    int top = lua_gettop(L);
    idx = idx < 0 ? top + idx + 1 : idx;
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': table expected, got %s",
                                               luaL_typename(L, idx)));
    guard = (rd_kafka_headers_t **)lua_newuserdata(L, sizeof *guard);
    *guard = NULL;
    if (luaL_newmetatable(L, HEADERS_GUARD_MT)) {
        lua_pushcfunction(L, headers_guard_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    hdrs = *guard = rd_kafka_headers_new(8);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TTABLE) {
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            name = check_header(L, argn, &vlen, &value);
            rd_kafka_header_add(hdrs, name, -1, value, (ssize_t)vlen);
            lua_pop(L, 2);
        } else {
            name = check_header(L, argn, &vlen, &value);
            rd_kafka_header_add(hdrs, name, -1, value, (ssize_t)vlen);
        }
        lua_pop(L, 1);
    }
    *guard = NULL;
    lua_settop(L, top);
    if (rd_kafka_header_cnt(hdrs) == 0) {
        rd_kafka_headers_destroy(hdrs);
        return NULL;
    }
    return hdrs;
}

/* Messages as Lua tables, and headers from Lua tables. */
#include <stdint.h>
#include <string.h>
#include "private.h"

/* Pushes the message's headers as a list of {name, value} pairs and
 * returns 1, or pushes nothing and returns 0 when it has none. */
int rdk_push_header_list(lua_State *L, const rd_kafka_message_t *rkm) {
    rd_kafka_headers_t *hdrs;
    const char *name;
    const void *value;
    size_t size, i;
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
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
    return 1;
}

static void push_headers(lua_State *L, const rd_kafka_message_t *rkm) {
    if (rdk_push_header_list(L, rkm))
        lua_setfield(L, -2, "headers");
}

/* {topic, partition, offset, key, value, timestamp, headers}; absent parts are nil. */
void rdk_push_message(lua_State *L, const rd_kafka_message_t *rkm) {
    rdk_push_message_fields(L, rkm, RDK_FIELDS_ALL);
}

/* The same with only the optional fields in `fields` (RDK_FIELD_x bits):
 * topic, partition and offset always. */
void rdk_push_message_fields(lua_State *L, const rd_kafka_message_t *rkm, int fields) {
    rd_kafka_timestamp_type_t tstype;
    int64_t ts;
    lua_createtable(L, 0, fields == RDK_FIELDS_ALL ? 8 : 5); /* with room for an opaque */
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
    if (fields == 0)
        return;
    if (rkm->key != NULL && (fields & RDK_FIELD_KEY)) {
        lua_pushlstring(L, (const char *)rkm->key, rkm->key_len);
        lua_setfield(L, -2, "key");
    }
    if (rkm->payload != NULL && (fields & RDK_FIELD_VALUE)) {
        lua_pushlstring(L, (const char *)rkm->payload, rkm->len);
        lua_setfield(L, -2, "value");
    }
    ts = (fields & RDK_FIELD_TIMESTAMP) ? rd_kafka_message_timestamp(rkm, &tstype) : -1;
    if (ts >= 0) {
        rdk_pushint64(L, ts);
        lua_setfield(L, -2, "timestamp");
    }
    if (!(fields & RDK_FIELD_HEADERS))
        return;
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
        *value = NULL;
        luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': value of header '%s' must be a string or nil, got %s",
                                               lua_tostring(L, -2), luaL_typename(L, -1)));
    }
    return lua_tostring(L, -2);
}

static void add_header(lua_State *L, rd_kafka_headers_t *hdrs, int argn) {
    const char *name, *value;
    size_t vlen;
    name = check_header(L, argn, &vlen, &value);
    rd_kafka_header_add(hdrs, name, -1, value, (ssize_t)vlen);
}

/* Headers from either a list of {name, value} pairs (order kept, names may
 * repeat; read by index, as a list's order is its indices) or a map
 * {name = value}. Raises naming argument argn. The caller owns the result;
 * NULL for an empty table. */
rd_kafka_headers_t *rdk_headers_from_table(lua_State *L, int idx, int argn) {
    rd_kafka_headers_t *hdrs;
    void **guard;
    int top = lua_gettop(L), n, i;
    idx = idx < 0 ? top + idx + 1 : idx;
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': table expected, got %s",
                                               luaL_typename(L, idx)));
    guard = rdk_guard(L, rdk_destroy_headers);
    *guard = hdrs = rd_kafka_headers_new(8);
    n = (int)lua_rawlen(L, idx);
    if (n > 0) {
        for (i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            if (lua_type(L, -1) != LUA_TTABLE)
                luaL_argerror(L, argn, lua_pushfstring(L, "field 'headers': header #%d must be a "
                                                          "{name, value} table, got %s",
                                                       i, luaL_typename(L, -1)));
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            add_header(L, hdrs, argn);
            lua_pop(L, 3);
        }
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            lua_Integer k = rdk_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
            if (k < 1 || k > n)
                luaL_argerror(L, argn, "field 'headers': a list of {name, value} pairs "
                                       "mixed with other keys");
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            add_header(L, hdrs, argn);
            lua_pop(L, 1);
        }
    }
    *guard = NULL;
    lua_settop(L, top);
    if (rd_kafka_header_cnt(hdrs) == 0) {
        rd_kafka_headers_destroy(hdrs);
        return NULL;
    }
    return hdrs;
}

/* (handle): the table of the message in c->message, or nil and an error
 * for a message that carries one (librdkafka 2.0.2 sends those as error
 * events). */
int rdk_push_message_protected(lua_State *L) {
    const rd_kafka_message_t *rkm = ((rdk_client *)lua_touserdata(L, 1))->message;
    if (rkm == NULL) /* reached through the debug library */
        return 0;
    if (rkm->err) {
        rdk_getuservalue(L, 1);
        rdk_push_redacted(L, lua_gettop(L), rd_kafka_message_errstr(rkm)); /* below the results */
        lua_pushnil(L);
        rdk_push_error(L, rkm->err, lua_tostring(L, -2), 0);
        if (rkm->rkt != NULL)
            rdk_set_position(L, rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
        return 2;
    }
    rdk_push_message(L, rkm);
    return 1;
}

/* (handle): nil and the error of the event in c->event, naming the
 * partition (c->partition) when there is one. */
int rdk_push_error_protected(lua_State *L) {
    rdk_client *c = (rdk_client *)lua_touserdata(L, 1);
    rd_kafka_event_t *ev = c->event;
    rd_kafka_topic_partition_t *tp = c->partition;
    rd_kafka_resp_err_t code;
    const char *message;
    char buf[512];
    if (ev == NULL) /* reached through the debug library */
        return 0;
    rdk_error_of_event(c->rk, ev, &code, &message, buf, sizeof buf);
    rdk_getuservalue(L, 1);
    rdk_push_redacted(L, lua_gettop(L), message); /* kept on the stack below the results */
    message = lua_tostring(L, -1);
    lua_pushnil(L);
    rdk_push_error(L, code, message, rd_kafka_event_error_is_fatal(ev));
    if (tp != NULL)
        rdk_set_position(L, tp->topic, tp->partition, tp->offset);
    return 2;
}

/* Per-message opaque values of a producer live in a table in the handle's
 * callback table (slot RDK_OPAQUES), so they die with the handle; the
 * message carries an integer ref into it as msg_opaque. t[1] heads a list
 * of free slots (0: none), each free slot holds the next; values from
 * t[2] up. Slots 1..n never hold nil, so #t is exact. */

/* Stores the value on top (popped; not nil) and returns its ref. May raise
 * (memory): call it before anything that must be undone. */
int rdk_ref_opaque(lua_State *L, int env) {
    int ref;
    lua_rawgeti(L, env, RDK_OPAQUES);
    if (lua_type(L, -1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 8, 0);
        lua_pushinteger(L, 0);
        lua_rawseti(L, -2, 1);
        lua_pushvalue(L, -1);
        lua_rawseti(L, env, RDK_OPAQUES);
    }
    lua_rawgeti(L, -1, 1);
    ref = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (ref != 0) {
        lua_rawgeti(L, -1, ref);
        lua_rawseti(L, -2, 1); /* the next free slot becomes the head */
    } else {
        ref = (int)lua_rawlen(L, -1) + 1;
    }
    lua_insert(L, -2);
    lua_rawseti(L, -2, ref);
    lua_pop(L, 1);
    return ref;
}

/* Pushes the opaque value a message carries as msg_opaque (nil when it has
 * none) and frees its slot: exactly once per message. Only stores into
 * existing keys: it neither allocates nor raises. */
void rdk_take_opaque(lua_State *L, int env, void *msg_opaque) {
    int ref = (int)(intptr_t)msg_opaque;
    if (ref < 2) { /* none */
        lua_pushnil(L);
        return;
    }
    lua_rawgeti(L, env, RDK_OPAQUES);
    if (lua_type(L, -1) != LUA_TTABLE) { /* dropped by close */
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    lua_rawgeti(L, -1, ref);
    lua_insert(L, -2);
    lua_rawgeti(L, -1, 1);
    lua_rawseti(L, -2, ref);
    lua_pushinteger(L, ref);
    lua_rawseti(L, -2, 1);
    lua_pop(L, 1);
}

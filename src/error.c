/* Error objects: tables with code, name, message, retriable, fatal and
 * txn_requires_abort, sharing the rdkafka.Error metatable. */
#include <stdio.h>
#include <string.h>
#include "private.h"

/* Codes a caller may retry after, as the Java client's RetriableException
 * family does; rebalance-time commit failures count too (see DESIGN.md). */
static int is_retriable(rd_kafka_resp_err_t code) {
    switch (code) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
        return 1;
    default:
        return 0;
    }
}

static void push_fields(lua_State *L, rd_kafka_resp_err_t code, const char *message,
                        int retriable, int fatal, int txn_requires_abort) {
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, rd_kafka_err2name(code));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, message && *message ? message : rd_kafka_err2str(code));
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, retriable);
    lua_setfield(L, -2, "retriable");
    lua_pushboolean(L, fatal);
    lua_setfield(L, -2, "fatal");
    lua_pushboolean(L, txn_requires_abort);
    lua_setfield(L, -2, "txn_requires_abort");
    luaL_getmetatable(L, RDK_ERROR_MT);
    lua_setmetatable(L, -2);
}

/* A fatal error is never retriable: the handle is of no more use. */
void rdk_push_error(lua_State *L, rd_kafka_resp_err_t code, const char *message, int fatal) {
    push_fields(L, code, message, !fatal && is_retriable(code), fatal, 0);
}

/* Pushes message (which may be NULL) redacted with the secrets of the handle
 * at index handle: two values, its callback table and the text. */
static void push_redacted_of(lua_State *L, int handle, const char *message) {
    handle = handle < 0 ? lua_gettop(L) + handle + 1 : handle;
    rdk_getuservalue(L, handle);
    rdk_push_redacted(L, lua_gettop(L), message);
}

void rdk_push_client_error(lua_State *L, int handle, rd_kafka_resp_err_t code, const char *message, int fatal) {
    if (message == NULL || *message == '\0') { /* librdkafka's text for the code */
        rdk_push_error(L, code, NULL, fatal);
        return;
    }
    push_redacted_of(L, handle, message);
    rdk_push_error(L, code, lua_tostring(L, -1), fatal);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

int rdk_raise_redacted(lua_State *L, int handle, const char *what, const char *message) {
    push_redacted_of(L, handle, message);
    return luaL_error(L, "%s: %s", what, lua_tostring(L, -1));
}

/* The registry key of push_error_protected. */
static const char pusher_key = 0;
/* The error rdk_push_error_object is making an object of: saved and
 * restored around its call, so a finalizer making another one meanwhile
 * leaves it as it was. */
static __thread rd_kafka_error_t *handed;

/* (handle, error as light userdata): pushes the error object. The error
 * must be the one handed: the function is in the registry, which Lua code
 * reaches through the debug library. */
static int push_error_protected(lua_State *L) {
    rd_kafka_error_t *error = (rd_kafka_error_t *)lua_touserdata(L, 2);
    rd_kafka_resp_err_t code;
    int fatal, retriable, abort;
    if (error == NULL || error != handed)
        return luaL_error(L, "rdkafka: no error object is being made");
    code = rd_kafka_error_code(error);
    fatal = rd_kafka_error_is_fatal(error);
    retriable = !fatal && (rd_kafka_error_is_retriable(error) || is_retriable(code));
    abort = rd_kafka_error_txn_requires_abort(error);
    /* The whole text, not a copy cut at a fixed size (which could end
     * inside a secret). */
    push_redacted_of(L, 1, rd_kafka_error_string(error));
    push_fields(L, code, lua_tostring(L, -1), retriable, fatal, abort);
    return 1;
}

void rdk_push_error_object(lua_State *L, int handle, rd_kafka_error_t *error) {
    rd_kafka_error_t *saved;
    int status;
    handle = handle < 0 ? lua_gettop(L) + handle + 1 : handle;
    /* Pushed in a protected call, so that the error is destroyed however it
     * ends (running out of memory raises); nothing before it allocates. */
    if (!lua_checkstack(L, 4)) {
        rd_kafka_error_destroy(error);
        luaL_error(L, "not enough memory");
    }
    lua_pushlightuserdata(L, (void *)&pusher_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, handle);
    lua_pushlightuserdata(L, error);
    saved = handed;
    handed = error;
    status = lua_pcall(L, 2, 1, 0);
    handed = saved;
    rd_kafka_error_destroy(error);
    if (status != 0)
        lua_error(L);
}

int rdk_return_error(lua_State *L, rd_kafka_resp_err_t code, const char *message) {
    lua_pushnil(L);
    rdk_push_error(L, code, message, 0);
    return 2;
}

static int error_tostring(lua_State *L) {
    lua_getfield(L, 1, "name");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "?"), luaL_optstring(L, -1, "?"));
    return 1;
}

/* core.error(code [, message]): an error object, for callers and tests. */
static int error_new(lua_State *L) {
    rd_kafka_resp_err_t code = (rd_kafka_resp_err_t)luaL_checkinteger(L, 1);
    rdk_push_error(L, code, luaL_optstring(L, 2, NULL), 0);
    return 1;
}

/* core.error_codes(): { NAME = code, ... } for every code librdkafka knows. */
static int error_codes(lua_State *L) {
    const struct rd_kafka_err_desc *descs;
    size_t n, i;
    rd_kafka_get_err_descs(&descs, &n);
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        if (descs[i].name == NULL)
            continue;
        lua_pushinteger(L, descs[i].code);
        lua_setfield(L, -2, descs[i].name);
    }
    return 1;
}

void rdk_open_error(lua_State *L) {
    lua_pushlightuserdata(L, (void *)&pusher_key);
    lua_pushcfunction(L, push_error_protected);
    lua_rawset(L, LUA_REGISTRYINDEX);
    luaL_newmetatable(L, RDK_ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_pushcfunction(L, error_new);
    lua_setfield(L, -2, "error");
    lua_pushcfunction(L, error_codes);
    lua_setfield(L, -2, "error_codes");
}

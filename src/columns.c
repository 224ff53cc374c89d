/* consume_columns: a batch of messages as parallel arrays, one per field,
 * so that a message costs its value (and key) strings and a few array slots
 * instead of a table of its own (see bench/README.md). */
#include <string.h>
#include "private.h"

static const char *const column_names[RDK_COLUMNS] = {"topic", "partition", "offset", "key",
                                                      "value", "timestamp", "headers"};
enum { COL_TOPIC, COL_PARTITION, COL_OFFSET, COL_KEY, COL_VALUE, COL_TIMESTAMP, COL_HEADERS };

/* Pushes a new batch {n = 0, topic = {}, ...}, its arrays sized for max rows
 * (at most 256 up front, as consume does: an idle loop allocates little). */
void rdk_push_columns(lua_State *L, int max) {
    int i, size = max < 256 ? max : 256;
    lua_createtable(L, 0, RDK_COLUMNS + 1);
    for (i = 0; i < RDK_COLUMNS; i++) {
        /* key and headers are sparse: no room kept for them */
        lua_createtable(L, i == COL_KEY || i == COL_HEADERS ? 0 : size, 0);
        lua_setfield(L, -2, column_names[i]);
    }
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "n");
}

/* Pushes the batch's arrays (the batch at idx) in column order, a slot for
 * the last topic name pushed, and the key "n"; returns the index of the
 * first. */
int rdk_columns_open(lua_State *L, int idx) {
    int i, first = lua_gettop(L) + 1;
    luaL_checkstack(L, RDK_COLUMNS + 5, NULL);
    for (i = 0; i < RDK_COLUMNS; i++) {
        lua_pushstring(L, column_names[i]);
        lua_rawget(L, idx);
    }
    lua_pushnil(L);
    lua_pushliteral(L, "n");
    return first;
}

/* Sets the batch's n (the batch at idx, opened at first). Allocates nothing
 * and runs no collector (the key is on the stack and in the batch already):
 * it comes after the fill stopped at an event the caller must still serve. */
void rdk_columns_count(lua_State *L, int first, int idx, int n) {
    lua_pushvalue(L, first + RDK_COLUMNS + 1);
    lua_pushinteger(L, n);
    lua_rawset(L, idx);
}

/* After an error in the middle of a batch (the batch at idx): n is the rows
 * stored in full, and what row n + 1 got before the error is cleared, so
 * that no array holds a row the count does not. */
void rdk_columns_settle(lua_State *L, int idx, int n) {
    int i, first = rdk_columns_open(L, idx);
    for (i = 0; i < RDK_COLUMNS; i++) {
        lua_pushnil(L);
        lua_rawseti(L, first + i, n + 1);
    }
    rdk_columns_count(L, first, idx, n);
}

/* Row n of the batch, from a message. The slot after the arrays holds the
 * last topic name pushed (the same for most rows, pushed once). */
void rdk_columns_add(lua_State *L, int first, int n, const rd_kafka_message_t *rkm) {
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);
    if (rkm->rkt != NULL) {
        const char *topic = rd_kafka_topic_name(rkm->rkt), *last = lua_tostring(L, first + RDK_COLUMNS);
        if (last == NULL || strcmp(last, topic) != 0) {
            lua_pushstring(L, topic);
            lua_replace(L, first + RDK_COLUMNS);
        }
        lua_pushvalue(L, first + RDK_COLUMNS);
        lua_rawseti(L, first + COL_TOPIC, n);
    }
    lua_pushinteger(L, rkm->partition);
    lua_rawseti(L, first + COL_PARTITION, n);
    if (rkm->offset >= 0) {
        rdk_pushint64(L, rkm->offset);
        lua_rawseti(L, first + COL_OFFSET, n);
    }
    if (rkm->key != NULL) {
        lua_pushlstring(L, (const char *)rkm->key, rkm->key_len);
        lua_rawseti(L, first + COL_KEY, n);
    }
    if (rkm->payload != NULL) {
        lua_pushlstring(L, (const char *)rkm->payload, rkm->len);
        lua_rawseti(L, first + COL_VALUE, n);
    }
    if (ts >= 0) {
        rdk_pushint64(L, ts);
        lua_rawseti(L, first + COL_TIMESTAMP, n);
    }
    if (rdk_push_header_list(L, rkm))
        lua_rawseti(L, first + COL_HEADERS, n);
}

/* Row n of the batch, from a message table at msg (the first of a batch,
 * which comes the way poll takes it). */
void rdk_columns_add_table(lua_State *L, int first, int n, int msg) {
    int i;
    for (i = 0; i < RDK_COLUMNS; i++) {
        lua_pushstring(L, column_names[i]);
        lua_rawget(L, msg);
        lua_rawseti(L, first + i, n);
    }
}

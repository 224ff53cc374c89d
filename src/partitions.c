/* Partition lists between Lua and librdkafka. In Lua a list is an array of
 * {topic=, partition=, offset=} tables (offset, timestamp and error where
 * they apply), written once in the README. */
#include <string.h>
#include "private.h"

static const char *const offset_names[] = {"beginning", "end", "stored", NULL};
static const int64_t offset_values[] = {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END,
                                        RD_KAFKA_OFFSET_STORED};

/* The entry's `field` (at the top of the stack) as an offset: an integer
 * >= 0, or one of offset_names when names are allowed. */
static int64_t check_offset(lua_State *L, int argn, int i, const char *field, int names) {
    if (names && lua_type(L, -1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        int k;
        for (k = 0; offset_names[k] != NULL; k++)
            if (strcmp(s, offset_names[k]) == 0)
                return offset_values[k];
    } else if (rdk_isinteger(L, -1) && lua_tointeger(L, -1) >= 0) {
        return (int64_t)lua_tointeger(L, -1);
    }
    luaL_argerror(L, argn, lua_pushfstring(L, "entry #%d: field '%s' must be a non-negative integer%s",
                                           i, field, names ? " or \"beginning\", \"end\", \"stored\"" : ""));
    return 0;
}

/* Reads the list at idx (an array of tables; `single` also takes one entry
 * table). `offsets` says what each entry's offset is: RDK_OFFSET_NONE (not
 * read), _OPTIONAL, _REQUIRED, _NAMED (integer or offset name, optional)
 * or _TIMESTAMP (the `timestamp` field, required, goes in the offset). The
 * list is owned by a guard pushed on the stack; *guard = NULL takes it. */
rd_kafka_topic_partition_list_t *rdk_check_partitions(lua_State *L, int idx, int argn, int offsets,
                                                      int single, void ***guard) {
    rd_kafka_topic_partition_list_t *list;
    int n, i;
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, argn, lua_pushfstring(L, "list of {topic=, partition=} tables expected, got %s",
                                               luaL_typename(L, idx)));
    if (single) {
        lua_getfield(L, idx, "topic");
        single = !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    n = single ? 1 : (int)lua_rawlen(L, idx);
    if (n == 0)
        luaL_argerror(L, argn, "list of partitions is empty");
    *guard = rdk_guard(L, rdk_destroy_partitions);
    **guard = list = rd_kafka_topic_partition_list_new(n);
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *topic;
        lua_Integer partition = 0;
        rd_kafka_topic_partition_t *tp;
        if (single)
            lua_pushvalue(L, idx);
        else
            lua_rawgeti(L, idx, i);
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_argerror(L, argn, lua_pushfstring(L, "entry #%d must be a table, got %s", i,
                                                   luaL_typename(L, -1)));
        lua_getfield(L, -1, "topic");
        topic = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (topic == NULL || len == 0 || strlen(topic) != len)
            luaL_argerror(L, argn, lua_pushfstring(L, "entry #%d: field 'topic' must be a non-empty "
                                                      "string, got %s", i, luaL_typename(L, -1)));
        if (len > RDK_TOPIC_MAX) /* no such topic can exist; longer ones crash librdkafka */
            luaL_argerror(L, argn, lua_pushfstring(L, "entry #%d: field 'topic' is longer than %d bytes, "
                                                      "Kafka's limit", i, RDK_TOPIC_MAX));
        lua_getfield(L, -2, "partition");
        if (!rdk_isinteger(L, -1) || (partition = lua_tointeger(L, -1)) < 0 || partition > INT32_MAX)
            luaL_argerror(L, argn, lua_pushfstring(L, "entry #%d: field 'partition' must be a "
                                                      "non-negative integer", i));
        tp = rd_kafka_topic_partition_list_add(list, topic, (int32_t)partition);
        lua_pop(L, 1);
        if (offsets == RDK_OFFSET_TIMESTAMP) {
            lua_getfield(L, -2, "timestamp");
            tp->offset = check_offset(L, argn, i, "timestamp", 0);
            lua_pop(L, 1);
        } else if (offsets != RDK_OFFSET_NONE) {
            lua_getfield(L, -2, "offset");
            if (!lua_isnil(L, -1) || offsets == RDK_OFFSET_REQUIRED)
                tp->offset = check_offset(L, argn, i, "offset", offsets == RDK_OFFSET_NAMED);
            lua_pop(L, 1);
        }
        lua_pop(L, 2);
    }
    return list;
}

/* Pushes the list as {{topic=, partition=, offset=, error=}, ...}: offset
 * only when valid (>= 0), error only for a partition that has one. */
void rdk_push_partitions(lua_State *L, const rd_kafka_topic_partition_list_t *list) {
    int i;
    lua_createtable(L, list ? list->cnt : 0, 0);
    for (i = 0; list && i < list->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        lua_createtable(L, 0, 3);
        rdk_set_position(L, tp->topic, tp->partition, tp->offset);
        if (tp->err) {
            rdk_push_error(L, tp->err, NULL, 0);
            lua_setfield(L, -2, "error");
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* The first partition error of a list, or none. */
rd_kafka_resp_err_t rdk_partitions_error(const rd_kafka_topic_partition_list_t *list) {
    int i;
    for (i = 0; list && i < list->cnt; i++)
        if (list->elems[i].err)
            return list->elems[i].err;
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

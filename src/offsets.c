/* rdkafka.Consumer, continued: offsets and flow control (committed,
 * position, seek, pause, resume, watermarks, offsets_for_times,
 * store_offsets), subscription and member_id. Lists are as in partitions.c. */
#include <stdlib.h>
#include "private.h"

#define QUERY_TIMEOUT_MS 10000

static rdk_client *check(lua_State *L) { return rdk_check_client(L, 1, RDK_CONSUMER_MT); }

/* Returns the list at the top of the stack, or nil and its first partition
 * error when every partition failed. */
static int return_partitions(lua_State *L, rd_kafka_topic_partition_list_t *list, void **guard) {
    int i, ok = 0;
    for (i = 0; i < list->cnt; i++)
        ok |= list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR;
    if (!ok)
        return rdk_return_error(L, rdk_partitions_error(list), NULL);
    rdk_push_partitions(L, list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return 1;
}

/* Returns true, or nil and err, else the list's first partition error;
 * frees the list now either way. */
static int return_done(lua_State *L, rd_kafka_topic_partition_list_t *list, void **guard,
                       rd_kafka_resp_err_t err) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        err = rdk_partitions_error(list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* c:committed(list [, timeout=10]): the group's committed offsets for the
 * partitions in list (offset nil where the group has none). */
static int consumer_committed(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    int timeout_ms = rdk_check_timeout_ms(L, 3, QUERY_TIMEOUT_MS);
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_NONE, 0, &guard);
    rd_kafka_resp_err_t err = rd_kafka_committed(c->rk, list, timeout_ms);
    if (err)
        return rdk_return_error(L, err, NULL);
    return return_partitions(L, list, guard);
}

/* c:position(list): the offset after the last message poll returned, per
 * partition (nil where poll has returned none). */
static int consumer_position(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_NONE, 0, &guard);
    rd_kafka_position(c->rk, list);
    rdk_push_partitions(L, list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return 1;
}

/* c:seek({topic=, partition=, offset=} or a list of them [, timeout=10]):
 * the next poll of each partition starts at offset (an integer, or
 * "beginning" / "end"). The partitions must be assigned. */
static int consumer_seek(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    int timeout_ms = rdk_check_timeout_ms(L, 3, QUERY_TIMEOUT_MS), i;
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_NAMED, 1, &guard);
    rd_kafka_error_t *error;
    for (i = 0; i < list->cnt; i++)
        if (list->elems[i].offset == RD_KAFKA_OFFSET_INVALID || list->elems[i].offset == RD_KAFKA_OFFSET_STORED)
            luaL_argerror(L, 2, lua_pushfstring(L, "entry #%d: field 'offset' must be an integer "
                                                   "or \"beginning\" or \"end\"", i + 1));
    /* With timeout 0 the seek is started and not waited for (no error then). */
    error = rd_kafka_seek_partitions(c->rk, list, timeout_ms);
    if (error != NULL) {
        lua_pushnil(L);
        rdk_push_error_object(L, error);
        return 2;
    }
    return return_done(L, list, guard, RD_KAFKA_RESP_ERR_NO_ERROR);
}

static int pause_or_resume(lua_State *L, int pause) {
    rdk_client *c = check(L);
    void **guard;
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_NONE, 0, &guard);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(c->rk, list)
                                    : rd_kafka_resume_partitions(c->rk, list);
    return return_done(L, list, guard, err);
}

/* c:pause(list) / c:resume(list): stop / restart fetching these partitions
 * (poll then returns none of their messages; the group keeps them). */
static int consumer_pause(lua_State *L) { return pause_or_resume(L, 1); }
static int consumer_resume(lua_State *L) { return pause_or_resume(L, 0); }

/* c:watermarks(topic, partition [, timeout=10]): low, high from the broker
 * (high is the offset the next produced message will get). */
static int consumer_watermarks(lua_State *L) {
    rdk_client *c = check(L);
    size_t len;
    const char *topic = luaL_checklstring(L, 2, &len);
    lua_Integer partition = 0;
    int64_t low = 0, high = 0;
    int timeout_ms;
    rd_kafka_resp_err_t err;
    luaL_argcheck(L, len > 0, 2, "topic name must be a non-empty string");
    luaL_argcheck(L, rdk_isinteger(L, 3) && (partition = lua_tointeger(L, 3)) >= 0 && partition <= INT32_MAX,
                  3, "partition must be a non-negative integer");
    timeout_ms = rdk_check_timeout_ms(L, 4, QUERY_TIMEOUT_MS);
    err = rd_kafka_query_watermark_offsets(c->rk, topic, (int32_t)partition, &low, &high, timeout_ms);
    if (err)
        return rdk_return_error(L, err, NULL);
    rdk_pushint64(L, low);
    rdk_pushint64(L, high);
    return 2;
}

/* c:cached_watermarks(topic, partition): low, high as this consumer last saw
 * them (high comes with every fetch; low with statistics), without asking
 * the broker: nil for either that is not known yet. */
static int consumer_cached_watermarks(lua_State *L) {
    rdk_client *c = check(L);
    size_t len;
    const char *topic = luaL_checklstring(L, 2, &len);
    lua_Integer partition = 0;
    int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
    luaL_argcheck(L, len > 0, 2, "topic name must be a non-empty string");
    luaL_argcheck(L, rdk_isinteger(L, 3) && (partition = lua_tointeger(L, 3)) >= 0 && partition <= INT32_MAX,
                  3, "partition must be a non-negative integer");
    if (rd_kafka_get_watermark_offsets(c->rk, topic, (int32_t)partition, &low, &high) != 0)
        low = high = RD_KAFKA_OFFSET_INVALID; /* an unknown partition: nothing seen */
    if (low < 0)
        lua_pushnil(L);
    else
        rdk_pushint64(L, low);
    if (high < 0)
        lua_pushnil(L);
    else
        rdk_pushint64(L, high);
    return 2;
}

/* c:offsets_for_times({{topic=, partition=, timestamp=}, ...} [, timeout=10]):
 * per partition, the offset of the first message whose timestamp is at least
 * timestamp (ms since the epoch); offset nil when there is none. */
static int consumer_offsets_for_times(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    int timeout_ms = rdk_check_timeout_ms(L, 3, QUERY_TIMEOUT_MS);
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_TIMESTAMP, 0, &guard);
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(c->rk, list, timeout_ms);
    if (err)
        return rdk_return_error(L, err, NULL);
    return return_partitions(L, list, guard);
}

/* c:store_offsets(msg | list): marks msg (or each {topic=, partition=,
 * offset=} as the next offset to read) as processed, for auto-commit with
 * enable.auto.offset.store=false. */
static int consumer_store_offsets(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    rd_kafka_topic_partition_list_t *list = rdk_check_partitions(L, 2, 2, RDK_OFFSET_REQUIRED, 1, &guard);
    rd_kafka_resp_err_t err;
    lua_getfield(L, 2, "topic");
    if (!lua_isnil(L, -1)) /* a message: the next offset to read is after it */
        list->elems[0].offset++;
    lua_pop(L, 1);
    err = rd_kafka_offsets_store(c->rk, list);
    return return_done(L, list, guard, err);
}

/* c:subscription(): the topic names (and patterns) subscribed to. */
static int consumer_subscription(lua_State *L) {
    rdk_client *c = check(L);
    rd_kafka_topic_partition_list_t *list = NULL;
    void **guard = rdk_guard(L, rdk_destroy_partitions);
    rd_kafka_resp_err_t err = rd_kafka_subscription(c->rk, &list);
    int i;
    *guard = list;
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_createtable(L, list->cnt, 0);
    for (i = 0; i < list->cnt; i++) {
        lua_pushstring(L, list->elems[i].topic);
        lua_rawseti(L, -2, i + 1);
    }
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return 1;
}

/* c:member_id(): the id the group coordinator gave this member, or nil
 * before it joined. */
static int consumer_member_id(lua_State *L) {
    rdk_client *c = check(L);
    void **guard = rdk_guard(L, free); /* librdkafka's rd_kafka_mem_free is free() */
    char *id;
    *guard = id = rd_kafka_memberid(c->rk);
    if (id != NULL && *id != '\0')
        lua_pushstring(L, id);
    else
        lua_pushnil(L);
    free(id);
    *guard = NULL;
    return 1;
}

const luaL_Reg rdk_consumer_offset_methods[] = {
    {"committed", consumer_committed},
    {"position", consumer_position},
    {"seek", consumer_seek},
    {"pause", consumer_pause},
    {"resume", consumer_resume},
    {"watermarks", consumer_watermarks},
    {"cached_watermarks", consumer_cached_watermarks},
    {"offsets_for_times", consumer_offsets_for_times},
    {"store_offsets", consumer_store_offsets},
    {"subscription", consumer_subscription},
    {"member_id", consumer_member_id},
    {NULL, NULL}};

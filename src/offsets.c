/* rdkafka.Consumer, continued: offsets and flow control (commit,
 * commit_async, committed, position, seek, pause, resume, watermarks,
 * cached_watermarks, offsets_for_times, store_offsets), subscription and
 * member_id. Lists are as in partitions.c. */
#include <stdlib.h>
#include <string.h>
#include "private.h"

#define QUERY_TIMEOUT_MS 10000
#define COMMIT_TIMEOUT_MS 10000

/***
 * @submodule rdkafka.Consumer
 */

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

/* The commit's outcome from its OFFSET_COMMIT event: the request's error,
 * else the first partition's. */
static rd_kafka_resp_err_t commit_result(rd_kafka_event_t *ev) {
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    return err ? err : rdk_partitions_error(rd_kafka_event_topic_partition_list(ev));
}

/* The position after the last message poll returned, per assigned
 * partition, for those where poll has returned one (whatever
 * enable.auto.offset.store says). An empty list when there is none. */
static rd_kafka_resp_err_t consumed_positions(rd_kafka_t *rk, rd_kafka_topic_partition_list_t **list) {
    int i;
    rd_kafka_resp_err_t err = rd_kafka_assignment(rk, list);
    if (err)
        return err;
    rd_kafka_position(rk, *list);
    for (i = (*list)->cnt - 1; i >= 0; i--)
        if ((*list)->elems[i].offset < 0)
            rd_kafka_topic_partition_list_del_by_idx(*list, i);
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* What commit and commit_async commit (argument 2, see commit): the list,
 * owned by *guard; or NULL with nil, err pushed. */
static rd_kafka_topic_partition_list_t *commit_list(lua_State *L, rdk_client *c, void ***guard) {
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t err;
    *guard = rdk_guard(L, rdk_destroy_partitions);
    if (lua_type(L, 2) == LUA_TTABLE && lua_rawlen(L, 2) > 0) {
        /* A list: each offset is the next one to read, committed as it is. */
        lua_pop(L, 1);
        return rdk_check_partitions(L, 2, 2, RDK_OFFSET_REQUIRED, 0, guard);
    }
    if (!lua_isnil(L, 2)) {
        lua_Integer partition, offset;
        luaL_argcheck(L, lua_type(L, 2) == LUA_TTABLE, 2, "message table, list of partitions or nil expected");
        lua_getfield(L, 2, "topic");
        lua_getfield(L, 2, "partition");
        lua_getfield(L, 2, "offset");
        luaL_argcheck(L, lua_type(L, -3) == LUA_TSTRING, 2, "field 'topic' must be a string");
        luaL_argcheck(L, lua_rawlen(L, -3) <= RDK_TOPIC_MAX, 2, "field 'topic' is longer than 249 bytes, Kafka's limit");
        luaL_argcheck(L, rdk_isinteger(L, -2) && lua_tointeger(L, -2) >= 0 &&
                             lua_tointeger(L, -2) <= INT32_MAX,
                      2, "field 'partition' must be a non-negative integer");
        luaL_argcheck(L, rdk_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 &&
                             (int64_t)lua_tointeger(L, -1) < INT64_MAX,
                      2, "field 'offset' must be a non-negative integer");
        partition = lua_tointeger(L, -2);
        offset = lua_tointeger(L, -1);
        **guard = list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, lua_tostring(L, -3), (int32_t)partition)->offset =
            (int64_t)offset + 1;
        lua_pop(L, 3);
        return list;
    }
    err = consumed_positions(c->rk, &list);
    **guard = list;
    if (err) {
        rdk_return_error(L, err, NULL);
        return NULL;
    }
    if (list->cnt == 0) {
        rdk_return_error(L, RD_KAFKA_RESP_ERR__NO_OFFSET,
                         "nothing to commit: poll has returned no message from the "
                         "partitions this member is assigned");
        return NULL;
    }
    return list;
}

/***
 * Commits offsets and waits for the group coordinator's answer. Without
 * `msg`, for each assigned partition, the position after the last message
 * `poll` or `consume` returned from it (whatever `enable.auto.offset.store`
 * says); with a message, up to and including it; with a partition list, its
 * offsets as given. Committing the same position again returns `true`.
 * @function commit
 * @tparam[opt] table msg a message, or a partition list (`nil` to give only
 *   a timeout)
 * @tparam[opt=10] number timeout seconds to wait for the answer
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_TIMED_OUT` when no answer came in time (the
 *   commit may still succeed), `_NO_OFFSET` when there is nothing to commit
 */
static int consumer_commit(lua_State *L) {
    rdk_client *c = check(L);
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    rd_kafka_resp_err_t err;
    void **guard;
    int timeout_ms = rdk_check_timeout_ms(L, 3, COMMIT_TIMEOUT_MS);
    lua_settop(L, 3);
    if ((list = commit_list(L, c, &guard)) == NULL)
        return 2;
    /* A queue of its own, so the wait is bounded by the caller's timeout
     * (a plain synchronous commit may wait for the coordinator much longer). */
    q = rd_kafka_queue_new(c->rk);
    err = rd_kafka_commit_queue(c->rk, list, q, NULL, NULL);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    ev = err ? NULL : rd_kafka_queue_poll(q, timeout_ms);
    rd_kafka_queue_destroy(q);
    if (!err && ev == NULL)
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                "no answer to the commit within the timeout (it may still succeed)");
    if (ev != NULL) {
        err = commit_result(ev);
        rd_kafka_event_destroy(ev);
    }
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Commits as `commit` does, without waiting. The outcome comes to
 * `on_commit(err, partitions)` inside a later `poll`, `consume` or `close`;
 * without `on_commit`, a failure goes to `on_error`, else to stderr.
 * @function commit_async
 * @tparam[opt] table msg a message, or a partition list
 * @treturn[1] boolean `true` once the commit is sent
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_NO_OFFSET` when there is nothing to commit
 */
static int consumer_commit_async(lua_State *L) {
    rdk_client *c = check(L);
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t err;
    void **guard;
    lua_settop(L, 2);
    if ((list = commit_list(L, c, &guard)) == NULL)
        return 2;
    err = rd_kafka_commit_queue(c->rk, list, c->commit_queue, NULL, NULL);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * The group's committed offsets of the partitions in `list`.
 * @function committed
 * @tparam table list a partition list
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] table the list, `offset` nil where the group has none
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also when every partition failed)
 */
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

/***
 * The offset after the last message `poll` or `consume` returned, per
 * partition, without a request.
 * @function position
 * @tparam table list a partition list
 * @treturn table the list, `offset` nil where none was returned
 */
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

/***
 * Makes the next `poll` of each partition start at its `offset`. The
 * partitions must be assigned.
 * @function seek
 * @tparam table target `{topic=, partition=, offset=}` or a list of them;
 *   `offset` an integer, `"beginning"` or `"end"`
 * @tparam[opt=10] number timeout seconds; with 0 the seek is started and not
 *   waited for
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
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
        rdk_push_error_object(L, 1, error);
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

/***
 * Stops fetching these partitions: `poll` returns none of their messages
 * until `resume`; the member keeps them.
 * @function pause
 * @tparam table list a partition list
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (else the first partition's error)
 */
static int consumer_pause(lua_State *L) { return pause_or_resume(L, 1); }

/***
 * Restarts fetching partitions that `pause` stopped.
 * @function resume
 * @tparam table list a partition list
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (else the first partition's error)
 */
static int consumer_resume(lua_State *L) { return pause_or_resume(L, 0); }

/* Arguments 2 and 3 of watermarks and cached_watermarks: topic, partition. */
static const char *check_topic_partition(lua_State *L, int32_t *partition) {
    size_t len;
    const char *topic = luaL_checklstring(L, 2, &len);
    lua_Integer p = 0;
    luaL_argcheck(L, len > 0 && strlen(topic) == len, 2, "topic name must be a non-empty string without NUL bytes");
    luaL_argcheck(L, rdk_isinteger(L, 3) && (p = lua_tointeger(L, 3)) >= 0 && p <= INT32_MAX, 3,
                  "partition must be a non-negative integer");
    *partition = (int32_t)p;
    return topic;
}

/***
 * Asks the partition's leader for its watermarks.
 * @function watermarks
 * @tparam string topic the topic
 * @tparam integer partition the partition
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] integer low: the first offset still in the log
 * @treturn[1] integer high: the offset the next message will get
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int consumer_watermarks(lua_State *L) {
    rdk_client *c = check(L);
    int32_t partition;
    const char *topic = check_topic_partition(L, &partition);
    int64_t low = 0, high = 0;
    int timeout_ms = rdk_check_timeout_ms(L, 4, QUERY_TIMEOUT_MS);
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(c->rk, topic, partition, &low, &high, timeout_ms);
    if (err)
        return rdk_return_error(L, err, NULL);
    rdk_pushint64(L, low);
    rdk_pushint64(L, high);
    return 2;
}

/***
 * The watermarks as this consumer last saw them (fetches and statistics
 * bring them), without a request.
 * @function cached_watermarks
 * @tparam string topic the topic
 * @tparam integer partition the partition
 * @treturn ?integer low, nil when not known yet
 * @treturn ?integer high, nil when not known yet
 */
static int consumer_cached_watermarks(lua_State *L) {
    rdk_client *c = check(L);
    int32_t partition;
    const char *topic = check_topic_partition(L, &partition);
    int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_get_watermark_offsets(c->rk, topic, partition, &low, &high) != 0)
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

/***
 * How far this member is behind, per assigned partition (written in Lua, in
 * lua/rdkafka/init.lua): `lag` counts the messages from the position (else
 * the committed offset, else the start of the log) up to `high`. With
 * timeout 0 it asks no broker and never waits: `high` is what the last fetch
 * brought, `committed` is nil, and `lag` is nil until the position and
 * `high` are known.
 * @function lag
 * @tparam[opt=10] number timeout seconds, for all its queries together
 * @treturn[1] table a list of `{topic=, partition=, position=, committed=, high=, lag=}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */

/***
 * Per partition, the offset of the first message whose timestamp (ms since
 * the epoch) is at least the entry's `timestamp`. Ask for one timestamp per
 * partition in a call.
 * @function offsets_for_times
 * @tparam table list `{{topic=, partition=, timestamp=}, ...}`
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] table a partition list, `offset` nil past the end of the log
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (also when every partition failed)
 */
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

/***
 * Marks a message, or the offsets of a list, as processed, for the
 * auto-commit of a consumer with `enable.auto.offset.store = false`.
 * @function store_offsets
 * @tparam table msg a message (stores the offset after it), or a partition
 *   list (each `offset` the next to read)
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
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

/***
 * The subscribed topic names and patterns.
 * @function subscription
 * @treturn[1] {string,...} the names, empty without a subscription
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
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

/***
 * The id the group coordinator gave this member.
 * @function member_id
 * @treturn ?string the id, nil before the member joined
 */
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
    {"commit", consumer_commit},
    {"commit_async", consumer_commit_async},
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

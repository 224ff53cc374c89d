/* rdkafka.Consumer: subscribe, poll, commit, close (a group consumer). */
#include <string.h>
#include <unistd.h>
#include "private.h"

static int consumer_new(lua_State *L) {
    char errstr[512];
    int events = RD_KAFKA_EVENT_ERROR;
    rd_kafka_conf_t *conf;
    rdk_client *c = (rdk_client *)lua_newuserdata(L, sizeof *c);
    rdk_client_init(c, RDK_CONSUMER_MT);
    luaL_getmetatable(L, RDK_CONSUMER_MT);
    lua_setmetatable(L, -2);
    conf = rdk_conf_from_table(L, 1, c, 1 << RDK_ON_ERROR | 1 << RDK_ON_LOG | 1 << RDK_ON_STATS);
    if (c->cb[RDK_ON_LOG] != LUA_NOREF) {
        rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr);
        events |= RD_KAFKA_EVENT_LOG;
    }
    if (c->cb[RDK_ON_STATS] != LUA_NOREF)
        events |= RD_KAFKA_EVENT_STATS;
    rd_kafka_conf_set_events(conf, events);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return luaL_error(L, "rdkafka.consumer: %s", errstr);
    }
    if (c->cb[RDK_ON_LOG] != LUA_NOREF)
        rd_kafka_set_log_queue(c->rk, NULL);
    /* One queue for messages, errors and logs, served by poll. */
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    if (c->queue == NULL) { /* no group.id: there is no consumer queue */
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
        return luaL_error(L, "config key 'group.id': a consumer needs a non-empty group id");
    }
    return 1;
}

/* c:subscribe{topic, ...} or c:subscribe(topic) */
static int consumer_subscribe(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_resp_err_t err;
    int i, n;
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, 2);
        lua_rawseti(L, -2, 1);
        lua_replace(L, 2);
    }
    luaL_argcheck(L, lua_type(L, 2) == LUA_TTABLE, 2, "list of topic names expected");
    n = (int)lua_rawlen(L, 2);
    luaL_argcheck(L, n > 0, 2, "list of topic names is empty");
    for (i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(L, 2, i);
        if (lua_type(L, -1) != LUA_TSTRING || (lua_tolstring(L, -1, &len), len == 0))
            luaL_argerror(L, 2, lua_pushfstring(L, "topic #%d must be a non-empty string, got %s",
                                                i, luaL_typename(L, -1)));
        lua_pop(L, 1);
    }
    list = rd_kafka_topic_partition_list_new(n);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        rd_kafka_topic_partition_list_add(list, lua_tostring(L, -1), RD_KAFKA_PARTITION_UA);
        lua_pop(L, 1);
    }
    err = rd_kafka_subscribe(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int consumer_unsubscribe(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_resp_err_t err = rd_kafka_unsubscribe(c->rk);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static void push_partition_list(lua_State *L, const rd_kafka_topic_partition_list_t *list) {
    int i;
    lua_createtable(L, list ? list->cnt : 0, 0);
    for (i = 0; list && i < list->cnt; i++) {
        lua_createtable(L, 0, 3);
        rdk_set_position(L, list->elems[i].topic, list->elems[i].partition, list->elems[i].offset);
        lua_rawseti(L, -2, i + 1);
    }
}

/* c:assignment(): the partitions this member owns now, {{topic=, partition=}, ...} */
static int consumer_assignment(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(c->rk, &list);
    if (err)
        return rdk_return_error(L, err, NULL);
    push_partition_list(L, list);
    rd_kafka_topic_partition_list_destroy(list);
    return 1;
}

/* nil, err for an error event; err names the partition when there is one. */
static int push_error_event_protected(lua_State *L) {
    rd_kafka_event_t *ev = (rd_kafka_event_t *)lua_touserdata(L, 1);
    rd_kafka_topic_partition_t *tp = (rd_kafka_topic_partition_t *)lua_touserdata(L, 2);
    lua_pushnil(L);
    rdk_push_error(L, rd_kafka_event_error(ev), rd_kafka_event_error_string(ev),
                   rd_kafka_event_error_is_fatal(ev));
    if (tp != NULL)
        rdk_set_position(L, tp->topic, tp->partition, tp->offset);
    return 2;
}

static int push_message_protected(lua_State *L) {
    const rd_kafka_message_t *rkm = (const rd_kafka_message_t *)lua_touserdata(L, 1);
    if (rkm->err) { /* 2.0.2 sends errors as error events; kept for other versions */
        lua_pushnil(L);
        rdk_push_error(L, rkm->err, rd_kafka_message_errstr(rkm), 0);
        if (rkm->rkt != NULL)
            rdk_set_position(L, rd_kafka_topic_name(rkm->rkt), rkm->partition, rkm->offset);
        return 2;
    }
    rdk_push_message(L, rkm);
    return 1;
}

/* c:poll([timeout]): the next message, or nil on timeout, or nil and an
 * error. Serves error/log/stats callbacks while it waits. */
static int consumer_poll(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, 0);
    long long deadline = rdk_now_ms() + timeout_ms;
    int nret = 0;
    if (c->busy)
        luaL_error(L, "cannot poll a %s from inside one of its callbacks", c->mt);
    lua_settop(L, 1);
    c->busy = 1;
    for (;;) {
        long long left = deadline - rdk_now_ms();
        rd_kafka_event_t *ev = rd_kafka_queue_poll(c->queue, left > 0 ? (int)left : 0);
        if (ev == NULL)
            break;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_FETCH) {
            const rd_kafka_message_t *rkm = rd_kafka_event_message_next(ev);
            int status = 0;
            if (rkm != NULL) {
                lua_pushcfunction(L, push_message_protected);
                lua_pushlightuserdata(L, (void *)rkm);
                status = lua_pcall(L, 1, LUA_MULTRET, 0);
            }
            rd_kafka_event_destroy(ev);
            if (status != 0) {
                c->busy = 0;
                lua_error(L);
            }
            if (rkm != NULL) {
                nret = lua_gettop(L) - 1;
                break;
            }
            continue;
        }
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_ERROR) {
            /* Errors about a partition come in stream order, from poll;
             * other errors too, unless on_error takes them. */
            rd_kafka_topic_partition_t *tp = rd_kafka_event_topic_partition(ev);
            if (tp != NULL || c->cb[RDK_ON_ERROR] == LUA_NOREF) {
                int status;
                lua_pushcfunction(L, push_error_event_protected);
                lua_pushlightuserdata(L, ev);
                lua_pushlightuserdata(L, tp);
                status = lua_pcall(L, 2, 2, 0);
                if (tp != NULL)
                    rd_kafka_topic_partition_destroy(tp);
                rd_kafka_event_destroy(ev);
                if (status != 0) {
                    c->busy = 0;
                    lua_error(L);
                }
                nret = 2;
                break;
            }
        }
        rdk_serve_event(L, c, ev);
        rd_kafka_event_destroy(ev);
        if (c->pending_error != LUA_NOREF)
            break;
    }    c->busy = 0;
    rdk_raise_pending(L, c);
    if (nret == 0)
        lua_pushnil(L);
    return nret == 0 ? 1 : nret;
}

#define COMMIT_TIMEOUT_MS 10000

/* The commit's outcome from its OFFSET_COMMIT event: the request's error,
 * else the first partition's. */
static rd_kafka_resp_err_t commit_result(rd_kafka_event_t *ev) {
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    const rd_kafka_topic_partition_list_t *list = rd_kafka_event_topic_partition_list(ev);
    int i;
    for (i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && list && i < list->cnt; i++)
        err = list->elems[i].err;
    return err;
}

/* c:commit([msg] [, timeout]): without msg, commits the position after every
 * message poll has returned; with msg, up to and including msg. Waits for
 * the group coordinator's answer, at most timeout seconds (default 10). */
static int consumer_commit(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    rd_kafka_resp_err_t err;
    int timeout_ms = rdk_check_timeout_ms(L, 3, COMMIT_TIMEOUT_MS);
    if (!lua_isnoneornil(L, 2)) {
        lua_Integer partition, offset;
        luaL_argcheck(L, lua_type(L, 2) == LUA_TTABLE, 2, "message table or nil expected");
        lua_getfield(L, 2, "topic");
        lua_getfield(L, 2, "partition");
        lua_getfield(L, 2, "offset");
        luaL_argcheck(L, lua_type(L, -3) == LUA_TSTRING, 2, "field 'topic' must be a string");
        luaL_argcheck(L, rdk_isinteger(L, -2) && lua_tointeger(L, -2) >= 0 &&
                             lua_tointeger(L, -2) <= INT32_MAX,
                      2, "field 'partition' must be a non-negative integer");
        luaL_argcheck(L, rdk_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 &&
                             (int64_t)lua_tointeger(L, -1) < INT64_MAX,
                      2, "field 'offset' must be a non-negative integer");
        partition = lua_tointeger(L, -2);
        offset = lua_tointeger(L, -1);
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, lua_tostring(L, -3), (int32_t)partition)->offset =
            (int64_t)offset + 1;
    }
    /* A queue of its own, so the wait is bounded by the caller's timeout
     * (a plain synchronous commit may wait for the coordinator much longer). */
    q = rd_kafka_queue_new(c->rk);
    err = rd_kafka_commit_queue(c->rk, list, q, NULL, NULL);
    if (list != NULL)
        rd_kafka_topic_partition_list_destroy(list);
    ev = err ? NULL : rd_kafka_queue_poll(q, timeout_ms);
    rd_kafka_queue_destroy(q);
    if (!err && ev == NULL)
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                "no answer to the commit within the timeout (it may still succeed)");
    if (ev != NULL) {
        err = commit_result(ev);
        rd_kafka_event_destroy(ev);
    }
    /* Nothing new to commit is not a failure: the group already has it. */
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static void destroy(rdk_client *c, int flags) {
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_destroy_flags(c->rk, flags);
    c->queue = NULL;
    c->rk = NULL;
}

/* c:close(): leaves the group (so its partitions move to the other members
 * at once), serves the callbacks still queued, and destroys the handle. */
static int consumer_close(lua_State *L) {
    rdk_client *c = (rdk_client *)luaL_checkudata(L, 1, RDK_CONSUMER_MT);
    if (c->rk == NULL) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (c->busy)
        luaL_error(L, "cannot close a %s from inside one of its callbacks", c->mt);
    if (c->pid != getpid()) {
        c->rk = NULL;
        rdk_client_release(L, c, 0);
        lua_pushboolean(L, 1);
        return 1;
    }
    rd_kafka_consumer_close(c->rk);
    rdk_serve_queue(L, c, 0, 100000);
    destroy(c, 0);
    rdk_client_release(L, c, 0);
    rdk_raise_pending(L, c);
    lua_pushboolean(L, 1);
    return 1;
}

static int consumer_close_scope(lua_State *L) {
    lua_settop(L, 1);
    return consumer_close(L);
}

/* The collector never waits on the network: the group sees this member go
 * after its session timeout. close() leaves at once. */
static int consumer_gc(lua_State *L) {
    rdk_client *c = (rdk_client *)luaL_checkudata(L, 1, RDK_CONSUMER_MT);
    if (c->rk != NULL && c->pid == getpid())
        destroy(c, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    c->rk = NULL;
    rdk_client_release(L, c, 1);
    return 0;
}

static int consumer_name(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    lua_pushstring(L, rd_kafka_name(c->rk));
    return 1;
}

void rdk_open_consumer(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"subscribe", consumer_subscribe}, {"unsubscribe", consumer_unsubscribe},
        {"poll", consumer_poll},           {"commit", consumer_commit},
        {"assignment", consumer_assignment}, {"close", consumer_close},
        {"name", consumer_name},           {NULL, NULL}};
    static const luaL_Reg metamethods[] = {
        {"__gc", consumer_gc}, {"__close", consumer_close_scope},
        {"__tostring", rdk_client_tostring}, {NULL, NULL}};
    rdk_new_class(L, RDK_CONSUMER_MT, methods, metamethods);
    lua_pushcfunction(L, consumer_new);
    lua_setfield(L, -2, "consumer");
}

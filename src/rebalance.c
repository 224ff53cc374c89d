/* rdkafka.Consumer, continued: group membership. Rebalance events served to
 * on_assign / on_revoke / on_lost, the (incremental) assign that must follow
 * each of them, manual assignment, and commit results for on_commit.
 *
 * librdkafka hands a rebalance to the application only when the consumer
 * enables RD_KAFKA_EVENT_REBALANCE (consumer_new does when one of the three
 * callbacks is set); the group then waits until the application assigns or
 * unassigns. So after each rebalance event the module does it itself unless
 * the callback did: also when the callback raised or could not be called. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "private.h"

/***
 * @submodule rdkafka.Consumer
 */

static rdk_client *check(lua_State *L) { return rdk_check_client(L, 1, RDK_CONSUMER_MT); }

/* Whether the member joined its group with the cooperative protocol
 * (librdkafka names it from the JoinGroup answer). */
int rdk_is_cooperative(rd_kafka_t *rk) {
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    return protocol != NULL && strcmp(protocol, "COOPERATIVE") == 0;
}

/* Whether destroying the consumer now would abort the process: librdkafka
 * before 2.3.0 asserts in rd_kafka_sticky_assignor_state_destroy when a
 * cooperative-sticky consumer that joined its group (librdkafka then names
 * the group's protocol) is destroyed before its first SyncGroup answer
 * (upstream #4381). That answer is followed by an assigning rebalance
 * event (the first has nothing to revoke), which cooperative consumers
 * always get (consumer_new); a revoking one may come without it (a
 * SyncGroup error, an unsubscribe). */
int rdk_cooperative_unsynced(rdk_client *c) {
    return c->cooperative && !c->synced && c->rk != NULL && rdk_is_cooperative(c->rk);
}

/* In serve_event_protected: on_assign(consumer, partitions), on_revoke, or
 * on_lost when the assignment was lost (on_revoke when there is no on_lost). */
void rdk_serve_rebalance(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    int which = RDK_ON_ASSIGN;
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        which = RDK_ON_REVOKE;
        if (RDK_HAS(c, RDK_ON_LOST) && rd_kafka_assignment_lost(c->rk))
            which = RDK_ON_LOST;
    }
    if (!RDK_HAS(c, which))
        return;
    lua_pushvalue(L, 1);
    rdk_push_partitions(L, rd_kafka_event_topic_partition_list(ev));
    rdk_call_callback(L, which, 2);
}

/* After the rebalance event was served: the assign or unassign the group
 * waits for, unless the callback made one. Plain C: it cannot fail half-way. */
void rdk_rebalance_finish(rdk_client *c, rd_kafka_event_t *ev, long long assigns_before) {
    const rd_kafka_topic_partition_list_t *list = rd_kafka_event_topic_partition_list(ev);
    int assign = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_error_t *error = NULL;
    if (assign)
        c->synced = 1;
    if (c->assigns != assigns_before || c->rk == NULL)
        return;
    if (rdk_is_cooperative(c->rk))
        error = assign ? rd_kafka_incremental_assign(c->rk, list)
                       : rd_kafka_incremental_unassign(c->rk, list);
    else
        err = rd_kafka_assign(c->rk, assign ? list : NULL);
    if (error != NULL) {
        err = rd_kafka_error_code(error);
        rd_kafka_error_destroy(error);
    }
    if (err && err != RD_KAFKA_RESP_ERR__DESTROY && err != RD_KAFKA_RESP_ERR__FATAL)
        fprintf(stderr, "rdkafka: %s of %d partitions after a rebalance failed: %s\n",
                assign ? "assignment" : "unassignment", list ? list->cnt : 0, rd_kafka_err2str(err));
}

/* In serve_event_protected: a commit's outcome (commit_async, and with
 * on_commit set, each auto-commit). on_commit(err, partitions): err is the
 * request's error, else the first partition's; each partition carries its
 * own. Without on_commit a failure goes to on_error or stderr. */
void rdk_serve_commit(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    const rd_kafka_topic_partition_list_t *list = rd_kafka_event_topic_partition_list(ev);
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        err = rdk_partitions_error(list);
    if (RDK_HAS(c, RDK_ON_COMMIT)) {
        if (err)
            rdk_push_error(L, err, NULL, 0);
        else
            lua_pushnil(L);
        rdk_push_partitions(L, list);
        rdk_call_callback(L, RDK_ON_COMMIT, 2);
    } else if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        lua_pushfstring(L, "commit of offsets failed: %s", rd_kafka_err2str(err));
        rdk_report_error(L, c, err, "set on_commit to handle this");
    }
}

/* A subscribe made while a rebalance is under way waits in librdkafka 2.0.2
 * for that rebalance to end, and is applied then even when the consumer is
 * closing or being destroyed meanwhile: the group then ends with a
 * subscription, which aborts the process (rd_kafka_cgrp_destroy_final:
 * assert !rkcg_subscription). An unsubscribe replaces the waiting subscribe.
 * Only a second subscribe can wait so: a consumer subscribed once is left
 * alone. */
void rdk_drop_pending_subscription(rdk_client *c) {
    if (c->subscribes >= 2)
        rd_kafka_unsubscribe(c->rk);
}

/* close(), before the consumer is closed on its thread: with rebalance
 * callbacks, the member unsubscribes and serves the revocation here, so
 * on_revoke runs on the caller's thread (and may commit) as in any other
 * rebalance. So does a cooperative member (it takes rebalance events in
 * any case): librdkafka 2.0.2's own close answers an assignment it meets
 * with an unassign that never completes (upstream #4527). Skipped for
 * static members (group.instance.id): they keep their partitions in the
 * group across a restart. The others only drop a subscribe that may still
 * wait (rdk_drop_pending_subscription): librdkafka's close revokes their
 * partitions. Messages that arrive meanwhile are dropped unread (never
 * returned, never committed). */
void rdk_revoke_before_close(lua_State *L, rdk_client *c, int base, long long deadline) {
    rd_kafka_topic_partition_list_t *list = NULL;
    char instance[256];
    size_t size = sizeof instance;
    rd_kafka_conf_res_t res;
    long long stop_at;
    res = rd_kafka_conf_get(rd_kafka_conf(c->rk), "group.instance.id", instance, &size);
    if (((c->callbacks & RDK_REBALANCE_CALLBACKS) == 0 && !c->cooperative) ||
        (res == RD_KAFKA_CONF_OK && size > 1)) {
        rdk_drop_pending_subscription(c);
        return;
    }
    if (rd_kafka_subscription(c->rk, &list) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    size = (size_t)list->cnt;
    rd_kafka_topic_partition_list_destroy(list);
    if (size == 0 || rd_kafka_unsubscribe(c->rk) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    /* Half of what is left at most: leaving the group and the last commits
     * need time too. A group in the middle of a rebalance may hold the
     * revocation back; a lost assignment gets none. */
    stop_at = rdk_now_ms() + (deadline - rdk_now_ms()) / 2;
    for (;;) {
        long long left;
        int assigned = 1;
        /* What is queued now first: a pending assignment is served before
         * its revocation. */
        size_t queued = rd_kafka_queue_length(c->queue);
        if (queued > 0)
            rdk_serve_queue(L, c, base, c->queue, 0, (int)(queued > INT_MAX ? INT_MAX : queued), stop_at);
        list = NULL;
        if (rd_kafka_assignment(c->rk, &list) == RD_KAFKA_RESP_ERR_NO_ERROR && list != NULL)
            assigned = list->cnt > 0;
        if (list != NULL)
            rd_kafka_topic_partition_list_destroy(list);
        left = stop_at - rdk_now_ms();
        if (!assigned || left <= 0 || rd_kafka_assignment_lost(c->rk))
            return;
        rdk_serve_queue(L, c, base, c->queue, left < 100 ? (int)left : 100, 1, stop_at);
    }
}

/* A partition list argument; unlike rdk_check_partitions, an empty table is
 * an empty list (a member may be given no partitions). */
static rd_kafka_topic_partition_list_t *check_list(lua_State *L, int offsets, void ***guard) {
    rd_kafka_topic_partition_list_t *list;
    lua_settop(L, 2);
    if (lua_type(L, 2) == LUA_TTABLE && lua_rawlen(L, 2) == 0) {
        lua_pushnil(L);
        if (lua_next(L, 2) == 0) {
            *guard = rdk_guard(L, rdk_destroy_partitions);
            **guard = list = rd_kafka_topic_partition_list_new(0);
            return list;
        }
        lua_settop(L, 2);
    }
    return rdk_check_partitions(L, 2, 2, offsets, 0, guard);
}

static int return_result(lua_State *L, rdk_client *c, rd_kafka_resp_err_t err, rd_kafka_error_t *error) {
    if (error != NULL) {
        lua_pushnil(L);
        rdk_push_error_object(L, 1, error);
        return 2;
    }
    if (err)
        return rdk_return_error(L, err, NULL);
    c->assigns++;
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Consumes exactly these partitions, replacing the assignment (eager
 * rebalances, or no group at all). Made from a rebalance callback, it is the
 * assignment change the group waits for, and the module makes none.
 * @function assign
 * @tparam table list a partition list, `{}` for none; each `offset` an
 *   integer, `"beginning"`, `"end"` or `"stored"`; without one, the
 *   committed offset, else `auto.offset.reset`
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (`_STATE` under cooperative-sticky)
 */
static int consumer_assign(lua_State *L) {
    rdk_client *c = check(L);
    void **guard;
    rd_kafka_topic_partition_list_t *list = check_list(L, RDK_OFFSET_NAMED, &guard);
    rd_kafka_resp_err_t err = rd_kafka_assign(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return return_result(L, c, err, NULL);
}

/***
 * Stops consuming every assigned partition (an incremental unassign of them
 * all under cooperative-sticky).
 * @function unassign
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int consumer_unassign(lua_State *L) {
    rdk_client *c = check(L);
    rd_kafka_resp_err_t err;
    if (rdk_is_cooperative(c->rk)) {
        /* A cooperative member gives up what it has, incrementally. */
        rd_kafka_topic_partition_list_t *list = NULL;
        rd_kafka_error_t *error = NULL;
        err = rd_kafka_assignment(c->rk, &list);
        if (!err && list != NULL)
            error = rd_kafka_incremental_unassign(c->rk, list);
        if (list != NULL)
            rd_kafka_topic_partition_list_destroy(list);
        return return_result(L, c, err, error);
    }
    err = rd_kafka_assign(c->rk, NULL);
    return return_result(L, c, err, NULL);
}

/* c:incremental_assign(list) / c:incremental_unassign(list): add to / take
 * from the assignment (cooperative rebalances). */
static int incremental(lua_State *L, int assign) {
    rdk_client *c = check(L);
    void **guard;
    rd_kafka_topic_partition_list_t *list = check_list(L, assign ? RDK_OFFSET_NAMED : RDK_OFFSET_NONE, &guard);
    rd_kafka_error_t *error = assign ? rd_kafka_incremental_assign(c->rk, list)
                                     : rd_kafka_incremental_unassign(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return return_result(L, c, RD_KAFKA_RESP_ERR_NO_ERROR, error);
}

/***
 * Adds partitions to the assignment (cooperative-sticky members).
 * @function incremental_assign
 * @tparam table list a partition list, `offset` as for `assign`
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (`_STATE` for an eager member)
 */
static int consumer_incremental_assign(lua_State *L) { return incremental(L, 1); }

/***
 * Takes partitions from the assignment (cooperative-sticky members).
 * @function incremental_unassign
 * @tparam table list a partition list
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err (`_STATE` for an eager member)
 */
static int consumer_incremental_unassign(lua_State *L) { return incremental(L, 0); }

/***
 * The partitions this member owns now.
 * @function assignment
 * @treturn[1] table `{{topic=, partition=}, ...}`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int consumer_assignment(lua_State *L) {
    rdk_client *c = check(L);
    rd_kafka_topic_partition_list_t *list = NULL;
    void **guard = rdk_guard(L, rdk_destroy_partitions);
    rd_kafka_resp_err_t err = rd_kafka_assignment(c->rk, &list);
    *guard = list;
    if (err)
        return rdk_return_error(L, err, NULL);
    rdk_push_partitions(L, list);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return 1;
}

/***
 * Whether the group took the assignment away (the member missed
 * `max.poll.interval.ms`, or its session timed out).
 * @function assignment_lost
 * @treturn boolean
 */
static int consumer_assignment_lost(lua_State *L) {
    lua_pushboolean(L, rd_kafka_assignment_lost(check(L)->rk));
    return 1;
}

/***
 * The group's rebalance protocol.
 * @function rebalance_protocol
 * @treturn ?string `"EAGER"` or `"COOPERATIVE"` once the member joined, else nil
 */
static int consumer_rebalance_protocol(lua_State *L) {
    const char *protocol = rd_kafka_rebalance_protocol(check(L)->rk);
    if (protocol != NULL && strcmp(protocol, "NONE") != 0)
        lua_pushstring(L, protocol);
    else
        lua_pushnil(L);
    return 1;
}

const luaL_Reg rdk_consumer_assign_methods[] = {
    {"assign", consumer_assign},
    {"unassign", consumer_unassign},
    {"incremental_assign", consumer_incremental_assign},
    {"incremental_unassign", consumer_incremental_unassign},
    {"assignment", consumer_assignment},
    {"assignment_lost", consumer_assignment_lost},
    {"rebalance_protocol", consumer_rebalance_protocol},
    {NULL, NULL}};

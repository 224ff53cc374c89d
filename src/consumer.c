/* rdkafka.Consumer: subscribe, poll, commit, close (a group consumer). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "private.h"

#define CLOSE_TIMEOUT_MS 10000

/***
 * A consumer-group member, made by `rdkafka.consumer(conf)`.
 *
 * Misuse (a wrong argument, a closed handle, a handle used in another
 * process than the one that made it) raises an error; a Kafka failure
 * returns `nil, err`, `err` an @{rdkafka.Error}. The callbacks of `conf` run
 * only inside `poll`, `consume`, `consume_columns` and `close`, on the
 * caller's thread; those raise when called from one of this consumer's
 * callbacks, and raise the first error a callback raised once they are done.
 *
 * A partition list is an array of `{topic=, partition=, offset=}` tables; an
 * offset is always the next offset to read. A returned entry has no `offset`
 * where there is none, and has `error` where Kafka refused that partition.
 * A message is a table with `topic`, `partition`, `offset`, `key`, `value`,
 * `headers` (a list of `{name, value}` pairs) and `timestamp` (ms since the
 * epoch); `key`, `value` and `headers` are nil when absent.
 * @classmod rdkafka.Consumer
 */

/* Whether conf's partition.assignment.strategy names cooperative-sticky
 * (librdkafka refuses to mix it with eager assignors). */
static int cooperative_strategy(const rd_kafka_conf_t *conf) {
    char value[512];
    size_t size = sizeof value;
    return rd_kafka_conf_get(conf, "partition.assignment.strategy", value, &size) == RD_KAFKA_CONF_OK &&
           strstr(value, "cooperative-sticky") != NULL;
}

static int consumer_new(lua_State *L) {
    char errstr[512];
    int events = RD_KAFKA_EVENT_ERROR;
    sigset_t saved;
    rd_kafka_conf_t *conf;
    rdk_client *c;
    lua_settop(L, 1);
    c = rdk_new_client(L, RDK_CONSUMER_MT);
    rdk_getuservalue(L, 2);
    conf = rdk_conf_from_table(L, 1, c, 3, 1 << RDK_ON_ERROR | 1 << RDK_ON_LOG | 1 << RDK_ON_STATS |
                                               RDK_REBALANCE_CALLBACKS | 1 << RDK_ON_COMMIT |
                                               1 << RDK_ON_THROTTLE);
    lua_settop(L, 2);
    /* With a rebalance callback the group waits for the application's
     * assign (rebalance.c makes it); without, librdkafka assigns itself.
     * A cooperative consumer always gets the events: the first tells that
     * its first assignment was made (see rdk_cooperative_unsynced). */
    c->cooperative = cooperative_strategy(conf);
    if ((c->callbacks & RDK_REBALANCE_CALLBACKS) || c->cooperative)
        events |= RD_KAFKA_EVENT_REBALANCE;
    /* Auto-commit outcomes too; commit_async's come in any case. */
    if (RDK_HAS(c, RDK_ON_COMMIT))
        events |= RD_KAFKA_EVENT_OFFSET_COMMIT;
    events |= rdk_callback_events(c);
    rd_kafka_conf_set_events(conf, events);
    rdk_signals_block(&saved);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rdk_signals_restore(&saved);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return rdk_raise_redacted(L, 2, "rdkafka.consumer", errstr);
    }
    if (RDK_HAS(c, RDK_ON_LOG))
        rd_kafka_set_log_queue(c->rk, NULL);
    /* One queue for messages, errors and logs, served by poll. */
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);
    if (c->queue == NULL) { /* no group.id: there is no consumer queue */
        rd_kafka_destroy(c->rk);
        c->rk = NULL;
        return luaL_error(L, "config key 'group.id': a consumer needs a non-empty group id");
    }
    /* commit_async's results: into poll's queue, and to close's own queue
     * while it closes (librdkafka's close would drop them). */
    c->commit_queue = rd_kafka_queue_new(c->rk);
    rd_kafka_queue_forward(c->commit_queue, c->queue);
    return 1;
}

/* librdkafka 2.0.2 changes a cooperative member's subscription in place
 * (rd_kafka_cgrp_modify_subscription), and aborts when it does so while the
 * member joins without a member id (after it left the group, or was fenced)
 * and the new topics need fresh metadata. Such a member owns nothing in the
 * group: its old subscription is dropped first, so the new one starts a
 * plain join. librdkafka logs an "unexpected instruction to revoke" then,
 * and a librdkafka built with --enable-devel asserts there (rd_dassert);
 * Debian's is not. */
static int joining_cooperative(rd_kafka_t *rk) {
    char *member;
    int joining;
    if (!rdk_is_cooperative(rk))
        return 0;
    member = rd_kafka_memberid(rk);
    joining = member == NULL || member[0] == '\0';
    if (member != NULL)
        rd_kafka_mem_free(rk, member);
    return joining;
}

/***
 * Subscribes to topics, replacing the subscription. A name that starts with
 * `^` is a regular expression, matched against the cluster's topics as they
 * are now and as they are created later. From a callback that `close`
 * serves, it returns `nil, err` with `_STATE`: librdkafka 2.0.2 aborts when a
 * group that is closing gets a subscription.
 * @function subscribe
 * @tparam {string,...}|string topics topic names and patterns, or one name
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int consumer_subscribe(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_topic_partition_list_t *list, *old = NULL;
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
    lua_createtable(L, 0, n); /* the names seen: librdkafka refuses one given twice */
    for (i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(L, 2, i);
        if (lua_type(L, -1) != LUA_TSTRING || (lua_tolstring(L, -1, &len), len == 0))
            luaL_argerror(L, 2, lua_pushfstring(L, "topic #%d must be a non-empty string, got %s",
                                                i, luaL_typename(L, -1)));
        /* A NUL byte would cut the name short: another topic, silently. */
        if (strlen(lua_tostring(L, -1)) != len)
            luaL_argerror(L, 2, lua_pushfstring(L, "topic #%d must not contain a NUL byte", i));
        lua_pushvalue(L, -1);
        lua_rawget(L, -3);
        if (!lua_isnil(L, -1))
            luaL_argerror(L, 2, lua_pushfstring(L, "topic #%d repeats topic #%d", i, (int)lua_tointeger(L, -1)));
        lua_pop(L, 1);
        lua_pushinteger(L, i);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    if (c->in_close) /* from a callback close serves: the subscription is being dropped */
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__STATE, "the consumer is closing: no new subscription");
    /* Nothing below raises: the lists cannot leak. */
    if (c->subscribes > 0 && c->cooperative && joining_cooperative(c->rk) &&
        rd_kafka_subscription(c->rk, &old) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_unsubscribe(c->rk);
    list = rd_kafka_topic_partition_list_new(n);
    for (i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        rd_kafka_topic_partition_list_add(list, lua_tostring(L, -1), RD_KAFKA_PARTITION_UA);
        lua_pop(L, 1);
    }
    err = rd_kafka_subscribe(c->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    /* A list librdkafka refuses (a pattern that does not compile, a fatal
     * error) leaves the old subscription as it was. */
    if (err && old != NULL && old->cnt > 0)
        rd_kafka_subscribe(c->rk, old);
    if (old != NULL)
        rd_kafka_topic_partition_list_destroy(old);
    if (err)
        return rdk_return_error(L, err, NULL);
    if (c->subscribes < 2)
        c->subscribes++;
    lua_pushboolean(L, 1);
    return 1;
}

/***
 * Ends the subscription: the group revokes this member's partitions
 * (`on_revoke` runs inside a later `poll`, `consume` or `close`).
 * @function unsubscribe
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int consumer_unsubscribe(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    rd_kafka_resp_err_t err = rd_kafka_unsubscribe(c->rk);
    if (err)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}


/***
 * Leaves the group (so its partitions move to the other members at once) and
 * destroys the handle, serving the callbacks until it is done or `timeout`
 * has passed: `on_revoke` first (not for a static member, with
 * `group.instance.id`), so it may still commit. Also runs on `<close>`; the
 * collector neither waits nor leaves the group. A consumer that subscribed
 * more than once unsubscribes first in both cases (a subscribe waiting for a
 * rebalance would be applied during the close, which aborts librdkafka
 * 2.0.2), so it leaves the group on close, even a static member, and may
 * leave it when collected. Closing a closed consumer returns `true`.
 * @function close
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_TIMED_OUT` when librdkafka had not finished
 *   (it goes on in the background; the handle is closed either way), also
 *   when a cooperative-sticky consumer's first assignment had not come
 *   (librdkafka before 2.3.0 aborts when one is destroyed between its join
 *   and that assignment: its closing thread waits for it, at most 30 s, and
 *   leaves the handle undestroyed if it never comes), `_FAIL` when no thread
 *   could be started for it (the consumer stays open)
 */
/* Hands the consumer to its closing thread, which destroys it without a
 * consumer close, and its queue with it (nothing is served here any more):
 * the thread first waits for a cooperative consumer's first assignment
 * there (await: rdk_shutdown_await_assignment), or else empties it
 * (rdk_shutdown_drain). A held rebalance is answered here: an unanswered
 * cooperative assignment keeps librdkafka 2.0.2's destroy waiting forever
 * (upstream #4527). */
static void hand_over(rdk_client *c, int await) {
    rd_kafka_queue_t *queues[1];
    if (c->held != NULL) {
        rdk_rebalance_finish(c, c->held, c->assigns);
        rd_kafka_event_destroy(c->held);
        c->held = NULL;
    }
    rdk_drop_pending_subscription(c);
    rdk_wake_close(c);
    /* Destroying commit_queue would purge the queue it forwards to. */
    rd_kafka_queue_forward(c->commit_queue, NULL);
    if (await)
        rdk_shutdown_await_assignment(c->shutdown, c->queue);
    else
        rdk_shutdown_drain(c->shutdown, c->rk, c->queue);
    rdk_shutdown_begin(c->shutdown, c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE, NULL);
    queues[0] = c->commit_queue;
    rdk_shutdown_finish(c->shutdown, 0, queues, 1);
}

/* close() for a consumer rdk_cooperative_unsynced still holds after the
 * timeout: it goes on closing in the background. */
static int close_unassigned(lua_State *L, rdk_client *c, int base) {
    int thread_err = rdk_shutdown_prepare(c->shutdown);
    if (thread_err != 0) {
        c->in_close = 0;
        rdk_leave(L, c, base);
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__FAIL,
                                lua_pushfstring(L, "could not start a thread to close the consumer "
                                                   "(error %d): it is still open", thread_err));
    }
    c->closing = 1;
    hand_over(c, 1);
    c->shutdown = NULL;
    c->queue = NULL;
    c->commit_queue = NULL;
    c->rk = NULL;
    rdk_leave(L, c, base);
    return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                            "the consumer joined its group and its first assignment did not come within the "
                            "timeout: it goes on closing in the background once that assignment comes "
                            "(librdkafka before 2.3.0 aborts when a cooperative-sticky consumer is destroyed "
                            "before it)");
}

static int consumer_close(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_CONSUMER_MT, "close");
    rd_kafka_queue_t *own, *main_queue, *queues[3];
    rd_kafka_resp_err_t close_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    long long deadline;
    rd_kafka_event_t *ev;
    int timeout_ms, base, destroyed, thread_err;
    size_t backlog, unserved = 0;
    if (c->rk == NULL || c->pid != rdk_pid) {
        /* Closed, or created in another process: its threads live there. */
        if (c->rk != NULL) {
            rdk_wake_close(c); /* this process's copy of the pipe only */
            rdk_shutdown_free(c->shutdown);
            c->shutdown = NULL;
            c->rk = NULL;
            c->queue = NULL;
            c->commit_queue = NULL;
            c->held = NULL;
        }
        lua_pushboolean(L, 1);
        return 1;
    }
    timeout_ms = rdk_check_timeout_ms(L, 2, CLOSE_TIMEOUT_MS);
    deadline = rdk_now_ms() + timeout_ms;
    base = rdk_enter(L, c, 2, "close");
    c->in_close = 1;
    /* A cooperative consumer between its join and its first assignment
     * cannot be destroyed yet (rdk_cooperative_unsynced): the assignment
     * comes first, served here like any rebalance. No message can come
     * before it. */
    while (rdk_now_ms() < deadline && !rdk_failed(L, c, base) && rdk_cooperative_unsynced(c)) {
        long long left = deadline - rdk_now_ms();
        rdk_serve_queue(L, c, base, c->queue, left > 100 ? 100 : (int)left, 1, deadline);
    }
    if (rdk_cooperative_unsynced(c))
        return close_unassigned(L, c, base);
    if ((thread_err = rdk_shutdown_prepare(c->shutdown)) != 0) {
        c->in_close = 0;
        rdk_leave(L, c, base);
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__FAIL,
                                lua_pushfstring(L, "could not start a thread to close the consumer "
                                                   "(error %d): it is still open", thread_err));
    }
    c->closing = 1;
    rdk_held_back_error(L, base); /* raised once closed */
    rdk_serve_held(L, c, base);
    rdk_revoke_before_close(L, c, base, deadline);
    /* While librdkafka closes the consumer on that thread it serves the
     * consumer queue itself: errors and logs come to a queue of close's own
     * instead, served here. What the consumer queue holds now is served
     * first (a message there was never returned, so it is not committed). */
    own = rd_kafka_queue_new(c->rk);
    main_queue = rd_kafka_queue_get_main(c->rk);
    rd_kafka_queue_forward(main_queue, own);
    rd_kafka_queue_destroy(main_queue);
    rd_kafka_queue_forward(c->commit_queue, own);
    backlog = rd_kafka_queue_length(c->queue);
    if (backlog > 0)
        backlog -= (size_t)rdk_serve_queue(L, c, base, c->queue, 0, (int)backlog, deadline);
    /* Past the deadline, the rest is dropped here: librdkafka would serve it
     * on its thread, logs to stderr in its own format. Messages there were
     * never returned, so they are not committed either: not counted. */
    while (rdk_now_ms() >= deadline && backlog-- > 0 && (ev = rd_kafka_queue_poll(c->queue, 0)) != NULL) {
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            /* Never dropped unanswered: the group would wait for it, and
             * librdkafka's close with it, forever. */
            rdk_rebalance_finish(c, ev, c->assigns);
        else if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_FETCH)
            unserved++;
        rd_kafka_event_destroy(ev);
    }
    rdk_wake_close(c);
    rdk_shutdown_begin(c->shutdown, c->rk, RDK_SHUTDOWN_CONSUMER_CLOSE, own);
    for (;;) {
        long long left = deadline - rdk_now_ms();
        if (left <= 0 || rdk_shutdown_closed(c->shutdown, &close_err))
            break;
        rdk_serve_queue(L, c, base, own, (int)left, INT_MAX, deadline); /* woken when closed */
    }
    if (rdk_now_ms() < deadline)
        rdk_serve_queue(L, c, base, own, 0, INT_MAX, deadline);
    unserved += rd_kafka_queue_length(own);
    if (unserved > 0)
        fprintf(stderr, "rdkafka: closing a consumer: %zu events (logs, errors) were not served "
                        "within the timeout\n", unserved);
    queues[0] = own;
    queues[1] = c->queue;
    queues[2] = c->commit_queue;
    destroyed = rdk_shutdown_finish(c->shutdown, deadline, queues, 3);
    c->shutdown = NULL;
    c->queue = NULL;
    c->commit_queue = NULL;
    c->rk = NULL;
    rdk_leave(L, c, base);
    if (!destroyed)
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                "the consumer did not finish closing within the timeout; "
                                "it goes on closing in the background");
    if (close_err)
        return rdk_return_error(L, close_err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int consumer_close_scope(lua_State *L) {
    lua_settop(L, 1);
    return consumer_close(L);
}

/* The collector never waits: the handle is destroyed on a thread of its own,
 * without leaving the group (its members see this one go after the session
 * timeout). close() leaves at once. */
static int consumer_gc(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_CONSUMER_MT, "close");
    if (c->rk != NULL && c->pid == rdk_pid) {
        int thread = rdk_shutdown_prepare(c->shutdown) == 0;
        if (!rdk_cooperative_unsynced(c)) {
            if (!thread)
                fprintf(stderr, "rdkafka: no thread for a collected consumer: destroying it here\n");
            hand_over(c, 0);
            c->shutdown = NULL;
        } else if (thread) { /* not destroyed before its first assignment (see close) */
            hand_over(c, 1);
            c->shutdown = NULL;
        } else {
            fprintf(stderr, "rdkafka: no thread for a collected cooperative-sticky consumer awaiting its "
                            "first assignment: left undestroyed (librdkafka before 2.3.0 aborts when "
                            "destroying it)\n");
        }
    }
    rdk_wake_close(c); /* in a child: this process's copy of the pipe */
    rdk_shutdown_free(c->shutdown);
    c->shutdown = NULL;
    c->rk = NULL;
    c->queue = NULL;
    c->commit_queue = NULL;
    c->held = NULL;
    return 0;
}

/***
 * librdkafka's name of this handle, such as `rdkafka#consumer-1`.
 * @function name
 * @treturn string
 */
static int consumer_name(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    lua_pushstring(L, rd_kafka_name(c->rk));
    return 1;
}

/***
 * Cluster metadata: the brokers, the controller, the topics and their
 * partitions, as @{rdkafka.Admin:metadata} returns them.
 * @function metadata
 * @tparam[opt] string topic only this topic (default: every topic)
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] table the metadata
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */

void rdk_open_consumer(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"subscribe", consumer_subscribe}, {"unsubscribe", consumer_unsubscribe},
        {"close", consumer_close},
        {"name", consumer_name},           {NULL, NULL}};
    static const luaL_Reg metamethods[] = {
        {"__gc", consumer_gc}, {"__close", consumer_close_scope},
        {"__tostring", rdk_client_tostring}, {NULL, NULL}};
    rdk_new_class(L, RDK_CONSUMER_MT, methods, metamethods);
    rdk_add_methods(L, RDK_CONSUMER_MT, rdk_consumer_take_methods);
    rdk_add_methods(L, RDK_CONSUMER_MT, rdk_consumer_offset_methods);
    rdk_add_methods(L, RDK_CONSUMER_MT, rdk_consumer_assign_methods);
    /* The method table, for methods the Lua layer adds (lag). */
    luaL_getmetatable(L, RDK_CONSUMER_MT);
    lua_getfield(L, -1, "__index");
    lua_setfield(L, -3, "consumer_methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, consumer_new);
    lua_setfield(L, -2, "consumer");
}

/* rdkafka.Producer: produce, poll, flush, close. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "private.h"

#define CLOSE_TIMEOUT_MS 10000
#define PURGE_REPORT_MS 1000
/* How long a flush helper may run past the moment it is told to stop. */
#define FLUSH_SLICE_MS 10
#define SERVE_BATCH 100000

/***
 * A producer, made by `rdkafka.producer(conf)`.
 *
 * Misuse (a wrong argument, a closed handle, a handle used in another
 * process than the one that made it) raises an error; a Kafka failure
 * returns `nil, err`, `err` an @{rdkafka.Error}. The callbacks of `conf`
 * (`on_delivery(err, msg)`, `on_error`, `on_log`, `on_stats`,
 * `on_throttle(broker, seconds, broker_id)`) run only inside `poll`, `flush`,
 * `close`, `commit_transaction` and `abort_transaction`, on the caller's
 * thread, and the first error one raises is raised once the call is done.
 * A delivery report's message is a table with `topic`, `partition`,
 * `offset`, `key`, `value`, `headers`, `timestamp` and the `opaque` given to
 * `produce`; `delivery.report.fields` in `conf` (a comma-separated list of
 * key, value, headers, timestamp, or "all", or "none") limits a successful
 * delivery's message to those besides topic, partition, offset and opaque.
 * With `delivery.report.only.error = true` in `conf`, `on_delivery` runs for
 * failed messages only (successes are still counted).
 * @classmod rdkafka.Producer
 */

static int producer_new(lua_State *L) {
    char errstr[512];
    int events = RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR;
    sigset_t saved;
    rd_kafka_conf_t *conf;
    rdk_client *c;
    lua_settop(L, 1);
    c = rdk_new_client(L, RDK_PRODUCER_MT);
    c->report_fields = RDK_FIELDS_ALL;
    rdk_getuservalue(L, 2);
    conf = rdk_conf_from_table(L, 1, c, 3,
                               1 << RDK_ON_DELIVERY | 1 << RDK_ON_ERROR | 1 << RDK_ON_LOG | 1 << RDK_ON_STATS |
                                   1 << RDK_ON_THROTTLE);
    lua_settop(L, 2);
    events |= rdk_callback_events(c);
    {
        /* flush, pending and close count one report per message, and a
         * report releases the message's opaque: librdkafka must report every
         * one. delivery.report.only.error is the module's to apply instead:
         * a success is then counted in C and never reaches Lua. */
        char value[8], ignored[64];
        size_t size = sizeof value;
        if (rd_kafka_conf_get(conf, "delivery.report.only.error", value, &size) == RD_KAFKA_CONF_OK &&
            strcmp(value, "true") == 0) {
            c->only_errors = 1;
            rd_kafka_conf_set(conf, "delivery.report.only.error", "false", ignored, sizeof ignored);
        }
    }
    rd_kafka_conf_set_events(conf, events);
    rdk_signals_block(&saved);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rdk_signals_restore(&saved);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return rdk_raise_redacted(L, 2, "rdkafka.producer", errstr);
    }
    if (RDK_HAS(c, RDK_ON_LOG))
        rd_kafka_set_log_queue(c->rk, NULL);
    c->queue = rd_kafka_queue_get_main(c->rk);
    return 1;
}

typedef struct produce_args {
    const char *topic, *value, *key;
    size_t value_len, key_len, topic_len;
    lua_Integer partition;
    lua_Integer timestamp;
    int has_timestamp;
    rd_kafka_headers_t *headers;
    int opaque; /* stack index of the opaque value, 0 for none */
    int env;    /* stack index of the callback table, once there is an opaque */
    int ref;    /* the opaque's ref (message.c), 0 until taken */
} produce_args;

static const char *opt_bytes(lua_State *L, int idx, const char *what, int argn, size_t *len) {
    int t = lua_type(L, idx);
    if (t == LUA_TNIL || t == LUA_TNONE) {
        *len = 0;
        return NULL;
    }
    if (t != LUA_TSTRING)
        luaL_argerror(L, argn, lua_pushfstring(L, "%s must be a string or nil, got %s", what,
                                               luaL_typename(L, idx)));
    return lua_tolstring(L, idx, len);
}

static lua_Integer check_int_field(lua_State *L, int idx, const char *what, int argn,
                                   lua_Integer min, lua_Integer max) {
    lua_Integer v;
    if (!rdk_isinteger(L, idx))
        luaL_argerror(L, argn, lua_pushfstring(L, "%s must be an integer, got %s", what,
                                               lua_type(L, idx) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, idx)));
    v = lua_tointeger(L, idx);
    if (v < min || v > max)
        luaL_argerror(L, argn, lua_pushfstring(L, "%s out of range", what));
    return v;
}

static void check_topic(lua_State *L, const produce_args *a) {
    if (a->topic_len == 0 || strlen(a->topic) != a->topic_len)
        luaL_argerror(L, 2, "topic name must be a non-empty string without NUL bytes");
}

/* Stores the opaque value in the handle's table (message.c): may raise. */
static void take_ref(lua_State *L, produce_args *a) {
    if (a->env == 0) {
        rdk_getuservalue(L, 1);
        a->env = lua_gettop(L);
    }
    lua_pushvalue(L, a->opaque);
    a->ref = rdk_ref_opaque(L, a->env);
}

/* Table form: one pass over the fields, so a misspelt field is an error
 * rather than a silently dropped part of the message. */
static void read_table_args(lua_State *L, produce_args *a) {
    int has_opaque = 0, has_headers = 0; /* looked up after the loop only when present */
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        const char *field = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (field == NULL)
            luaL_argerror(L, 2, "fields must have string names");
        if (strcmp(field, "topic") == 0) {
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_argerror(L, 2, lua_pushfstring(L, "field 'topic' must be a string, got %s",
                                                    luaL_typename(L, -1)));
            a->topic = lua_tolstring(L, -1, &a->topic_len);
        } else if (strcmp(field, "value") == 0) {
            a->value = opt_bytes(L, -1, "field 'value'", 2, &a->value_len);
        } else if (strcmp(field, "key") == 0) {
            a->key = opt_bytes(L, -1, "field 'key'", 2, &a->key_len);
        } else if (strcmp(field, "partition") == 0) {
            a->partition = check_int_field(L, -1, "field 'partition'", 2, -1, INT32_MAX);
        } else if (strcmp(field, "timestamp") == 0) {
            a->timestamp = check_int_field(L, -1, "field 'timestamp'", 2, 0, (lua_Integer)1 << 52);
            a->has_timestamp = 1;
        } else if (strcmp(field, "headers") == 0) {
            has_headers = 1;
        } else if (strcmp(field, "opaque") == 0) {
            has_opaque = 1;
        } else {
            luaL_argerror(L, 2, lua_pushfstring(L, "unknown field '%s' (expected topic, value, "
                                                   "key, partition, headers, timestamp, opaque)", field));
        }
        lua_pop(L, 1);
    }
    if (a->topic == NULL)
        luaL_argerror(L, 2, "field 'topic' must be a string, got nil");
    check_topic(L, a);
    if (has_opaque) {
        lua_pushliteral(L, "opaque");
        lua_rawget(L, 2);
        a->opaque = lua_gettop(L); /* stays on the stack */
    }
    /* Headers last: once built they must be freed on any error. */
    if (has_headers) {
        lua_pushliteral(L, "headers");
        lua_rawget(L, 2); /* raw: no __index may run while we hold field strings */
        if (a->opaque) {
            /* Owned by a guard until the opaque has its ref (taking one may
             * raise): only when both are given. */
            void **guard = rdk_guard(L, rdk_destroy_headers);
            *guard = rdk_headers_from_table(L, -2, 2);
            take_ref(L, a);
            a->headers = (rd_kafka_headers_t *)*guard;
            *guard = NULL;
        } else {
            a->headers = rdk_headers_from_table(L, -1, 2);
        }
    } /* what this left on the stack goes when produce returns */
}

/***
 * Queues a message. Two forms: `p:produce{topic=, value=, key=, partition=,
 * headers=, timestamp=, opaque=}`, and `p:produce(topic, value [, key [,
 * partition [, opaque]]])`, which allocates nothing without an opaque.
 * `headers` is a list of `{name, value}` pairs, sent in the order of their
 * indices (names may repeat), or a map `{name = value}` (in no particular
 * order). `timestamp` is milliseconds since the epoch. `opaque` is any Lua
 * value but nil, not sent to Kafka: it comes back as `msg.opaque` in the
 * message's delivery report, and the producer lets go of it then (or when a
 * refused `produce` returns, or the producer closes).
 * @function produce
 * @tparam table|string msg the message table; in the second form, the topic
 * @tparam[opt] string value (second form) the value
 * @tparam[opt] string key (second form) the key
 * @tparam[opt] integer partition (second form) the partition (default: the
 *   partitioner's choice)
 * @param[opt] opaque (second form) the opaque
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_QUEUE_FULL` when the local queue is full
 *   (poll and retry), `MSG_SIZE_TOO_LARGE`, ...; `_STATE` from a callback
 *   while the producer closes
 */
static int producer_produce(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    produce_args a;
    if (c->closing) /* from a callback during close: it could never be delivered */
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__STATE,
                                "the producer is closing: no new messages");
    rd_kafka_vu_t vu[8];
    rd_kafka_error_t *error;
    int n = 0;
    memset(&a, 0, sizeof a);
    a.partition = RD_KAFKA_PARTITION_UA;
    if (lua_type(L, 2) == LUA_TTABLE) {
        if (lua_gettop(L) > 2)
            luaL_argerror(L, 3, "no further arguments after the message table");
        read_table_args(L, &a);
    } else {
        if (lua_type(L, 2) != LUA_TSTRING)
            luaL_argerror(L, 2, lua_pushfstring(L, "message table or topic name expected, got %s",
                                                luaL_typename(L, 2)));
        a.topic = lua_tolstring(L, 2, &a.topic_len);
        a.value = opt_bytes(L, 3, "value", 3, &a.value_len);
        a.key = opt_bytes(L, 4, "key", 4, &a.key_len);
        if (!lua_isnoneornil(L, 5))
            a.partition = check_int_field(L, 5, "partition", 5, -1, INT32_MAX);
        check_topic(L, &a);
        if (!lua_isnoneornil(L, 6))
            a.opaque = 6;
    }
    if (a.opaque && a.ref == 0) /* no headers to lose if this raises */
        take_ref(L, &a);
    vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[n++].u.cstr = a.topic;
    vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[n++].u.i32 = (int32_t)a.partition;
    vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[n].u.mem.ptr = (void *)a.value;
    vu[n++].u.mem.size = a.value_len;
    vu[n].vtype = RD_KAFKA_VTYPE_KEY;
    vu[n].u.mem.ptr = (void *)a.key;
    vu[n++].u.mem.size = a.key_len;
    if (a.has_timestamp) {
        vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vu[n++].u.i64 = (int64_t)a.timestamp;
    }
    if (a.headers != NULL) {
        vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vu[n++].u.headers = a.headers;
    }
    if (a.ref != 0) {
        vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
        vu[n++].u.ptr = (void *)(intptr_t)a.ref;
    }
    error = rd_kafka_produceva(c->rk, vu, (size_t)n);
    if (error == NULL) {
        c->in_flight++;
        lua_pushboolean(L, 1);
        return 1;
    }
    if (a.headers != NULL) /* not taken over by a message that was refused */
        rd_kafka_headers_destroy(a.headers);
    if (a.ref != 0) {
        rdk_take_opaque(L, a.env, (void *)(intptr_t)a.ref);
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    rdk_push_error_object(L, 1, error);
    return 2;
}

/***
 * Serves delivery reports and the other callbacks. Call it regularly (or
 * `flush`).
 * @function poll
 * @tparam[opt=0] number timeout seconds to wait for the first event
 * @treturn integer how many events were served
 */
static int producer_poll(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, 0);
    int base = rdk_enter(L, c, 2, "poll");
    int n = rdk_serve_queue(L, c, base, c->queue, timeout_ms, SERVE_BATCH, 0);
    rdk_leave(L, c, base);
    lua_pushinteger(L, n);
    return 1;
}

/* In event mode rd_kafka_flush() only waits for the count of messages to
 * reach zero, and that count drops as the caller destroys report events: it
 * cannot serve them itself. So a helper thread calls it (it is what makes
 * the broker threads send past linger.ms) while the caller serves the
 * reports, and the caller returns as soon as the last one is served. */
typedef struct flusher {
    rd_kafka_t *rk;
    long long deadline;
    int stop;
    pthread_t thread;
} flusher;

/* The helper runs rd_kafka_flush only. */
#define FLUSHER_STACK_SIZE (256 * 1024)

static void *flusher_run(void *arg) {
    flusher *f = (flusher *)arg;
    while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
        long long left = f->deadline - rdk_now_ms();
        if (left <= 0)
            break;
        if (rd_kafka_flush(f->rk, left > FLUSH_SLICE_MS ? FLUSH_SLICE_MS : (int)left) ==
            RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
    }
    return NULL;
}

/* Sends what is queued and serves its delivery reports until none is left
 * or timeout_ms has passed; returns how many messages are still undelivered
 * (produced, but their delivery report not yet served). */
long long rdk_flush_for(lua_State *L, rdk_client *c, int base, int timeout_ms) {
    long long deadline = rdk_now_ms() + timeout_ms;
    flusher f;
    int helper = 0;
    if (c->in_flight > 0 && timeout_ms > 0) {
        pthread_attr_t attr;
        sigset_t saved;
        f.rk = c->rk;
        f.deadline = deadline;
        f.stop = 0;
        if (pthread_attr_init(&attr) == 0) {
            pthread_attr_setstacksize(&attr, FLUSHER_STACK_SIZE);
            rdk_signals_block(&saved);
            helper = pthread_create(&f.thread, &attr, flusher_run, &f) == 0;
            rdk_signals_restore(&saved);
            pthread_attr_destroy(&attr);
        }
    }
    rdk_serve_queue(L, c, base, c->queue, 0, SERVE_BATCH, 0); /* what is ready, as poll(0) */
    while (c->in_flight > 0 && !rdk_failed(L, c, base)) {
        long long left = deadline - rdk_now_ms();
        if (left <= 0)
            break;
        if (!helper) /* no thread: flush in slices, serving in between */
            rd_kafka_flush(c->rk, left > FLUSH_SLICE_MS ? FLUSH_SLICE_MS : (int)left);
        rdk_serve_queue(L, c, base, c->queue, helper ? (int)left : 0, SERVE_BATCH, deadline);
    }
    if (helper) {
        __atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
        pthread_join(f.thread, NULL);
    }
    return c->in_flight;
}

/***
 * Sends what is queued (past `linger.ms`, given a timeout above 0) and
 * serves delivery reports until every message is reported or `timeout`
 * passes, returning as soon as the last report is served.
 * @function flush
 * @tparam[opt=10] number timeout seconds
 * @treturn integer the number of messages not reported yet (as `pending`)
 */
static int producer_flush(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, CLOSE_TIMEOUT_MS);
    int base = rdk_enter(L, c, 2, "flush");
    long long left = rdk_flush_for(L, c, base, timeout_ms);
    rdk_leave(L, c, base);
    lua_pushinteger(L, (lua_Integer)left);
    return 1;
}

/***
 * Purges messages not delivered yet: their delivery reports, with
 * `_PURGE_QUEUE` or `_PURGE_INFLIGHT`, come with the next `poll` or `flush`.
 * @function purge
 * @tparam[opt=true] boolean in_queue the messages still queued
 * @tparam[opt=true] boolean in_flight the messages sent and not acknowledged yet
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_STATE` from a callback while the producer closes
 */
static int producer_purge(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    static const char *const names[] = {"in_queue", "in_flight"};
    static const int bits[] = {RD_KAFKA_PURGE_F_QUEUE, RD_KAFKA_PURGE_F_INFLIGHT};
    rd_kafka_resp_err_t err;
    int i, flags = 0;
    for (i = 0; i < 2; i++) {
        int t = lua_type(L, i + 2);
        if (t != LUA_TNONE && t != LUA_TNIL && t != LUA_TBOOLEAN)
            luaL_argerror(L, i + 2, lua_pushfstring(L, "%s must be a boolean or nil, got %s", names[i],
                                                    luaL_typename(L, i + 2)));
        if (t != LUA_TBOOLEAN || lua_toboolean(L, i + 2))
            flags |= bits[i];
    }
    if (c->closing) /* from a callback during close, which purges by itself */
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__STATE, "the producer is closing");
    /* Blocking: the reports of purged messages are queued when it returns. */
    if ((err = rd_kafka_purge(c->rk, flags)) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return rdk_return_error(L, err, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* The opaque values of messages never reported go with the handle's end,
 * not only with its collection. */
static void drop_opaques(lua_State *L) {
    rdk_getuservalue(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, RDK_OPAQUES);
    lua_pop(L, 1);
}

/* Destroys the handle on the thread rdk_shutdown_prepare started, waiting
 * for that until deadline at most. */
static void destroy(rdk_client *c, long long deadline) {
    rdk_wake_close(c);
    rdk_shutdown_begin(c->shutdown, c->rk, 0, NULL);
    rdk_shutdown_finish(c->shutdown, deadline, &c->queue, 1);
    c->shutdown = NULL;
    c->queue = NULL;
    c->rk = NULL;
}

/* A handle used in a process it was not created in: its threads live in
 * the parent, so it is only forgotten here. */
static int forget_in_child(lua_State *L, rdk_client *c) {
    if (c->rk == NULL || c->pid == rdk_pid)
        return 0;
    rdk_wake_close(c); /* this process's copy of the pipe only */
    c->rk = NULL;
    c->queue = NULL;
    rdk_shutdown_free(c->shutdown);
    c->shutdown = NULL;
    (void)L;
    return 1;
}

/***
 * Flushes for at most `timeout`; every message it could not deliver by then
 * is purged and reported to `on_delivery` with `_PURGE_QUEUE` or
 * `_PURGE_INFLIGHT` (that takes up to a second more); then destroys the
 * handle. Every report is served even if a callback fails (the first error
 * is raised after); a message produced from a callback while closing is
 * refused with `_STATE`. Closing a closed producer returns 0. Also runs on
 * `<close>`, and, without callbacks and without waiting, on garbage
 * collection.
 * @function close
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] integer the number of messages not delivered: the reports with
 *   an error served while closing, and any never reported
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_FAIL` when no thread could be started to
 *   close it (the producer stays open)
 */
static int producer_close(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_PRODUCER_MT, "close");
    int timeout_ms, base, thread_err;
    long long deadline, left;
    if (c->rk == NULL || forget_in_child(L, c)) {
        lua_pushinteger(L, 0);
        return 1;
    }
    timeout_ms = rdk_check_timeout_ms(L, 2, CLOSE_TIMEOUT_MS);
    deadline = rdk_now_ms() + timeout_ms;
    base = rdk_enter(L, c, 2, "close");
    if ((thread_err = rdk_shutdown_prepare(c->shutdown)) != 0) {
        rdk_leave(L, c, base);
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__FAIL,
                                lua_pushfstring(L, "could not start a thread to close the producer "
                                                   "(error %d): it is still open", thread_err));
    }
    c->closing = 1;
    c->close_failed = 0;
    if (rdk_flush_for(L, c, base, timeout_ms) > 0) {
        /* Blocking purge: the reports of purged messages are queued when it returns. */
        rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rdk_flush_for(L, c, base, PURGE_REPORT_MS);
        if (c->in_flight > 0)
            fprintf(stderr, "rdkafka: closing a producer with %lld messages neither delivered "
                            "nor reported\n", c->in_flight);
    }
    /* Not delivered: the failed reports served while closing, and the unreported. */
    left = c->close_failed + c->in_flight;
    destroy(c, deadline);
    drop_opaques(L);
    rdk_leave(L, c, base);
    lua_pushinteger(L, (lua_Integer)left);
    return 1;
}

/* The collector calls no Lua callbacks and never waits: what is still
 * queued is purged and said on stderr. */
static int producer_gc(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_PRODUCER_MT, "close");
    if (c->rk != NULL && !forget_in_child(L, c)) {
        if (c->in_flight > 0) {
            rd_kafka_purge(c->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                      RD_KAFKA_PURGE_F_NON_BLOCKING);
            fprintf(stderr,
                    "rdkafka: a producer was garbage-collected with %lld undelivered "
                    "messages; call close() to flush and be told of each\n",
                    c->in_flight);
        }
        if (rdk_shutdown_prepare(c->shutdown) != 0)
            fprintf(stderr, "rdkafka: no thread for a collected producer: destroying it here\n");
        destroy(c, 0);
    }
    drop_opaques(L);
    rdk_shutdown_free(c->shutdown); /* a handle whose creation failed */
    c->shutdown = NULL;
    return 0;
}

/* __close(p, err): the error being propagated, if any, is not a timeout. */
static int producer_close_scope(lua_State *L) {
    lua_settop(L, 1);
    return producer_close(L);
}

/***
 * The number of messages whose delivery report has not been served yet.
 * @function pending
 * @treturn integer
 */
static int producer_pending(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    lua_pushinteger(L, (lua_Integer)c->in_flight);
    return 1;
}

/***
 * librdkafka's name of this handle, such as `rdkafka#producer-1`.
 * @function name
 * @treturn string
 */
static int producer_name(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    lua_pushstring(L, rd_kafka_name(c->rk));
    return 1;
}

/***
 * Cluster metadata: the brokers, the controller, the topics and their
 * partitions, as @{rdkafka.Admin:metadata} returns them. Asking about a topic
 * that does not exist creates it where the broker creates topics on demand
 * (librdkafka's `allow.auto.create.topics` is true for producers).
 * @function metadata
 * @tparam[opt] string topic only this topic (default: every topic)
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] table the metadata
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */

/***
 * A descriptor that is readable whenever the producer has delivery reports
 * or other events to serve, as @{rdkafka.Consumer:pollfd}.
 * @function pollfd
 * @treturn[1] integer the descriptor
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_FAIL` when no pipe could be made
 */

/***
 * For cqueues' pollable protocol, as @{rdkafka.Consumer:events}.
 * @function events
 * @treturn string `"r"`
 */

/***
 * For cqueues' pollable protocol, as @{rdkafka.Consumer:timeout}.
 * @function timeout
 * @treturn ?number
 */

void rdk_open_producer(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"produce", producer_produce}, {"poll", producer_poll},
        {"flush", producer_flush},     {"close", producer_close},
        {"pending", producer_pending}, {"name", producer_name},
        {"purge", producer_purge},     {NULL, NULL}};
    static const luaL_Reg metamethods[] = {
        {"__gc", producer_gc}, {"__close", producer_close_scope},
        {"__tostring", rdk_client_tostring}, {NULL, NULL}};
    rdk_new_class(L, RDK_PRODUCER_MT, methods, metamethods);
    rdk_add_methods(L, RDK_PRODUCER_MT, rdk_producer_txn_methods);
    lua_pushcfunction(L, producer_new);
    lua_setfield(L, -2, "producer");
}

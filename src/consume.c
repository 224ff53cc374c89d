/* rdkafka.Consumer, continued: taking messages (poll, consume,
 * consume_columns), serving the events that come between them. */
#include <limits.h>
#include "private.h"

/***
 * @submodule rdkafka.Consumer
 */

/* Raises (at rdk_leave) the callback error an earlier consume held back. */
int rdk_held_back_error(lua_State *L, int base) {
    lua_rawgeti(L, base, RDK_PENDING_ERROR);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    lua_rawseti(L, base, RDK_PENDING_ERROR);
    rdk_keep_error(L, base);
    return 1;
}

/* Serves the rebalance an earlier consume held back; returns whether there
 * was one. */
int rdk_serve_held(lua_State *L, rdk_client *c, int base) {
    rd_kafka_event_t *ev = c->held;
    if (ev == NULL)
        return 0;
    c->held = NULL;
    rdk_serve_event(L, c, base, ev);
    return 1;
}

/* How take() treats a rebalance event. */
enum { REBALANCE_SERVE, REBALANCE_SERVE_AND_STOP, REBALANCE_HOLD };

/* Serves the consumer queue until the next message or error about a
 * partition, which it pushes (msg, or nil and err), starting with ev when
 * it is not NULL. Waits wait_ms for the first event; after other events
 * (served to their callbacks), until deadline (ms on rdk_now_ms's clock; 0:
 * no more waiting). A rebalance is served, or served and then the wait
 * ends, or held in c->held unserved (rebalance). Returns how many values it
 * pushed: 0 on timeout, at such a rebalance, or when a callback failed (its
 * error is kept). */
static int take(lua_State *L, rdk_client *c, int base, rd_kafka_event_t *ev, int wait_ms,
                long long deadline, int rebalance) {
    for (;; ev = NULL) {
        rd_kafka_event_type_t type;
        /* A callback failed (on_throttle served on entry): take nothing more. */
        if (ev == NULL && (rdk_failed(L, c, base) || (ev = rd_kafka_queue_poll(c->queue, wait_ms)) == NULL))
            return 0;
        type = rd_kafka_event_type(ev);
        if (type == RD_KAFKA_EVENT_FETCH) {
            int status = 0, top = lua_gettop(L);
            c->message = rd_kafka_event_message_next(ev);
            if (c->message != NULL) {
                lua_pushvalue(L, rdk_upvalue(RDK_UP_PUSH_MESSAGE));
                lua_pushvalue(L, 1);
                status = lua_pcall(L, 1, LUA_MULTRET, 0);
            }
            rd_kafka_event_destroy(ev);
            if (c->message != NULL) {
                c->message = NULL;
                if (status == 0)
                    return lua_gettop(L) - top;
                rdk_keep_error(L, base);
                return 0;
            }
        } else if (type == RD_KAFKA_EVENT_REBALANCE && rebalance == REBALANCE_HOLD) {
            c->held = ev;
            if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
                c->synced = 1;
            return 0;
        } else {
            if (type == RD_KAFKA_EVENT_ERROR) {
                /* Errors about a partition come in stream order, as values;
                 * other errors too, unless on_error takes them. */
                c->partition = rd_kafka_event_topic_partition(ev);
                if (c->partition != NULL || !RDK_HAS(c, RDK_ON_ERROR)) {
                    int status;
                    c->event = ev;
                    lua_pushvalue(L, rdk_upvalue(RDK_UP_PUSH_ERROR));
                    lua_pushvalue(L, 1);
                    status = lua_pcall(L, 1, 2, 0);
                    if (c->partition != NULL)
                        rd_kafka_topic_partition_destroy(c->partition);
                    c->partition = NULL;
                    c->event = NULL;
                    rd_kafka_event_destroy(ev);
                    if (status == 0)
                        return 2;
                    rdk_keep_error(L, base);
                    return 0;
                }
            }
            rdk_serve_event(L, c, base, ev);
            if (rdk_failed(L, c, base))
                return 0;
            if (type == RD_KAFKA_EVENT_REBALANCE && rebalance == REBALANCE_SERVE_AND_STOP)
                return 0;
        }
        if (deadline == 0 || (wait_ms = (int)(deadline - rdk_now_ms())) < 0)
            wait_ms = 0;
    }
}

/***
 * Returns the next message, serving the other callbacks while it waits. An
 * error about a partition (`_PARTITION_EOF`, `OFFSET_OUT_OF_RANGE`, ...)
 * always comes from here, with `err.topic` and `err.partition`; other errors
 * go to `on_error` when it is set, else come from here too.
 * @function poll
 * @tparam[opt=0] number timeout seconds to wait
 * @treturn[1] table the message
 * @treturn[2] nil on timeout
 * @treturn[3] nil
 * @treturn[3] rdkafka.Error err
 */
static int consumer_poll(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, 0);
    long long deadline = timeout_ms > 0 ? rdk_now_ms() + timeout_ms : 0;
    int nret = 0, base = rdk_enter(L, c, 2, "poll");
    if (!rdk_held_back_error(L, base)) {
        rdk_serve_held(L, c, base);
        if (!rdk_failed(L, c, base))
            nret = take(L, c, base, NULL, timeout_ms, deadline, REBALANCE_SERVE);
    }
    rdk_leave(L, c, base);
    if (nret == 0)
        lua_pushnil(L);
    return nret == 0 ? 1 : nret;
}

#define CONSUME_MAX 1000000

/* Protected (handle, result, n, max, msg or nil, columns [, settle]):
 * appends msg when given, then the messages of the FETCH events ready now,
 * up to max, to result (an array of messages, or with columns a batch of
 * columns.c), in one protected call for the batch; stops before any other
 * event (or a FETCH that carries an error), leaving it in c->event for the
 * caller, which also destroys c->event when this raises. Returns the new n.
 * With settle, only sets a batch of columns to its first n rows. */
int rdk_consume_fill_protected(lua_State *L) {
    rdk_client *c = (rdk_client *)lua_touserdata(L, 1);
    lua_Integer n = lua_tointeger(L, 3), max = lua_tointeger(L, 4);
    int columns = lua_toboolean(L, 6), first = 0;
    if (c == NULL || lua_type(L, 2) != LUA_TTABLE || !(lua_isnil(L, 5) || lua_istable(L, 5)))
        return 0; /* reached through the debug library */
    if (columns && lua_toboolean(L, 7)) {
        rdk_columns_settle(L, 2, (int)n);
        return 0;
    }
    if (columns)
        first = rdk_columns_open(L, 2);
    if (!lua_isnoneornil(L, 5)) {
        if (columns) {
            rdk_columns_add_table(L, first, (int)++n, 5);
        } else {
            lua_pushvalue(L, 5);
            lua_rawseti(L, 2, (int)++n);
        }
        c->filled = (int)n;
    }
    while (n < max) {
        const rd_kafka_message_t *rkm;
        rd_kafka_event_t *ev = rd_kafka_queue_poll(c->queue, 0);
        if (ev == NULL)
            break;
        c->event = ev;
        if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_FETCH || rd_kafka_event_error(ev))
            break;
        if ((rkm = rd_kafka_event_message_next(ev)) != NULL) {
            if (columns) {
                rdk_columns_add(L, first, (int)++n, rkm);
            } else {
                rdk_push_message(L, rkm);
                lua_rawseti(L, 2, (int)++n);
            }
            c->filled = (int)n; /* what a later error leaves stored */
        }
        c->event = NULL;
        rd_kafka_event_destroy(ev);
    }
    if (columns)
        rdk_columns_count(L, first, 2, (int)n);
    lua_pushinteger(L, n);
    return 1;
}

/* Runs the fill (appending msg, at the top, when with_msg); returns the new
 * n, or -1 when it failed (the error is kept). */
/* Pushes the fill function and its first four arguments. */
static void push_fill(lua_State *L, int result, int n, int max) {
    lua_pushvalue(L, rdk_upvalue(RDK_UP_FILL));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, result);
    lua_pushinteger(L, n);
    lua_pushinteger(L, max);
}

static int fill(lua_State *L, rdk_client *c, int base, int result, int n, int max, int with_msg,
                int columns) {
    int msg = lua_gettop(L);
    c->event = NULL;
    push_fill(L, result, n, max);
    if (with_msg)
        lua_pushvalue(L, msg);
    else
        lua_pushnil(L);
    lua_pushboolean(L, columns);
    c->filled = n;
    if (lua_pcall(L, 6, 1, 0) != 0) {
        rdk_keep_error(L, base);
        if (c->event != NULL)
            rd_kafka_event_destroy(c->event);
        c->event = NULL;
        if (columns) {
            /* The rows stored before the error are the caller's: the count
             * says so (in a protected call: it may allocate). */
            push_fill(L, result, c->filled, 0);
            lua_pushnil(L);
            lua_pushboolean(L, 1);
            lua_pushboolean(L, 1);
            if (lua_pcall(L, 7, 0, 0) != 0)
                rdk_keep_error(L, base);
        }
        n = -1;
    } else {
        n = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    if (with_msg)
        lua_remove(L, msg);
    return n;
}

/***
 * Takes up to `max` messages: waits up to `timeout` for the first, then
 * takes only what is ready, so an empty array means the timeout passed. An
 * error that `poll` would return ends the batch and comes second, after the
 * messages before it. A rebalance ends the batch too: one that comes first
 * is served and the batch is empty; one that comes after messages were taken
 * is served at the start of the next call, so the rebalance callbacks never
 * run while the caller holds messages of the partitions they take away
 * (`on_revoke`'s commit covers exactly what the caller has). When a callback
 * raises after messages were taken, they are returned and its error comes
 * from the next `poll`, `consume`, `consume_columns` or `close`.
 * @function consume
 * @tparam integer max how many at most, 1 to 1000000
 * @tparam[opt=0] number timeout seconds to wait for the first
 * @treturn[1] {table,...} the messages
 * @treturn[2] {table,...} the messages before the error
 * @treturn[2] rdkafka.Error err
 */
static int consume(lua_State *L, int columns) {
    rdk_client *c = rdk_check_client(L, 1, RDK_CONSUMER_MT);
    const char *what = columns ? "consume_columns" : "consume";
    lua_Integer max = 0;
    int timeout_ms, base, result = 4, n = 0, got = 0;
    long long deadline;
    luaL_argcheck(L, rdk_isinteger(L, 2) && (max = lua_tointeger(L, 2)) >= 1 && max <= CONSUME_MAX, 2,
                  "max must be an integer from 1 to 1000000");
    timeout_ms = rdk_check_timeout_ms(L, 3, 0);
    deadline = timeout_ms > 0 ? rdk_now_ms() + timeout_ms : 0;
    lua_settop(L, 3);
    /* result: made before anything is taken */
    if (columns)
        rdk_push_columns(L, (int)max);
    else
        lua_createtable(L, max < 256 ? (int)max : 256, 0);
    base = rdk_enter(L, c, 4, what);
    /* A held-back error is raised; after a held rebalance the batch is empty. */
    if (!rdk_held_back_error(L, base) && !rdk_serve_held(L, c, base) && !rdk_failed(L, c, base))
        got = take(L, c, base, NULL, timeout_ms, deadline, REBALANCE_SERVE_AND_STOP);
    while (got == 1) {
        rd_kafka_event_t *ev;
        /* The message on top, then what is ready, in one protected call. */
        int filled = fill(L, c, base, result, n, (int)max, 1, columns);
        if (filled < 0) {
            n = c->filled; /* the rows stored before the error */
            break;
        }
        n = filled;
        if ((ev = c->event) == NULL)
            break;
        c->event = NULL;
        got = take(L, c, base, ev, 0, 0, REBALANCE_HOLD);
    }
    if (n > 0 && !lua_isnil(L, base + 1)) {
        /* A callback failed after messages were taken: they are returned
         * (their positions moved on), the error comes from the next poll,
         * consume or close. */
        lua_pushvalue(L, base + 1);
        lua_rawseti(L, base, RDK_PENDING_ERROR);
        lua_pushnil(L);
        lua_replace(L, base + 1);
    }
    rdk_leave(L, c, base);
    if (got == 2) { /* nil, err on top: the batch before it, then err */
        lua_pushvalue(L, result);
        lua_insert(L, -2);
        return 2;
    }
    lua_settop(L, result);
    return 1;
}

static int consumer_consume(lua_State *L) { return consume(L, 0); }

/***
 * Takes up to `max` messages as @{rdkafka.Consumer:consume} does, as one table of parallel
 * arrays instead of a table per message: `batch.n` messages, the i-th with
 * `batch.topic[i]`, `batch.partition[i]`, `batch.offset[i]`, `batch.key[i]`,
 * `batch.value[i]`, `batch.timestamp[i]` and `batch.headers[i]` (nil where
 * the message has none). The faster loop: a message then costs its strings
 * and a few array slots, not a table.
 * @function consume_columns
 * @tparam integer max how many at most, 1 to 1000000
 * @tparam[opt=0] number timeout seconds to wait for the first
 * @treturn[1] table the batch
 * @treturn[2] table the batch of the messages before the error
 * @treturn[2] rdkafka.Error err
 */
static int consumer_consume_columns(lua_State *L) { return consume(L, 1); }

const luaL_Reg rdk_consumer_take_methods[] = {
    {"poll", consumer_poll},
    {"consume", consumer_consume},
    {"consume_columns", consumer_consume_columns},
    {NULL, NULL}};

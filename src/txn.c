/* rdkafka.Producer, continued: transactions. A producer whose config has
 * transactional.id calls init_transactions once, then per transaction
 * begin_transaction, produce, optionally send_offsets_to_transaction (a
 * consume-transform-produce loop commits its input's offsets with its
 * output), and commit_transaction or abort_transaction. Each returns true,
 * or nil and an error whose retriable, fatal and txn_requires_abort fields
 * say what to do next (README).
 *
 * Delivery reports come as events, and only the caller's thread destroys
 * them; librdkafka's commit and abort first wait (their internal flush)
 * until every message's report is destroyed, so called with reports
 * unserved they would wait out their whole timeout. Commit and abort
 * therefore serve the reports first (rdk_flush_for, which calls
 * on_delivery), then call librdkafka with the time left. For abort this
 * also avoids librdkafka 2.0.2's fatal INVALID_TXN_STATE when it aborts
 * right after producing (upstream #4849): with everything delivered, the
 * partitions are in the transaction before its end is asked for. */
#include <string.h>
#include "private.h"

#define INIT_TIMEOUT_MS 30000
#define OFFSETS_TIMEOUT_MS 30000
#define COMMIT_TIMEOUT_MS 30000
#define ABORT_TIMEOUT_MS 30000
#define SERVE_BATCH 100000
/* While reports are pending, abort waits this long at a time between serving them. */
#define ABORT_SLICE_MS 20

/***
 * @submodule rdkafka.Producer
 */

/* true, or nil and the error (destroyed). */
static int result(lua_State *L, rd_kafka_error_t *error) {
    if (error == NULL) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    rdk_push_error_object(L, 1, error);
    return 2;
}

/* From a callback while the producer closes: no new work. */
static int closing(lua_State *L) {
    return rdk_return_error(L, RD_KAFKA_RESP_ERR__STATE, "the producer is closing");
}

static int ms_left(long long deadline) {
    long long left = deadline - rdk_now_ms();
    return left > 0 ? (int)left : 0;
}

/* Whether commit and abort serve the reports first: not for a producer
 * without transactional.id, which librdkafka refuses at once. */
static int flush_first(rdk_client *c) {
    size_t size = 0;
    return rd_kafka_conf_get(rd_kafka_conf(c->rk), "transactional.id", NULL, &size) == RD_KAFKA_CONF_OK &&
           size > 1;
}

/***
 * Registers `transactional.id` with the transaction coordinator, once per
 * producer: fences off an older producer with the same id and ends what it
 * left open. Needs `transactional.id` in the config.
 * @function init_transactions
 * @tparam[opt=30] number timeout seconds
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_TIMED_OUT` (retriable: call again to go
 *   on), `_NOT_CONFIGURED` without `transactional.id`, ...
 */
static int producer_init_transactions(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, INIT_TIMEOUT_MS);
    if (c->closing)
        return closing(L);
    return result(L, rd_kafka_init_transactions(c->rk, timeout_ms));
}

/***
 * Begins a transaction: what is produced from now on belongs to it.
 * @function begin_transaction
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_STATE` when a transaction is open already
 */
static int producer_begin_transaction(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    rd_kafka_error_t *error;
    if (c->closing)
        return closing(L);
    if ((error = rd_kafka_begin_transaction(c->rk)) == NULL)
        c->aborting = 0; /* whatever an abort left, the new transaction is open */
    return result(L, error);
}

/* The name of the value at idx for an error message: a handle's class. */
static const char *type_name(lua_State *L, int idx) {
    if (luaL_getmetafield(L, idx, "__name") && lua_type(L, -1) == LUA_TSTRING)
        return lua_tostring(L, -1);
    return luaL_typename(L, idx);
}

/***
 * Makes the transaction commit input offsets for a consumer group: they are
 * committed when it commits, and never when it aborts. With the consumer
 * itself, the group coordinator also refuses a member that lost its
 * partitions in a rebalance meanwhile.
 * @function send_offsets_to_transaction
 * @tparam rdkafka.Consumer|string consumer the consumer, or a group id
 * @tparam table offsets a partition list, each offset the next one to read
 *   (`msg.offset + 1` of the last message processed)
 * @tparam[opt=30] number timeout seconds
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err
 */
static int producer_send_offsets(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 4, OFFSETS_TIMEOUT_MS);
    rdk_client *consumer = NULL;
    const char *group_id = NULL;
    rd_kafka_consumer_group_metadata_t *group;
    rd_kafka_topic_partition_list_t *list;
    rd_kafka_error_t *error;
    void **guard;
    if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        group_id = lua_tolstring(L, 2, &len);
        luaL_argcheck(L, len > 0 && strlen(group_id) == len, 2,
                      "group id must be a non-empty string without NUL bytes");
        /* A protocol string (16-bit length): longer, it frames the request wrong. */
        luaL_argcheck(L, len <= INT16_MAX, 2, "group id is longer than 32767 bytes");
    } else if (luaL_testudata(L, 2, RDK_CONSUMER_MT) != NULL) {
        consumer = rdk_check_client(L, 2, RDK_CONSUMER_MT);
    } else {
        luaL_argerror(L, 2, lua_pushfstring(L, "rdkafka.Consumer or group id expected, got %s",
                                            type_name(L, 2)));
    }
    list = rdk_check_partitions(L, 3, 3, RDK_OFFSET_REQUIRED, 0, &guard);
    if (c->closing)
        return closing(L); /* the guard frees the list */
    group = consumer ? rd_kafka_consumer_group_metadata(consumer->rk)
                     : rd_kafka_consumer_group_metadata_new(group_id);
    if (group == NULL)
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__INVALID_ARG, "no group metadata for this consumer");
    error = rd_kafka_send_offsets_to_transaction(c->rk, list, group, timeout_ms);
    rd_kafka_consumer_group_metadata_destroy(group);
    rd_kafka_topic_partition_list_destroy(list);
    *guard = NULL;
    return result(L, error);
}

/* Serves the delivery reports for up to timeout_ms, or until none is
 * pending; returns how many are still pending. A callback's error is raised
 * here, after serving. */
static long long serve_reports(lua_State *L, rdk_client *c, int timeout_ms, const char *what) {
    int base = rdk_enter(L, c, 2, what);
    long long left = flush_first(c) ? rdk_flush_for(L, c, base, timeout_ms) : 0;
    rdk_leave(L, c, base);
    return left;
}

/***
 * Commits the transaction: serves the delivery reports of its messages
 * first (`on_delivery` runs here), then commits. A callback's error is
 * raised once the reports are served, and nothing is committed then.
 * @function commit_transaction
 * @tparam[opt=30] number timeout seconds for both
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_TIMED_OUT` (retriable) when the reports or
 *   the commit did not come in time: the transaction is still open, commit
 *   again or abort; `txn_requires_abort` when a message failed; `fatal`
 *   when the producer was fenced
 */
static int producer_commit_transaction(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, COMMIT_TIMEOUT_MS);
    long long deadline = rdk_now_ms() + timeout_ms;
    long long left = serve_reports(L, c, timeout_ms, "commit_transaction");
    if (left > 0)
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                lua_pushfstring(L, "%d messages not reported within the timeout: "
                                                   "the transaction is still open",
                                                (int)left));
    if (ms_left(deadline) == 0) /* librdkafka would take 0 as "start it, do not wait" */
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                "no time left to commit: the transaction is still open");
    /* No callback runs in here: the reports are served. */
    return result(L, rd_kafka_commit_transaction(c->rk, ms_left(deadline)));
}

/* Serves what the queue holds now; a callback's error is raised after. */
static void serve_ready(lua_State *L, rdk_client *c, const char *what) {
    int top = lua_gettop(L);
    int base = rdk_enter(L, c, top, what);
    rdk_serve_queue(L, c, base, c->queue, 0, SERVE_BATCH, 0);
    rdk_leave(L, c, base);
    lua_settop(L, top);
}

static int timed_out(rd_kafka_error_t *error) {
    return rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

/***
 * Aborts the transaction: serves the delivery reports of its messages first
 * (delivered, then aborted: read_committed consumers never see them), then
 * aborts; the reports of messages it purged are served before it returns.
 * A callback's error is raised, and nothing is aborted when it came before
 * the abort.
 * @function abort_transaction
 * @tparam[opt=30] number timeout seconds for both
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_TIMED_OUT` (retriable): call again to go on
 */
static int producer_abort_transaction(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_PRODUCER_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, ABORT_TIMEOUT_MS);
    long long deadline = rdk_now_ms() + timeout_ms;
    rd_kafka_error_t *error;
    int nret;
    /* While reports are pending (librdkafka purged what was queued), abort
     * in slices and serve them in between: librdkafka's abort waits for
     * them. After an abort that timed out, go straight on: librdkafka no
     * longer sends what is queued then, so serving first would only wait. */
    if (!c->aborting)
        serve_reports(L, c, timeout_ms, "abort_transaction");
    if (ms_left(deadline) == 0) /* as in commit: librdkafka would start it and not wait */
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                                "no time left to abort: the transaction is still open");
    lua_settop(L, 2);
    c->aborting = 1; /* until it ends: a callback may raise in between */
    for (;;) {
        int left = ms_left(deadline);
        error = rd_kafka_abort_transaction(c->rk, c->in_flight > 0 && left > ABORT_SLICE_MS ? ABORT_SLICE_MS
                                                                                            : left);
        if (error == NULL || !timed_out(error) || ms_left(deadline) == 0)
            break;
        rd_kafka_error_destroy(error);
        serve_ready(L, c, "abort_transaction");
    }
    c->aborting = error != NULL && timed_out(error);
    nret = result(L, error);
    /* What is left to report (purged), with the result on the stack: a
     * callback's error leaks nothing then. */
    serve_ready(L, c, "abort_transaction");
    return nret;
}

const luaL_Reg rdk_producer_txn_methods[] = {
    {"init_transactions", producer_init_transactions},
    {"begin_transaction", producer_begin_transaction},
    {"send_offsets_to_transaction", producer_send_offsets},
    {"commit_transaction", producer_commit_transaction},
    {"abort_transaction", producer_abort_transaction},
    {NULL, NULL}};

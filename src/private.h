/* Cross-file declarations of rdkafka.core. */
#ifndef RDKAFKA_PRIVATE_H
#define RDKAFKA_PRIVATE_H

#include <signal.h>
#include <sys/types.h>
#include <librdkafka/rdkafka.h>
#include "compat.h"

#define RDK_PRODUCER_MT "rdkafka.Producer"
#define RDK_CONSUMER_MT "rdkafka.Consumer"
#define RDK_MOCK_MT     "rdkafka.MockCluster"
#define RDK_ERROR_MT    "rdkafka.Error"
#define RDK_ADMIN_MT    "rdkafka.Admin"

/* Lua callbacks a client may hold, by the config key that sets them. They
 * live in the handle's user value (a table indexed by callback + 1), where
 * the collector sees a cycle through a callback that refers to its handle. */
enum { RDK_ON_DELIVERY, RDK_ON_ERROR, RDK_ON_LOG, RDK_ON_STATS, RDK_ON_ASSIGN, RDK_ON_REVOKE,
       RDK_ON_LOST, RDK_ON_COMMIT, RDK_ON_THROTTLE, RDK_CB_COUNT };
#define RDK_REBALANCE_CALLBACKS (1 << RDK_ON_ASSIGN | 1 << RDK_ON_REVOKE | 1 << RDK_ON_LOST)
extern const char *const rdk_callback_names[RDK_CB_COUNT];
#define RDK_HAS(c, cb) (((c)->callbacks >> (cb)) & 1)

/* Upvalues of every producer and consumer method: C functions created once,
 * so that serving an event allocates no closure (Lua 5.1/LuaJIT would). */
enum { RDK_UP_TRACEBACK = 1, RDK_UP_SERVE_EVENT, RDK_UP_PUSH_MESSAGE, RDK_UP_PUSH_ERROR, RDK_UP_FILL,
       RDK_UP_COUNT = 5 };
/* The callback table's slot for an error consume held back (after the
 * callbacks, inside its array part: storing there allocates nothing). */
#define RDK_PENDING_ERROR (RDK_CB_COUNT + 1)
/* The callback table's slot for the producer's per-message opaque values
 * (a table made at the first produce that gives one; integer refs into it
 * travel as librdkafka's msg_opaque). */
#define RDK_OPAQUES (RDK_CB_COUNT + 2)
/* The callback table's slot for the secret values of the handle's config
 * (conf.c): a list of strings rdk_push_redacted hides. */
#define RDK_SECRETS (RDK_CB_COUNT + 3)
/* Throttle notices a client keeps until on_throttle is served (client.c). */
#define RDK_THROTTLE_NOTES 4
/* Kafka's longest topic name. librdkafka 2.0.2 cannot make a local topic of
 * more than 512 bytes and then crashes in an assign; past 32767 bytes the
 * protocol's 16-bit length frames requests wrong. */
#define RDK_TOPIC_MAX 249
#define rdk_upvalue(i) lua_upvalueindex(i)

typedef struct rdk_shutdown rdk_shutdown;

/* State shared by producers and consumers. */
typedef struct rdk_client {
    rd_kafka_t *rk;          /* NULL once closed */
    rd_kafka_queue_t *queue; /* where this client's events arrive */
    const char *mt;          /* metatable name */
    pid_t pid;               /* process that created the handle */
    int busy;                /* serving events: no re-entrant poll or close */
    int closing;             /* close() runs: serve every event, refuse new messages */
    int callbacks;           /* bit (1 << RDK_ON_x) set for each callback given */
    int event_done;          /* the event being served was served to its end */
    int only_errors;         /* delivery.report.only.error: on_delivery for failures only (producer) */
    int report_fields;       /* delivery.report.fields: a success's message fields (RDK_FIELD_x) */
    long long in_flight;     /* produced, delivery not yet reported (producer) */
    long long reports_seen;  /* delivery reports taken from events (producer) */
    long long close_failed;  /* reports with an error served while closing */
    long long assigns;       /* successful (incremental) assign/unassign calls (consumer) */
    struct rdk_shutdown *shutdown; /* allocated with the handle, used once to destroy it */
    /* What a protected call works on: passed here, not as light userdata
     * (pushing one can raise on LuaJIT). */
    rd_kafka_event_t *event;
    const rd_kafka_message_t *message;
    rd_kafka_topic_partition_t *partition;
    rd_kafka_event_t *held;        /* a rebalance consume met after taking messages (consumer) */
    rd_kafka_queue_t *commit_queue; /* where commit_async's results arrive (consumer) */
    int wake_r, wake_w;             /* pollfd()'s pipe, -1 until asked for (wake.c) */
    struct rdk_client *outer;       /* the client whose call this one's call runs inside */
    int aborting;                   /* an abort_transaction gave up before its end (txn.c) */
    int fatal_seen;                 /* the fatal error's event was served (client.c) */
    int throttles;                  /* notices in throttle[], oldest first (client.c) */
    struct {
        int32_t broker_id;
        int ms;
        char broker[256]; /* librdkafka's node name: host:port */
    } throttle[RDK_THROTTLE_NOTES];
    struct rdk_admin_req *requests; /* admin requests not yet collected (admin.c) */
    int filled;                     /* messages a consume fill has stored so far (consume.c) */
    int on_mock;                    /* bootstrap.servers names a mock cluster of this process (admin.c) */
    rd_kafka_conf_t *spare_conf;    /* a copy of an admin handle's config (admin_groups.c) */
    int cooperative;                /* partition.assignment.strategy is cooperative-sticky (consumer) */
    int synced;                     /* an assigning rebalance event came: the first assignment was made */
    int subscribes;                 /* subscribe calls that succeeded, counted up to 2 */
    int in_close;                   /* close() runs (consumer): subscribe is refused */
} rdk_client;

/* error.c */
void rdk_push_error(lua_State *L, rd_kafka_resp_err_t code, const char *message, int fatal);
/* Error objects whose message is librdkafka's text: redacted with the
 * secrets of the handle at index handle (conf.c). */
void rdk_push_error_object(lua_State *L, int handle, rd_kafka_error_t *error); /* destroys it */
void rdk_push_client_error(lua_State *L, int handle, rd_kafka_resp_err_t code, const char *message, int fatal);
/* Raises "<what>: <message>", the message redacted so (rd_kafka_new's errstr). */
int rdk_raise_redacted(lua_State *L, int handle, const char *what, const char *message);
int rdk_return_error(lua_State *L, rd_kafka_resp_err_t code, const char *message);
void rdk_open_error(lua_State *L);

/* conf.c */
const char *rdk_config_string(lua_State *L, int idx, char *buf, size_t size);
int rdk_callback_events(const rdk_client *c); /* log and stats events, as the callbacks need */
rd_kafka_conf_t *rdk_conf_from_table(lua_State *L, int idx, rdk_client *c, int env,
                                     int allowed_callbacks);
/* Pushes s (nil for NULL) with each secret of the handle whose callback
 * table is at env replaced by "[redacted]". May raise (memory). */
void rdk_push_redacted(lua_State *L, int env, const char *s);

/* guard.c: C resources owned by the Lua stack while Lua code may raise. */
void **rdk_guard(lua_State *L, void (*destroy)(void *));
void rdk_destroy_conf(void *conf);
void rdk_destroy_headers(void *headers);
void rdk_destroy_partitions(void *list);

/* process.c */
extern pid_t rdk_pid; /* this process, refreshed in the child after fork() */
void rdk_open_process(lua_State *L);
long long rdk_now_ms(void);
void rdk_signals_block(sigset_t *saved);         /* around starting threads: see process.c */
void rdk_signals_restore(const sigset_t *saved);

/* client.c */
rdk_client *rdk_new_client(lua_State *L, const char *mt);
rdk_client *rdk_check_client(lua_State *L, int idx, const char *mt);
rdk_client *rdk_check_any_client(lua_State *L, int idx); /* producer, consumer or admin */
rdk_client *rdk_check_closable(lua_State *L, int idx, const char *mt, const char *what);
int rdk_check_timeout_ms(lua_State *L, int idx, int default_ms);
int rdk_enter(lua_State *L, rdk_client *c, int nargs, const char *what);
int rdk_serve_queue(lua_State *L, rdk_client *c, int base, rd_kafka_queue_t *queue,
                    int timeout_ms, int max_events, long long stop_at);
void rdk_serve_event(lua_State *L, rdk_client *c, int base, rd_kafka_event_t *ev);
/* Only while serve_event_protected serves an event (the handle is at index 1):
 * calls callback `which` with the nargs values on top, keeping its error. */
void rdk_call_callback(lua_State *L, int which, int nargs);
/* Same: reports the failure described by the string on top (popped) to
 * on_error, else to stderr with the hint. */
void rdk_report_error(lua_State *L, rdk_client *c, rd_kafka_resp_err_t code, const char *hint);
int rdk_failed(lua_State *L, rdk_client *c, int base);
void rdk_keep_error(lua_State *L, int base);
void rdk_error_of_event(rd_kafka_t *rk, rd_kafka_event_t *ev, rd_kafka_resp_err_t *code,
                        const char **message, char *buf, size_t size);
void rdk_leave(lua_State *L, rdk_client *c, int base);
/* rd_kafka_conf_set_throttle_cb's callback (conf.c sets it for on_throttle). */
void rdk_note_throttle(rd_kafka_t *rk, const char *broker, int32_t broker_id, int ms, void *opaque);
int rdk_client_tostring(lua_State *L);
void rdk_open_client(lua_State *L);
void rdk_new_class(lua_State *L, const char *mt, const luaL_Reg *methods, const luaL_Reg *metamethods);
void rdk_add_methods(lua_State *L, const char *mt, const luaL_Reg *methods);

/* shutdown.c: destroying a handle on a thread of its own, waited for at most a deadline. */
#define RDK_SHUTDOWN_CONSUMER_CLOSE 0x10000
rdk_shutdown *rdk_shutdown_new(void);
void rdk_shutdown_free(rdk_shutdown *s);
int rdk_shutdown_prepare(rdk_shutdown *s);
void rdk_shutdown_begin(rdk_shutdown *s, rd_kafka_t *rk, int flags, rd_kafka_queue_t *wake);
int rdk_shutdown_closed(rdk_shutdown *s, rd_kafka_resp_err_t *err);
int rdk_shutdown_finish(rdk_shutdown *s, long long deadline_ms, rd_kafka_queue_t **queues, int n);
void rdk_shutdown_await_assignment(rdk_shutdown *s, rd_kafka_queue_t *queue);
void rdk_shutdown_drain(rdk_shutdown *s, rd_kafka_t *rk, rd_kafka_queue_t *queue);
int rdk_cooperative_unsynced(rdk_client *c);
void rdk_shutdown_after_fork(void);
void rdk_open_shutdown(lua_State *L);

/* message.c */
void rdk_push_message(lua_State *L, const rd_kafka_message_t *rkm);
/* The optional fields of a message table (topic, partition, offset always). */
enum { RDK_FIELD_KEY = 1, RDK_FIELD_VALUE = 2, RDK_FIELD_HEADERS = 4, RDK_FIELD_TIMESTAMP = 8,
       RDK_FIELDS_ALL = 15 };
void rdk_push_message_fields(lua_State *L, const rd_kafka_message_t *rkm, int fields);
int rdk_push_message_protected(lua_State *L); /* (handle) -> msg | nil, err, of c->message */
int rdk_push_error_protected(lua_State *L);   /* (handle) -> nil, err, of c->event, c->partition */
int rdk_consume_fill_protected(lua_State *L); /* consume.c: a batch of ready messages */
int rdk_push_header_list(lua_State *L, const rd_kafka_message_t *rkm); /* 1 when pushed, 0: none */

/* columns.c: consume_columns's batches */
#define RDK_COLUMNS 7
void rdk_push_columns(lua_State *L, int max);
int rdk_columns_open(lua_State *L, int idx);
void rdk_columns_count(lua_State *L, int first, int idx, int n);
void rdk_columns_settle(lua_State *L, int idx, int n);
void rdk_columns_add(lua_State *L, int first, int n, const rd_kafka_message_t *rkm);
void rdk_columns_add_table(lua_State *L, int first, int n, int msg);
void rdk_set_position(lua_State *L, const char *topic, int32_t partition, int64_t offset);
rd_kafka_headers_t *rdk_headers_from_table(lua_State *L, int idx, int argn);
int rdk_ref_opaque(lua_State *L, int env); /* the value on top, popped: its ref (>= 2) */
void rdk_take_opaque(lua_State *L, int env, void *msg_opaque); /* pushes it, frees the ref */

/* partitions.c */
enum { RDK_OFFSET_NONE, RDK_OFFSET_OPTIONAL, RDK_OFFSET_REQUIRED, RDK_OFFSET_NAMED, RDK_OFFSET_TIMESTAMP };
rd_kafka_topic_partition_list_t *rdk_check_partitions(lua_State *L, int idx, int argn, int offsets,
                                                      int single, void ***guard);
void rdk_push_partitions(lua_State *L, const rd_kafka_topic_partition_list_t *list);
rd_kafka_resp_err_t rdk_partitions_error(const rd_kafka_topic_partition_list_t *list);

/* consume.c: the consumer's poll, consume and consume_columns */
extern const luaL_Reg rdk_consumer_take_methods[];
int rdk_held_back_error(lua_State *L, int base);
int rdk_serve_held(lua_State *L, rdk_client *c, int base);

/* offsets.c: the consumer's offset and flow-control methods */
extern const luaL_Reg rdk_consumer_offset_methods[];

/* rebalance.c: group membership (rebalance events, manual assignment) */
extern const luaL_Reg rdk_consumer_assign_methods[];
void rdk_serve_rebalance(lua_State *L, rdk_client *c, rd_kafka_event_t *ev); /* in serve_event */
void rdk_rebalance_finish(rdk_client *c, rd_kafka_event_t *ev, long long assigns_before);
void rdk_serve_commit(lua_State *L, rdk_client *c, rd_kafka_event_t *ev);    /* in serve_event */
void rdk_revoke_before_close(lua_State *L, rdk_client *c, int base, long long deadline);
void rdk_drop_pending_subscription(rdk_client *c);
int rdk_is_cooperative(rd_kafka_t *rk);

/* wake.c: pollfd(), events(), timeout() for event loops */
void rdk_wake_rearm(rdk_client *c, int pending); /* in rdk_leave */
void rdk_wake_close(rdk_client *c);              /* before the queue goes */
void rdk_open_wake(lua_State *L);

/* runtime.c: signals, wall clock and topic patterns for the service runtime */
void rdk_open_runtime(lua_State *L);

/* admin.c: rdkafka.Admin and the request machinery admin_configs.c,
 * admin_groups.c and admin_acls.c share. A request and every C object it
 * holds are owned by a guard on the Lua stack. */
enum { RDK_ADMIN_VALIDATE_ONLY = 1, RDK_ADMIN_REQUIRE_STABLE = 2 };
typedef struct rdk_admin_req {
    rdk_client *client;         /* NULL once the handle closed */
    struct rdk_admin_req *next; /* in client->requests */
    void **items; /* the request's objects, count of them, each freed by destroy_item */
    size_t count;
    void (*destroy_item)(void *);
    rd_kafka_AdminOptions_t *options;
    rd_kafka_queue_t *queue;  /* where the result arrives */
    rd_kafka_event_t *result;
    int timeout_ms;
    int flags;          /* RDK_ADMIN_x given */
    int timed_out;      /* no result came within it */
    int unsendable;     /* a request the mock cluster lacks: refused, never sent */
} rdk_admin_req;
rdk_admin_req *rdk_admin_request(lua_State *L, int opts_idx, rd_kafka_admin_op_t op, int allowed);
void rdk_admin_items(lua_State *L, rdk_admin_req *r, size_t count, void (*destroy)(void *));
rd_kafka_event_t *rdk_admin_run(lua_State *L, rdk_admin_req *r, void (*send)(rdk_admin_req *),
                                const char *what);
size_t rdk_admin_list(lua_State *L, int idx, const char *what);
void rdk_admin_entry(lua_State *L, int idx, size_t i, int strings);
const char *rdk_admin_string_field(lua_State *L, int idx, size_t i, const char *name, int optional);
lua_Integer rdk_admin_int_field(lua_State *L, int idx, size_t i, const char *name, lua_Integer min,
                                lua_Integer max, lua_Integer dflt);
const char *rdk_admin_config_value(lua_State *L, int idx, size_t i, char *buf, size_t size);
void rdk_admin_push_error(lua_State *L, rd_kafka_resp_err_t code, const char *message);
void rdk_admin_push_in_order(lua_State *L, const rd_kafka_topic_partition_list_t *asked,
                             const rd_kafka_topic_partition_list_t *got);
extern const luaL_Reg rdk_admin_topic_methods[];  /* admin_topics.c */
extern const luaL_Reg rdk_admin_config_methods[]; /* admin_configs.c */
extern const luaL_Reg rdk_admin_group_methods[];  /* admin_groups.c */
extern const luaL_Reg rdk_admin_acl_methods[];    /* admin_acls.c */
void rdk_open_admin(lua_State *L);
void rdk_open_metadata(lua_State *L); /* metadata.c: after the three classes */

/* producer.c: flush_for, for txn.c */
long long rdk_flush_for(lua_State *L, rdk_client *c, int base, int timeout_ms);

/* txn.c: the producer's transaction methods */
extern const luaL_Reg rdk_producer_txn_methods[];

/* producer.c, consumer.c, mock.c */
void rdk_open_producer(lua_State *L);
void rdk_open_consumer(lua_State *L);
void rdk_open_mock(lua_State *L);
/* Whether a comma-separated bootstrap.servers names a broker of a mock
 * cluster running in this process. */
int rdk_mock_bootstrap(const char *servers);
void rdk_mock_after_fork(void);

#endif

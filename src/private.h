/* Cross-file declarations of rdkafka.core. */
#ifndef RDKAFKA_PRIVATE_H
#define RDKAFKA_PRIVATE_H

#include <sys/types.h>
#include <librdkafka/rdkafka.h>
#include "compat.h"

#define RDK_PRODUCER_MT "rdkafka.Producer"
#define RDK_CONSUMER_MT "rdkafka.Consumer"
#define RDK_MOCK_MT     "rdkafka.MockCluster"
#define RDK_ERROR_MT    "rdkafka.Error"

/* Lua callbacks a client may hold, by the config key that sets them. */
enum { RDK_ON_DELIVERY, RDK_ON_ERROR, RDK_ON_LOG, RDK_ON_STATS, RDK_CB_COUNT };
extern const char *const rdk_callback_names[RDK_CB_COUNT];

/* State shared by producers and consumers. */
typedef struct rdk_client {
    rd_kafka_t *rk;          /* NULL once closed */
    rd_kafka_queue_t *queue; /* where this client's events arrive */
    const char *mt;          /* metatable name, for messages */
    pid_t pid;               /* process that created the handle */
    int busy;                /* serving events: no re-entrant poll or close */
    int closing;             /* close() runs: serve every report, refuse new messages */
    int cb[RDK_CB_COUNT];    /* registry references, LUA_NOREF when unset */
    int pending_error;       /* first error raised by a callback, or LUA_NOREF */
    long long in_flight;     /* produced, delivery not yet reported (producer) */
} rdk_client;

/* error.c */
void rdk_push_error(lua_State *L, rd_kafka_resp_err_t code, const char *message, int fatal);
void rdk_push_error_object(lua_State *L, rd_kafka_error_t *error); /* destroys it */
int rdk_return_error(lua_State *L, rd_kafka_resp_err_t code, const char *message);
void rdk_open_error(lua_State *L);

/* conf.c */
rd_kafka_conf_t *rdk_conf_from_table(lua_State *L, int idx, rdk_client *c, int allowed_callbacks);

/* client.c */
void rdk_client_init(rdk_client *c, const char *mt);
rdk_client *rdk_check_client(lua_State *L, int idx, const char *mt);
int rdk_check_timeout_ms(lua_State *L, int idx, int default_ms);
int rdk_serve_queue(lua_State *L, rdk_client *c, int timeout_ms, int max_events);
void rdk_serve_event(lua_State *L, rdk_client *c, rd_kafka_event_t *ev);
void rdk_raise_pending(lua_State *L, rdk_client *c);
void rdk_client_release(lua_State *L, rdk_client *c, int drop_pending_error);
int rdk_client_tostring(lua_State *L);
long long rdk_now_ms(void);
void rdk_new_class(lua_State *L, const char *mt, const luaL_Reg *methods, const luaL_Reg *metamethods);

/* message.c */
void rdk_push_message(lua_State *L, const rd_kafka_message_t *rkm);
void rdk_set_position(lua_State *L, const char *topic, int32_t partition, int64_t offset);
rd_kafka_headers_t *rdk_headers_from_table(lua_State *L, int idx, int argn);

/* producer.c, consumer.c, mock.c */
void rdk_open_producer(lua_State *L);
void rdk_open_consumer(lua_State *L);
void rdk_open_mock(lua_State *L);

#endif

/* rdkafka.Admin: a handle for Kafka's admin requests, and the request
 * machinery the admin_*.c files share. Topics, partitions and records are
 * here; configs in admin_configs.c, consumer groups in admin_groups.c, ACLs
 * in admin_acls.c.
 *
 * A request runs on a queue of its own; while it waits, the handle's own
 * events (on_error, on_log, on_stats, on_throttle) are served between
 * slices, on the caller's thread. Every C object a request needs is owned
 * by one guard on the Lua stack, so a Lua error anywhere frees them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "private.h"

#define ADMIN_TIMEOUT_MS 30000
#define ADMIN_MAX_TIMEOUT_MS 3600000 /* librdkafka's bound on a request timeout */
#define SERVE_SLICE_MS 100
#define CLOSE_TIMEOUT_MS 10000

/***
 * A handle for Kafka's admin requests, made by `rdkafka.admin(conf)`.
 *
 * Every request (all the methods but `poll`, `close`, `name` and `metadata`)
 * takes a last argument `opts`: a timeout in seconds (default 30, at most
 * 3600), or a table `{timeout=, validate_only=}` (`validate_only` where
 * Kafka has it: the broker checks the request and changes nothing). A
 * request that fails as a whole (no answer in time, a request Kafka refused)
 * returns `nil, err`, `err` an @{rdkafka.Error}; otherwise the result has one
 * entry per item, in the order given, each with its own `error` (nil when
 * that item worked). The handle's callbacks are served while a request
 * waits, and by `poll`.
 *
 * Misuse raises, as do the requests librdkafka 2.0.2 lacks (`list_offsets`,
 * `describe_cluster`, `describe_topics`, `incremental_alter_configs`,
 * `describe_user_scram_credentials`, `alter_user_scram_credentials`): their
 * error names the version that has them and what to use instead.
 * @classmod rdkafka.Admin
 */

/* The copy of the handle's config that list_consumer_group_offsets makes
 * its consumers from (admin_groups.c). */
static void free_spare_conf(rdk_client *c) {
    if (c->spare_conf != NULL)
        rd_kafka_conf_destroy(c->spare_conf);
    c->spare_conf = NULL;
}

/* Whether conf's bootstrap.servers names a mock cluster of this process. */
static int on_mock(const rd_kafka_conf_t *conf) {
    size_t size = 0;
    char *servers;
    int found = 0;
    if (rd_kafka_conf_get(conf, "bootstrap.servers", NULL, &size) != RD_KAFKA_CONF_OK || size <= 1)
        return 0;
    if ((servers = (char *)malloc(size)) == NULL)
        return 0;
    if (rd_kafka_conf_get(conf, "bootstrap.servers", servers, &size) == RD_KAFKA_CONF_OK)
        found = rdk_mock_bootstrap(servers);
    free(servers);
    return found;
}

static int admin_new(lua_State *L) {
    char errstr[512];
    int events = RD_KAFKA_EVENT_ERROR;
    sigset_t saved;
    rd_kafka_conf_t *conf;
    rdk_client *c;
    lua_settop(L, 1);
    c = rdk_new_client(L, RDK_ADMIN_MT);
    rdk_getuservalue(L, 2);
    conf = rdk_conf_from_table(L, 1, c, 3,
                               1 << RDK_ON_ERROR | 1 << RDK_ON_LOG | 1 << RDK_ON_STATS |
                                   1 << RDK_ON_THROTTLE);
    lua_settop(L, 2);
    events |= rdk_callback_events(c);
    rd_kafka_conf_set_events(conf, events);
    c->on_mock = on_mock(conf);
    c->spare_conf = rd_kafka_conf_dup(conf);
    rdk_signals_block(&saved);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rdk_signals_restore(&saved);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free_spare_conf(c);
        return rdk_raise_redacted(L, 2, "rdkafka.admin", errstr);
    }
    if (RDK_HAS(c, RDK_ON_LOG))
        rd_kafka_set_log_queue(c->rk, NULL);
    c->queue = rd_kafka_queue_get_main(c->rk);
    return 1;
}

/* ---- the request machinery ---- */

/* What of a request refers to the handle: freed before the handle goes. */
static void release_handle_parts(rdk_admin_req *r) {
    if (r->result != NULL)
        rd_kafka_event_destroy(r->result);
    if (r->queue != NULL)
        rd_kafka_queue_destroy(r->queue);
    r->result = NULL;
    r->queue = NULL;
}

/* Called by close and the collector: the guards of earlier requests may be
 * collected after the handle is gone. */
static void release_requests(rdk_client *c) {
    rdk_admin_req *r;
    for (r = c->requests; r != NULL; r = r->next) {
        release_handle_parts(r);
        r->client = NULL;
    }
    c->requests = NULL;
}

/* Takes the request off its handle's list. */
static void detach(rdk_admin_req *r) {
    if (r->client != NULL) {
        rdk_admin_req **at = &r->client->requests;
        while (*at != r)
            at = &(*at)->next;
        *at = r->next;
    }
    r->client = NULL;
}

static void destroy_request(void *p) {
    rdk_admin_req *r = (rdk_admin_req *)p;
    size_t i;
    detach(r);
    release_handle_parts(r);
    if (r->destroy_item != NULL)
        for (i = 0; i < r->count; i++)
            if (r->items[i] != NULL)
                r->destroy_item(r->items[i]);
    free(r->items);
    if (r->options != NULL)
        rd_kafka_AdminOptions_destroy(r->options);
    free(r);
}

/* The trailing argument at idx: nil, a timeout in seconds, or a table of
 * options ({timeout=, validate_only=, require_stable=}, as the call allows). */
static void read_options(lua_State *L, int idx, int allowed, int *timeout_ms, int *flags) {
    *timeout_ms = ADMIN_TIMEOUT_MS;
    *flags = 0;
    if (lua_type(L, idx) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            int flag = strcmp(key, "validate_only") == 0    ? RDK_ADMIN_VALIDATE_ONLY
                       : strcmp(key, "require_stable") == 0 ? RDK_ADMIN_REQUIRE_STABLE
                                                            : 0;
            if (strcmp(key, "timeout") == 0) {
                lua_Number t = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
                if (!(t >= 0)) /* NaN too */
                    luaL_argerror(L, idx, "option 'timeout' must be a non-negative number of seconds");
                *timeout_ms = rdk_check_timeout_ms(L, lua_gettop(L), ADMIN_TIMEOUT_MS);
            } else if (flag != 0 && (allowed & flag)) {
                if (lua_type(L, -1) != LUA_TBOOLEAN)
                    luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a boolean, got %s",
                                                          key, luaL_typename(L, -1)));
                if (lua_toboolean(L, -1))
                    *flags |= flag;
            } else {
                luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s' (expected timeout%s%s)", key,
                                                      allowed & RDK_ADMIN_VALIDATE_ONLY ? ", validate_only" : "",
                                                      allowed & RDK_ADMIN_REQUIRE_STABLE ? ", require_stable" : ""));
            }
            lua_pop(L, 1);
        }
    } else if (!lua_isnoneornil(L, idx)) {
        if (lua_type(L, idx) != LUA_TNUMBER)
            luaL_argerror(L, idx, lua_pushfstring(L, "timeout (seconds) or options table expected, got %s",
                                                  luaL_typename(L, idx)));
        *timeout_ms = rdk_check_timeout_ms(L, idx, ADMIN_TIMEOUT_MS);
    }
    if (*timeout_ms > ADMIN_MAX_TIMEOUT_MS)
        *timeout_ms = ADMIN_MAX_TIMEOUT_MS;
}

/* Whether librdkafka sends op to a group coordinator it looks up first. */
static int coordinator_op(rd_kafka_admin_op_t op) {
    return op == RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS || op == RD_KAFKA_ADMIN_OP_DELETEGROUPS ||
           op == RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS || op == RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS ||
           op == RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS;
}

/* Starts a request whose options are argument opts_idx (the last one: the
 * caller has set the stack top to it); the request is owned by a guard
 * pushed on the stack. */
rdk_admin_req *rdk_admin_request(lua_State *L, int opts_idx, rd_kafka_admin_op_t op, int allowed) {
    char errstr[256];
    int flags, request_ms, timeout_ms;
    void **guard;
    rdk_admin_req *r;
    rdk_client *c;
    rdk_check_client(L, 1, RDK_ADMIN_MT); /* a closed handle is said first */
    /* What allocates Lua objects (and so may run a finalizer that closes
     * the handle) comes before the handle is checked again and used. */
    read_options(L, opts_idx, allowed, &timeout_ms, &flags);
    guard = rdk_guard(L, destroy_request);
    c = rdk_check_client(L, 1, RDK_ADMIN_MT);
    r = (rdk_admin_req *)calloc(1, sizeof *r);
    if (r == NULL)
        luaL_error(L, "not enough memory");
    *guard = r;
    r->client = c;
    r->next = c->requests;
    c->requests = r;
    r->timeout_ms = timeout_ms;
    r->flags = flags;
    r->options = rd_kafka_AdminOptions_new(c->rk, op);
    r->queue = rd_kafka_queue_new(c->rk);
    if (r->options == NULL || r->queue == NULL)
        luaL_error(L, "not enough memory");
    /* librdkafka gives up a little before the caller's timeout, so that its
     * own answer (a whole or a per-item _TIMED_OUT) is what the caller sees. */
    request_ms = r->timeout_ms > 1000 ? r->timeout_ms - 100 : r->timeout_ms * 9 / 10;
    if (request_ms < 1)
        request_ms = 1;
    if (op == RD_KAFKA_ADMIN_OP_DELETERECORDS && request_ms < 1000) {
        /* rd_kafka_DeleteRecords looks the leaders up on the caller's thread
         * while its timer runs on librdkafka's: in 2.0.2, when the timeout
         * ends meanwhile both finish the request (a double free). The
         * caller's shorter timeout is kept here. */
        request_ms = 1000;
    }
    if (coordinator_op(op)) {
        /* Except for requests to a group coordinator: librdkafka 2.0.2 aborts
         * (rd_kafka_enq_once_del_source_return: refcnt > 0) when such a
         * request timed out before the coordinator was found and the
         * coordinator turns up later (rd_kafka_admin_coord_request returns
         * _DESTROY, and the coordinator code then runs the response
         * callback as well, dropping the same reference twice). librdkafka
         * gets the longest timeout; the caller's own one is kept here. */
        request_ms = ADMIN_MAX_TIMEOUT_MS;
        /* The module gives up first, a minute before librdkafka would. */
        if (r->timeout_ms > ADMIN_MAX_TIMEOUT_MS - 60000)
            r->timeout_ms = ADMIN_MAX_TIMEOUT_MS - 60000;
        /* The same double release follows when librdkafka cannot build the
         * request for the coordinator, as for the group requests
         * librdkafka 2.0.2's mock cluster lacks: refused before sending. */
        r->unsendable = c->on_mock && op != RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS &&
                        op != RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS;
    }
    rd_kafka_AdminOptions_set_request_timeout(r->options, request_ms, errstr, sizeof errstr);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS)
        /* The broker waits for the change to be done, answering before the client gives up. */
        rd_kafka_AdminOptions_set_operation_timeout(
            r->options, request_ms > 2000 ? request_ms - 1000 : request_ms / 2, errstr, sizeof errstr);
    if ((flags & RDK_ADMIN_VALIDATE_ONLY) &&
        rd_kafka_AdminOptions_set_validate_only(r->options, 1, errstr, sizeof errstr))
        luaL_error(L, "validate_only: %s", errstr);
    if (flags & RDK_ADMIN_REQUIRE_STABLE) {
        rd_kafka_error_t *e = rd_kafka_AdminOptions_set_require_stable_offsets(r->options, 1);
        if (e != NULL) {
            snprintf(errstr, sizeof errstr, "%s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            luaL_error(L, "require_stable: %s", errstr);
        }
    }
    return r;
}

/* An array of count items, each freed by destroy if the call fails. */
void rdk_admin_items(lua_State *L, rdk_admin_req *r, size_t count, void (*destroy)(void *)) {
    r->items = (void **)calloc(count ? count : 1, sizeof *r->items);
    if (r->items == NULL)
        luaL_error(L, "not enough memory");
    r->count = count;
    r->destroy_item = destroy;
}

/* The length of the list at idx, which must be a non-empty array (the
 * handle at 1 is checked first). */
size_t rdk_admin_list(lua_State *L, int idx, const char *what) {
    size_t n;
    rdk_check_client(L, 1, RDK_ADMIN_MT); /* a closed handle first */
    if (lua_type(L, idx) != LUA_TTABLE)
        luaL_argerror(L, idx, lua_pushfstring(L, "list of %s expected, got %s", what, luaL_typename(L, idx)));
    n = lua_rawlen(L, idx);
    if (n == 0)
        luaL_argerror(L, idx, lua_pushfstring(L, "list of %s is empty", what));
    return n;
}

/* Entry i of the list at idx, pushed: a string (strings = 1) or a table. */
void rdk_admin_entry(lua_State *L, int idx, size_t i, int strings) {
    size_t len;
    lua_rawgeti(L, idx, (int)i);
    if (strings) {
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (s == NULL || len == 0 || strlen(s) != len)
            luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d must be a non-empty string, got %s", (int)i,
                                                  lua_type(L, -1) == LUA_TSTRING ? "an empty string or NUL bytes"
                                                                                 : luaL_typename(L, -1)));
    } else if (lua_type(L, -1) != LUA_TTABLE) {
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d must be a table, got %s", (int)i, luaL_typename(L, -1)));
    }
}

/* Field `name` of the entry table on top, as a non-empty string (or NULL when
 * it is nil and optional). */
const char *rdk_admin_string_field(lua_State *L, int idx, size_t i, const char *name, int optional) {
    size_t len;
    const char *s;
    lua_pushstring(L, name);
    lua_rawget(L, -2); /* raw: no metamethod runs, the entry keeps the string */
    if (optional && lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (s == NULL || len == 0 || strlen(s) != len)
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: field '%s' must be a non-empty string without "
                                                 "NUL bytes, got %s", (int)i, name,
                                              s == NULL ? luaL_typename(L, -1) : len ? "NUL bytes" : "an empty one"));
    lua_pop(L, 1); /* the entry table keeps the string alive */
    return s;
}

/* Field `name` of the entry table on top, as an integer in [min, max]
 * (dflt when nil and dflt >= min). */
lua_Integer rdk_admin_int_field(lua_State *L, int idx, size_t i, const char *name, lua_Integer min,
                                lua_Integer max, lua_Integer dflt) {
    lua_Integer v = 0;
    lua_pushstring(L, name);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1) && dflt >= min) {
        lua_pop(L, 1);
        return dflt;
    }
    if (!rdk_isinteger(L, -1) || (v = lua_tointeger(L, -1)) < min || v > max)
        luaL_argerror(L, idx, lua_pushfstring(L, "entry #%d: field '%s' must be an integer from %d to %d, got %s",
                                              (int)i, name, (int)min, (int)max,
                                              lua_type(L, -1) == LUA_TNUMBER ? "a fraction or out of range"
                                                                             : luaL_typename(L, -1)));
    lua_pop(L, 1);
    return v;
}

/* Waits for the request's result, serving the handle's own events in
 * between; from rdk_enter to rdk_leave. Returns the result event (owned by
 * the request) or NULL when the timeout passed first. */
static rd_kafka_event_t *await(lua_State *L, rdk_admin_req *r, int base) {
    rdk_client *c = r->client;
    long long deadline = rdk_now_ms() + r->timeout_ms;
    for (;;) {
        long long left = deadline - rdk_now_ms();
        if (!rdk_failed(L, c, base))
            rdk_serve_queue(L, c, base, c->queue, 0, 1000, 0);
        if (left < 0)
            left = 0;
        r->result = rd_kafka_queue_poll(r->queue, left > SERVE_SLICE_MS ? SERVE_SLICE_MS : (int)left);
        if (r->result != NULL || left == 0)
            return r->result;
    }
}

/* Sends the request through send() and waits for its result. Returns the
 * result event, or pushes nil, err and returns NULL when the request failed
 * as a whole (timeout, no broker, an error for the request). */
rd_kafka_event_t *rdk_admin_run(lua_State *L, rdk_admin_req *r, void (*send)(rdk_admin_req *),
                                const char *what) {
    rdk_client *c = r->client;
    rd_kafka_event_t *ev;
    int base;
    if (c == NULL || c->rk == NULL) /* closed while the arguments were read */
        luaL_error(L, "attempt to use a closed %s", RDK_ADMIN_MT);
    if (r->unsendable) {
        rdk_return_error(L, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE,
                         lua_pushfstring(L, "%s: librdkafka 2.0.2's mock cluster does not implement this "
                                            "request (and librdkafka aborts the process when a group "
                                            "request cannot be sent)", what));
        return NULL;
    }
    base = rdk_enter(L, c, lua_gettop(L), what);
    send(r);
    ev = await(L, r, base);
    /* Nothing of the request refers to the handle from here on (destroying
     * a result event does not touch it): a close may come at any time. */
    detach(r);
    rd_kafka_queue_destroy(r->queue);
    r->queue = NULL;
    rdk_leave(L, c, base);
    if (ev == NULL) {
        r->timed_out = 1;
        rdk_return_error(L, RD_KAFKA_RESP_ERR__TIMED_OUT,
                         lua_pushfstring(L, "%s: no answer within the timeout", what));
        return NULL;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        lua_pushnil(L);
        rdk_push_client_error(L, 1, rd_kafka_event_error(ev), rd_kafka_event_error_string(ev), 0);
        return NULL;
    }
    return ev;
}

/* Pushes nil, or an error object for code and message (librdkafka's text,
 * redacted with the secrets of the handle at 1). */
void rdk_admin_push_error(lua_State *L, rd_kafka_resp_err_t code, const char *message) {
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
        lua_pushnil(L);
    else
        rdk_push_client_error(L, 1, code, message, 0);
}

/* ---- the handle ---- */

/***
 * Serves the handle's callbacks (`on_error`, `on_log`, `on_stats`, `on_throttle`).
 * @function poll
 * @tparam[opt=0] number timeout seconds to wait for the first event
 * @treturn integer how many events were served
 */
static int admin_poll(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_ADMIN_MT);
    int timeout_ms = rdk_check_timeout_ms(L, 2, 0);
    int base = rdk_enter(L, c, 2, "poll");
    int n = rdk_serve_queue(L, c, base, c->queue, timeout_ms, 100000, 0);
    rdk_leave(L, c, base);
    lua_pushinteger(L, n);
    return 1;
}

static void destroy(rdk_client *c, long long deadline) {
    free_spare_conf(c);
    rdk_shutdown_begin(c->shutdown, c->rk, 0, NULL);
    rdk_shutdown_finish(c->shutdown, deadline, &c->queue, 1);
    c->shutdown = NULL;
    c->queue = NULL;
    c->rk = NULL;
}

/* In a process it was not created in, a handle is only forgotten. */
static int forget_in_child(rdk_client *c) {
    rdk_admin_req *r;
    if (c->rk == NULL || c->pid == rdk_pid)
        return 0;
    /* The requests' queues and results belong to the parent's threads:
     * left alone (leaked), never destroyed here. */
    for (r = c->requests; r != NULL; r = r->next) {
        r->client = NULL;
        r->queue = NULL;
        r->result = NULL;
    }
    c->requests = NULL;
    c->rk = NULL;
    c->queue = NULL;
    free_spare_conf(c);
    rdk_shutdown_free(c->shutdown);
    c->shutdown = NULL;
    return 1;
}

/***
 * Serves what is left for the callbacks, then destroys the handle, waiting
 * at most `timeout` for librdkafka. Closing a closed handle does nothing.
 * Also runs on `<close>`.
 * @function close
 * @tparam[opt=10] number timeout seconds
 * @treturn[1] boolean `true`
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_FAIL` when no thread could be started to
 *   close it (the handle stays open)
 */
static int admin_close(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_ADMIN_MT, "close");
    int timeout_ms, base, thread_err;
    if (c->rk == NULL || forget_in_child(c)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    timeout_ms = rdk_check_timeout_ms(L, 2, CLOSE_TIMEOUT_MS);
    base = rdk_enter(L, c, 2, "close");
    if ((thread_err = rdk_shutdown_prepare(c->shutdown)) != 0) {
        rdk_leave(L, c, base);
        return rdk_return_error(L, RD_KAFKA_RESP_ERR__FAIL,
                                lua_pushfstring(L, "could not start a thread to close the admin handle "
                                                   "(error %d): it is still open", thread_err));
    }
    c->closing = 1;
    rdk_serve_queue(L, c, base, c->queue, 0, 100000, 0);
    release_requests(c);
    destroy(c, rdk_now_ms() + timeout_ms);
    rdk_leave(L, c, base);
    lua_pushboolean(L, 1);
    return 1;
}

static int admin_gc(lua_State *L) {
    rdk_client *c = rdk_check_closable(L, 1, RDK_ADMIN_MT, "close");
    if (c->rk != NULL && !forget_in_child(c)) {
        if (rdk_shutdown_prepare(c->shutdown) != 0)
            fprintf(stderr, "rdkafka: no thread for a collected admin handle: destroying it here\n");
        release_requests(c);
        destroy(c, 0);
    }
    free_spare_conf(c);
    rdk_shutdown_free(c->shutdown);
    c->shutdown = NULL;
    return 0;
}

static int admin_close_scope(lua_State *L) {
    lua_settop(L, 1);
    return admin_close(L);
}

/***
 * librdkafka's name of this handle, such as `rdkafka#producer-1` (an admin
 * handle is a producer underneath).
 * @function name
 * @treturn string
 */
static int admin_name(lua_State *L) {
    rdk_client *c = rdk_check_client(L, 1, RDK_ADMIN_MT);
    lua_pushstring(L, rd_kafka_name(c->rk));
    return 1;
}

void rdk_open_admin(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"poll", admin_poll}, {"close", admin_close}, {"name", admin_name}, {NULL, NULL}};
    static const luaL_Reg metamethods[] = {
        {"__gc", admin_gc}, {"__close", admin_close_scope}, {"__tostring", rdk_client_tostring}, {NULL, NULL}};
    rdk_new_class(L, RDK_ADMIN_MT, methods, metamethods);
    rdk_add_methods(L, RDK_ADMIN_MT, rdk_admin_topic_methods);
    rdk_add_methods(L, RDK_ADMIN_MT, rdk_admin_config_methods);
    rdk_add_methods(L, RDK_ADMIN_MT, rdk_admin_group_methods);
    rdk_add_methods(L, RDK_ADMIN_MT, rdk_admin_acl_methods);
    /* The method table, for methods the Lua layer adds (alter_configs). */
    luaL_getmetatable(L, RDK_ADMIN_MT);
    lua_getfield(L, -1, "__index");
    lua_setfield(L, -3, "admin_methods");
    lua_pop(L, 1);
    lua_pushcfunction(L, admin_new);
    lua_setfield(L, -2, "admin");
}

/* What producers and consumers share: handle checks, timeouts, and serving
 * librdkafka events to Lua callbacks on the caller's own thread.
 *
 * A method that serves events brackets them with rdk_enter and rdk_leave.
 * rdk_enter pushes two slots: the handle's callback table (base) and the
 * first error a callback raised (base + 1, nil while there is none). In
 * between nothing may raise: every step that can runs in a protected call,
 * and keeping an error is a lua_replace into that slot, which allocates
 * nothing. rdk_leave raises the kept error once librdkafka is out of the way. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "private.h"

rdk_client *rdk_new_client(lua_State *L, const char *mt) {
    rdk_client *c = (rdk_client *)rdk_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    c->mt = mt;
    c->pid = rdk_pid;
    c->wake_r = c->wake_w = -1;
    luaL_getmetatable(L, mt);
    lua_setmetatable(L, -2);
    lua_createtable(L, RDK_OPAQUES, 0);
    rdk_setuservalue(L, -2);
    c->shutdown = rdk_shutdown_new();
    if (c->shutdown == NULL)
        luaL_error(L, "not enough memory");
    return c;
}

static void check_process(lua_State *L, rdk_client *c) {
    if (c->pid != rdk_pid)
        luaL_error(L,
                   "%s was created in process %d and used in process %d: librdkafka handles "
                   "do not survive fork(); create handles per process (in nginx, in "
                   "init_worker_by_lua*)",
                   c->mt, (int)c->pid, (int)rdk_pid);
}

rdk_client *rdk_check_client(lua_State *L, int idx, const char *mt) {
    rdk_client *c = (rdk_client *)luaL_checkudata(L, idx, mt);
    if (c->rk == NULL)
        luaL_error(L, "attempt to use a closed %s", mt);
    check_process(L, c);
    return c;
}

/* For close and the collector: a handle may not be destroyed while one of
 * its own callbacks runs (the serve loop still uses it). */
rdk_client *rdk_check_closable(lua_State *L, int idx, const char *mt, const char *what) {
    rdk_client *c = (rdk_client *)luaL_checkudata(L, idx, mt);
    if (c->busy)
        luaL_error(L, "cannot %s a %s from inside one of its callbacks", what, mt);
    return c;
}

/* Timeouts are seconds (numbers), as in luasocket; librdkafka takes ms. */
int rdk_check_timeout_ms(lua_State *L, int idx, int default_ms) {
    lua_Number s;
    if (lua_isnoneornil(L, idx))
        return default_ms;
    s = luaL_checknumber(L, idx);
    if (isnan(s) || s < 0)
        luaL_argerror(L, idx, "timeout must be a non-negative number of seconds");
    if (s * 1000.0 >= (lua_Number)INT_MAX)
        return INT_MAX;
    return (int)ceil(s * 1000.0);
}

/* Message handler: a string error gets a traceback; any other value is kept. */
static int traceback(lua_State *L) {
    if (lua_type(L, 1) != LUA_TSTRING)
        return 1;
    lua_getglobal(L, "debug");
    if (lua_type(L, -1) == LUA_TTABLE)
        lua_getfield(L, -1, "traceback");
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        lua_settop(L, 1);
        return 1;
    }
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

/* Moves the value on top into slot unless the slot holds an error already. */
static void keep_first(lua_State *L, int slot) {
    if (lua_isnil(L, slot))
        lua_replace(L, slot);
    else
        lua_pop(L, 1);
}

/* Stack of serve_event_protected: the arguments, then the event's first error. */
enum { SE_CLIENT = 1, SE_ENV, SE_TRACEBACK, SE_ERROR };

/* Calls callback `which` with the nargs values on top of the stack in a
 * protected call; its error is kept and serving goes on. */
void rdk_call_callback(lua_State *L, int which, int nargs) {
    int base = lua_gettop(L) - nargs;
    lua_rawgeti(L, SE_ENV, which + 1);
    lua_insert(L, base + 1);
    if (lua_pcall(L, nargs, 0, SE_TRACEBACK) != 0) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushfstring(L, "%s callback failed: %s", rdk_callback_names[which],
                            lua_tostring(L, -1));
            lua_remove(L, -2);
        }
        keep_first(L, SE_ERROR);
    }
    lua_settop(L, base);
}

/* Whether a delivery report's error was caused by the producer's fatal
 * error (fatal_code, none while there is none): it carries the fatal code
 * (the request that made the producer fatal), or _FATAL, or it is a
 * message librdkafka purged from the queues because of the fatal error. That
 * purge is queued by rd_kafka_set_fatal_error after the fatal error event,
 * so its reports come after that event (c->fatal_seen); a purge the
 * application made earlier was reported before it. */
static int caused_by_fatal(const rdk_client *c, rd_kafka_resp_err_t err, rd_kafka_resp_err_t fatal_code) {
    if (fatal_code == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    return err == fatal_code || err == RD_KAFKA_RESP_ERR__FATAL ||
           (err == RD_KAFKA_RESP_ERR__PURGE_QUEUE && c->fatal_seen);
}

static void serve_delivery(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    const rd_kafka_message_t *rkm;
    char ignored[1];
    /* Once per event: the fatal state cannot be undone, only reached. */
    rd_kafka_resp_err_t fatal_code = rd_kafka_fatal_error(c->rk, ignored, sizeof ignored);
    while ((rkm = rd_kafka_event_message_next(ev)) != NULL) {
        /* Counted before anything can fail: a report is never counted twice. */
        c->in_flight--;
        c->reports_seen++;
        if (rkm->err && c->closing)
            c->close_failed++;
        if (!rkm->err && (c->only_errors || !RDK_HAS(c, RDK_ON_DELIVERY))) {
            /* A success nobody is told of: only its opaque to release. */
            if (rkm->_private != NULL) {
                rdk_take_opaque(L, SE_ENV, rkm->_private);
                lua_pop(L, 1);
            }
            continue;
        }
        rdk_take_opaque(L, SE_ENV, rkm->_private); /* released even when nobody sees it */
        if (RDK_HAS(c, RDK_ON_DELIVERY)) {
            if (rkm->err) /* fatal (and so not retriable) when the fatal error caused it */
                rdk_push_error(L, rkm->err, NULL, caused_by_fatal(c, rkm->err, fatal_code));
            else
                lua_pushnil(L);
            rdk_push_message_fields(L, rkm, rkm->err ? RDK_FIELDS_ALL : c->report_fields);
            if (rkm->_private != NULL) {
                lua_pushvalue(L, -3);
                lua_setfield(L, -2, "opaque");
            }
            lua_remove(L, -3);
            rdk_call_callback(L, RDK_ON_DELIVERY, 2);
        } else if (rkm->err) {
            /* Never lose a failure silently: on_error, else stderr. */
            const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?";
            lua_pop(L, 1); /* the opaque */
            lua_pushfstring(L, "delivery to topic '%s' partition %d failed: %s", topic,
                            (int)rkm->partition, rd_kafka_err2str(rkm->err));
            rdk_report_error(L, c, rkm->err, "set on_delivery to handle this");
        }
    }
}

/* Reports the failure described by the string on top of the stack (popped)
 * to on_error, else to stderr with the hint: never silently. */
void rdk_report_error(lua_State *L, rdk_client *c, rd_kafka_resp_err_t code, const char *hint) {
    if (RDK_HAS(c, RDK_ON_ERROR)) {
        rdk_push_error(L, code, lua_tostring(L, -1), 0);
        lua_remove(L, -2);
        rdk_call_callback(L, RDK_ON_ERROR, 1);
    } else {
        fprintf(stderr, "rdkafka: %s (%s)\n", lua_tostring(L, -1), hint);
        lua_pop(L, 1);
    }
}

/* A fatal error is reported with the code that made it fatal (not _FATAL),
 * with fatal = true, wherever it is reported. */
void rdk_error_of_event(rd_kafka_t *rk, rd_kafka_event_t *ev, rd_kafka_resp_err_t *code,
                        const char **message, char *buf, size_t size) {
    *code = rd_kafka_event_error(ev);
    *message = rd_kafka_event_error_string(ev);
    if (rd_kafka_event_error_is_fatal(ev)) {
        *code = rd_kafka_fatal_error(rk, buf, size);
        *message = buf;
    }
}

static void serve_error(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    rd_kafka_resp_err_t code;
    const char *message;
    char buf[512];
    int fatal = rd_kafka_event_error_is_fatal(ev);
    if (fatal)
        c->fatal_seen = 1; /* before anything can fail */
    rdk_error_of_event(c->rk, ev, &code, &message, buf, sizeof buf);
    rdk_push_redacted(L, SE_ENV, message);
    message = lua_tostring(L, -1);
    if (RDK_HAS(c, RDK_ON_ERROR)) {
        rdk_push_error(L, code, message, fatal);
        lua_remove(L, -2);
        rdk_call_callback(L, RDK_ON_ERROR, 1);
    } else {
        if (fatal)
            fprintf(stderr, "rdkafka: fatal error %s: %s (set on_error to handle this)\n",
                    rd_kafka_err2name(code), message);
        lua_pop(L, 1);
    }
}

/* Throttle notices. librdkafka 2.0.2 has no throttle event: it calls the
 * throttle callback while it serves the queue, inside rd_kafka_queue_poll
 * (or on the thread that closes a consumer). So the callback only notes the
 * throttle in the client whose call polls on this thread, and on_throttle
 * is served from the note right after, within that same call. */
static __thread rdk_client *serving; /* innermost client between rdk_enter and rdk_leave */

void rdk_note_throttle(rd_kafka_t *rk, const char *broker, int32_t broker_id, int ms, void *opaque) {
    rdk_client *c = serving;
    int i, depth = 0;
    (void)opaque;
    while (c != NULL && c->rk != rk && ++depth < 64) /* calls nest a few deep at most */
        c = c->outer;
    if (c != NULL && c->rk != rk)
        c = NULL;
    if (c == NULL) /* not inside one of this handle's calls: nobody to tell */
        return;
    if (c->throttles == RDK_THROTTLE_NOTES) { /* full: the oldest goes */
        for (i = 1; i < RDK_THROTTLE_NOTES; i++)
            c->throttle[i - 1] = c->throttle[i];
        c->throttles--;
    }
    i = c->throttles++;
    c->throttle[i].broker_id = broker_id;
    c->throttle[i].ms = ms;
    snprintf(c->throttle[i].broker, sizeof c->throttle[i].broker, "%s", broker ? broker : "");
}

/* on_throttle(broker, seconds, broker_id) for each note, oldest first. */
static void serve_throttles(lua_State *L, rdk_client *c) {
    while (c->throttles > 0) {
        char broker[sizeof c->throttle[0].broker];
        int32_t id = c->throttle[0].broker_id;
        int ms = c->throttle[0].ms, i;
        /* Taken before anything can fail: a note is never served twice. */
        memcpy(broker, c->throttle[0].broker, sizeof broker);
        for (i = 1; i < c->throttles; i++)
            c->throttle[i - 1] = c->throttle[i];
        c->throttles--;
        if (!RDK_HAS(c, RDK_ON_THROTTLE))
            continue;
        lua_pushstring(L, broker);
        lua_pushnumber(L, (lua_Number)ms / 1000.0);
        lua_pushinteger(L, id);
        rdk_call_callback(L, RDK_ON_THROTTLE, 3);
    }
}

/* The last occurrence of needle in s, or NULL. */
static const char *find_last(const char *s, const char *needle) {
    const char *last = NULL;
    for (s = strstr(s, needle); s != NULL; s = strstr(s + 1, needle))
        last = s;
    return last;
}

/* Pushes the stats JSON. Once the handle is fatal librdkafka 2.0.2 ends it
 * with "fatal": { "error": "...", "reason": "<text>", "cnt": n }, the
 * reason as it is: it may quote a secret, or a quote. That reason is
 * redacted and escaped; the rest is not redacted: conf.c keeps secrets
 * out of client.id, the only config value the stats hold, and a search
 * through JSON for secret text could only break it. */
static void push_stats(lua_State *L, rdk_client *c, const char *json) {
    const char *start, *end, *reason;
    size_t len, i;
    char none[1];
    luaL_Buffer b;
    if (rd_kafka_fatal_error(c->rk, none, sizeof none) == RD_KAFKA_RESP_ERR_NO_ERROR ||
        (start = find_last(json, "\"fatal\": { \"error\": \"")) == NULL ||
        (start = strstr(start, "\"reason\": \"")) == NULL ||
        (end = find_last(start, "\", \"cnt\": ")) == NULL) {
        lua_pushstring(L, json);
        return;
    }
    start += strlen("\"reason\": \"");
    lua_pushlstring(L, start, (size_t)(end - start));
    rdk_push_redacted(L, SE_ENV, lua_tostring(L, -1));
    reason = lua_tolstring(L, -1, &len);
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, json, (size_t)(start - json));
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)reason[i];
        if (ch == '"' || ch == '\\') {
            luaL_addchar(&b, '\\');
            luaL_addchar(&b, (char)ch);
        } else if (ch < 0x20) {
            char escape[8];
            snprintf(escape, sizeof escape, "\\u%04x", ch);
            luaL_addstring(&b, escape);
        } else {
            luaL_addchar(&b, (char)ch);
        }
    }
    luaL_addstring(&b, end);
    luaL_pushresult(&b);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

/* (handle, callbacks, traceback): serves the event in c->event to the
 * callbacks (the throttle notes when c->event is NULL); raises the first
 * error one of them raised, after serving the whole event. */
static int serve_event_protected(lua_State *L) {
    rdk_client *c = (rdk_client *)lua_touserdata(L, SE_CLIENT);
    rd_kafka_event_t *ev = c->event;
    const char *fac, *text;
    int level;
    if (ev == NULL && c->throttles == 0) /* reached through the debug library */
        return 0;
    lua_settop(L, SE_TRACEBACK);
    lua_pushnil(L); /* SE_ERROR */
    switch (ev == NULL ? RD_KAFKA_EVENT_NONE : rd_kafka_event_type(ev)) {
    case RD_KAFKA_EVENT_NONE:
        serve_throttles(L, c);
        break;
    case RD_KAFKA_EVENT_DR:
        serve_delivery(L, c, ev);
        break;
    case RD_KAFKA_EVENT_ERROR:
        serve_error(L, c, ev);
        break;
    case RD_KAFKA_EVENT_LOG:
        if (RDK_HAS(c, RDK_ON_LOG) && rd_kafka_event_log(ev, &fac, &text, &level) == 0) {
            lua_pushinteger(L, level);
            lua_pushstring(L, fac);
            rdk_push_redacted(L, SE_ENV, text);
            rdk_call_callback(L, RDK_ON_LOG, 3);
        }
        break;
    case RD_KAFKA_EVENT_REBALANCE:
        rdk_serve_rebalance(L, c, ev);
        break;
    case RD_KAFKA_EVENT_OFFSET_COMMIT:
        rdk_serve_commit(L, c, ev);
        break;
    case RD_KAFKA_EVENT_STATS:
        if (RDK_HAS(c, RDK_ON_STATS)) {
            push_stats(L, c, rd_kafka_event_stats(ev));
            rdk_call_callback(L, RDK_ON_STATS, 1);
        }
        break;
    default:
        break;
    }
    c->event_done = 1;
    if (!lua_isnil(L, SE_ERROR)) {
        lua_pushvalue(L, SE_ERROR);
        return lua_error(L);
    }
    return 0;
}

/* Serves the throttle notes in a protected call; the error is kept. */
static void serve_throttle_notes(lua_State *L, rdk_client *c, int base) {
    rd_kafka_event_t *ev = c->event;
    c->event = NULL;
    lua_pushvalue(L, rdk_upvalue(RDK_UP_SERVE_EVENT));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, base);
    lua_pushvalue(L, rdk_upvalue(RDK_UP_TRACEBACK));
    if (lua_pcall(L, 3, 0, 0) != 0)
        keep_first(L, base + 1);
    c->event = ev;
}

/* Serves one event and destroys it. The handle is at index 1 of every
 * method. When serving fails half-way through a batch of delivery reports
 * (out of memory), the rest of the batch is served by trying again from
 * where it stopped. */
void rdk_serve_event(lua_State *L, rdk_client *c, int base, rd_kafka_event_t *ev) {
    long long assigns = c->assigns;
    if (c->throttles > 0) /* noted while polling for this event: they came first */
        serve_throttle_notes(L, c, base);
    c->event = ev;
    for (;;) {
        long long seen = c->reports_seen;
        c->event_done = 0;
        lua_pushvalue(L, rdk_upvalue(RDK_UP_SERVE_EVENT));
        lua_pushvalue(L, 1);
        lua_pushvalue(L, base);
        lua_pushvalue(L, rdk_upvalue(RDK_UP_TRACEBACK));
        if (lua_pcall(L, 3, 0, 0) == 0)
            break;
        keep_first(L, base + 1);
        if (c->event_done || rd_kafka_event_type(ev) != RD_KAFKA_EVENT_DR)
            break;
        if (c->reports_seen == seen) {
            /* No progress at all: count what is left, so pending() is right
             * and close() counts the failures, and say so. */
            const rd_kafka_message_t *rkm;
            long long lost = 0;
            while ((rkm = rd_kafka_event_message_next(ev)) != NULL) {
                c->in_flight--;
                c->reports_seen++;
                lost++;
                rdk_take_opaque(L, base, rkm->_private);
                lua_pop(L, 1);
                if (rkm->err && c->closing)
                    c->close_failed++;
            }
            fprintf(stderr, "rdkafka: %lld delivery reports could not be served (out of memory)\n",
                    lost);
            break;
        }
    }
    c->event = NULL;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
        rdk_rebalance_finish(c, ev, assigns); /* even when the callback failed */
    rd_kafka_event_destroy(ev);
}

/* Keeps the value on top as the call's error unless it has one already. */
void rdk_keep_error(lua_State *L, int base) { keep_first(L, base + 1); }

/* Whether serving should stop: a callback failed (while closing, every
 * event is still served). */
int rdk_failed(lua_State *L, rdk_client *c, int base) {
    return !c->closing && !lua_isnil(L, base + 1);
}

/* Waits up to timeout_ms for a first event on queue, then serves what is
 * ready, at most max_events, stopping after the event during which stop_at
 * (ms on rdk_now_ms's clock, 0 for no such bound) passed; returns how many
 * it served. */
int rdk_serve_queue(lua_State *L, rdk_client *c, int base, rd_kafka_queue_t *queue,
                    int timeout_ms, int max_events, long long stop_at) {
    int n = 0;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, timeout_ms);
    if (ev == NULL && c->throttles > 0)
        serve_throttle_notes(L, c, base);
    while (ev != NULL) {
        rdk_serve_event(L, c, base, ev);
        if (++n >= max_events || rdk_failed(L, c, base) || (stop_at && rdk_now_ms() >= stop_at))
            break;
        ev = rd_kafka_queue_poll(queue, 0);
    }
    return n;
}

/* Starts serving: the arguments are the first nargs slots; pushes the
 * callback table and the error slot and returns the index of the first. */
int rdk_enter(lua_State *L, rdk_client *c, int nargs, const char *what) {
    if (c->busy)
        luaL_error(L, "cannot %s a %s from inside one of its callbacks", what, c->mt);
    lua_settop(L, nargs);
    luaL_checkstack(L, 16, NULL);
    rdk_getuservalue(L, 1);
    lua_pushnil(L);
    c->busy = 1;
    c->outer = serving;
    serving = c;
    /* Notes the last call took after its last event: served first here, so
     * that an on_throttle error stops this call before it takes anything
     * (never after messages were taken or a result was decided). */
    if (c->throttles > 0)
        serve_throttle_notes(L, c, nargs + 1);
    return nargs + 1;
}

/* Ends serving; raises the first error a callback raised. */
void rdk_leave(lua_State *L, rdk_client *c, int base) {
    serving = c->outer;
    c->outer = NULL;
    c->busy = 0;
    if (c->wake_r >= 0) {
        lua_rawgeti(L, base, RDK_PENDING_ERROR);
        rdk_wake_rearm(c, !lua_isnil(L, -1));
        lua_pop(L, 1);
    }
    if (!lua_isnil(L, base + 1)) {
        lua_pushvalue(L, base + 1);
        lua_error(L);
    }
}

/* The producer, consumer or admin handle at idx, or NULL. */
static rdk_client *to_any_client(lua_State *L, int idx) {
    static const char *const mts[] = {RDK_PRODUCER_MT, RDK_CONSUMER_MT, RDK_ADMIN_MT};
    size_t i;
    for (i = 0; i < sizeof mts / sizeof mts[0]; i++) {
        rdk_client *c = (rdk_client *)luaL_testudata(L, idx, mts[i]);
        if (c != NULL)
            return c;
    }
    return NULL;
}

/* The open producer, consumer or admin handle at idx (else an error). */
rdk_client *rdk_check_any_client(lua_State *L, int idx) {
    rdk_client *c = to_any_client(L, idx);
    if (c == NULL)
        luaL_argerror(L, idx, lua_pushfstring(L, "producer, consumer or admin handle expected, got %s",
                                              luaL_typename(L, idx)));
    return rdk_check_client(L, idx, c->mt);
}

int rdk_client_tostring(lua_State *L) {
    rdk_client *c = to_any_client(L, 1);
    if (c == NULL)
        return luaL_argerror(L, 1, "producer, consumer or admin handle expected");
    if (c->rk == NULL) {
        lua_pushfstring(L, "%s (closed)", c->mt);
    } else { /* as name(): client.id holds no secret (conf.c refuses one that does) */
        lua_pushfstring(L, "%s (%s)", c->mt, rd_kafka_name(c->rk));
    }
    return 1;
}

/* core._test_fatal_error(handle, code, reason): librdkafka's own hook that
 * makes a handle fail fatally; for specs only. */
static int test_fatal_error(lua_State *L) {
    rdk_client *c = rdk_check_any_client(L, 1);
    lua_pushinteger(L, rd_kafka_test_fatal_error(c->rk, (rd_kafka_resp_err_t)luaL_checkinteger(L, 2),
                                                 luaL_checkstring(L, 3)));
    return 1;
}

void rdk_open_client(lua_State *L) {
    lua_pushcfunction(L, test_fatal_error);
    lua_setfield(L, -2, "_test_fatal_error");
}

static void push_upvalues(lua_State *L) {
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, serve_event_protected);
    lua_pushcfunction(L, rdk_push_message_protected);
    lua_pushcfunction(L, rdk_push_error_protected);
    lua_pushcfunction(L, rdk_consume_fill_protected);
}

/* The metatable is protected (getmetatable gives false): reaching __gc from
 * Lua would destroy a handle under its own serve loop. */
void rdk_new_class(lua_State *L, const char *mt, const luaL_Reg *methods,
                   const luaL_Reg *metamethods) {
    luaL_newmetatable(L, mt);
    push_upvalues(L);
    luaL_setfuncs(L, metamethods, RDK_UP_COUNT);
    lua_pushstring(L, mt);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_newtable(L);
    push_upvalues(L);
    luaL_setfuncs(L, methods, RDK_UP_COUNT);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* More methods for a class rdk_new_class made (a class spread over files). */
void rdk_add_methods(lua_State *L, const char *mt, const luaL_Reg *methods) {
    luaL_getmetatable(L, mt);
    lua_getfield(L, -1, "__index");
    push_upvalues(L);
    luaL_setfuncs(L, methods, RDK_UP_COUNT);
    lua_pop(L, 2);
}

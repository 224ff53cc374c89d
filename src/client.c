/* What producers and consumers share: handle checks, timeouts, and serving
 * librdkafka events to Lua callbacks on the caller's own thread. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "private.h"

void rdk_client_init(rdk_client *c, const char *mt) {
    int i;
    memset(c, 0, sizeof *c);
    c->mt = mt;
    c->pid = getpid();
    for (i = 0; i < RDK_CB_COUNT; i++)
        c->cb[i] = LUA_NOREF;
    c->pending_error = LUA_NOREF;
}

rdk_client *rdk_check_client(lua_State *L, int idx, const char *mt) {
    rdk_client *c = (rdk_client *)luaL_checkudata(L, idx, mt);
    if (c->rk == NULL)
        luaL_error(L, "attempt to use a closed %s", mt);
    if (c->pid != getpid())
        luaL_error(L,
                   "%s was created in process %d and used in process %d: librdkafka handles "
                   "do not survive fork(); create handles per process (in nginx, in "
                   "init_worker_by_lua*)",
                   mt, (int)c->pid, (int)getpid());
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

long long rdk_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

static void keep_first_error(lua_State *L, rdk_client *c) {
    if (c->pending_error == LUA_NOREF)
        c->pending_error = luaL_ref(L, LUA_REGISTRYINDEX);
    else
        lua_pop(L, 1);
}

/* Calls callback `which` with the nargs values on top of the stack, in
 * protected mode; the first error is kept to be raised once librdkafka is
 * out of the way. */
static void call_callback(lua_State *L, rdk_client *c, int which, int nargs) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base + 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb[which]);
    lua_insert(L, base + 2);
    if (lua_pcall(L, nargs, 0, base + 1) != 0) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushfstring(L, "%s callback failed: %s", rdk_callback_names[which],
                            lua_tostring(L, -1));
            lua_remove(L, -2);
        }
        keep_first_error(L, c);
    }
    lua_settop(L, base);
}

static void serve_delivery(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    const rd_kafka_message_t *rkm;
    while ((rkm = rd_kafka_event_message_next(ev)) != NULL) {
        c->in_flight--;
        if (c->cb[RDK_ON_DELIVERY] != LUA_NOREF) {
            if (rkm->err)
                rdk_push_error(L, rkm->err, NULL, 0);
            else
                lua_pushnil(L);
            rdk_push_message(L, rkm);
            call_callback(L, c, RDK_ON_DELIVERY, 2);
        } else if (rkm->err) {
            /* Never lose a failure silently: on_error, else stderr. */
            const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?";
            lua_pushfstring(L, "delivery to topic '%s' partition %d failed: %s", topic,
                            (int)rkm->partition, rd_kafka_err2str(rkm->err));
            if (c->cb[RDK_ON_ERROR] != LUA_NOREF) {
                rdk_push_error(L, rkm->err, lua_tostring(L, -1), 0);
                lua_remove(L, -2);
                call_callback(L, c, RDK_ON_ERROR, 1);
            } else {
                fprintf(stderr, "rdkafka: %s (set on_delivery to handle this)\n",
                        lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
    }
}

static void serve_error(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    rd_kafka_resp_err_t code = rd_kafka_event_error(ev);
    int fatal = rd_kafka_event_error_is_fatal(ev);
    char buf[512];
    const char *message = rd_kafka_event_error_string(ev);
    if (fatal) {
        code = rd_kafka_fatal_error(c->rk, buf, sizeof buf);
        message = buf;
    }
    if (c->cb[RDK_ON_ERROR] != LUA_NOREF) {
        rdk_push_error(L, code, message, fatal);
        call_callback(L, c, RDK_ON_ERROR, 1);
    } else if (fatal) {
        fprintf(stderr, "rdkafka: fatal error %s: %s (set on_error to handle this)\n",
                rd_kafka_err2name(code), message);
    }
}

static int serve_event_protected(lua_State *L) {
    rdk_client *c = (rdk_client *)lua_touserdata(L, 1);
    rd_kafka_event_t *ev = (rd_kafka_event_t *)lua_touserdata(L, 2);
    const char *fac, *text;
    int level;
    lua_settop(L, 0);
    switch (rd_kafka_event_type(ev)) {
    case RD_KAFKA_EVENT_DR:
        serve_delivery(L, c, ev);
        break;
    case RD_KAFKA_EVENT_ERROR:
        serve_error(L, c, ev);
        break;
    case RD_KAFKA_EVENT_LOG:
        if (c->cb[RDK_ON_LOG] != LUA_NOREF && rd_kafka_event_log(ev, &fac, &text, &level) == 0) {
            lua_pushinteger(L, level);
            lua_pushstring(L, fac);
            lua_pushstring(L, text);
            call_callback(L, c, RDK_ON_LOG, 3);
        }
        break;
    case RD_KAFKA_EVENT_STATS:
        if (c->cb[RDK_ON_STATS] != LUA_NOREF) {
            lua_pushstring(L, rd_kafka_event_stats(ev));
            call_callback(L, c, RDK_ON_STATS, 1);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* Serves one event; the caller destroys it. Even a memory error while
 * building arguments is caught, so the event is never leaked. */
void rdk_serve_event(lua_State *L, rdk_client *c, rd_kafka_event_t *ev) {
    lua_pushcfunction(L, serve_event_protected);
    lua_pushlightuserdata(L, c);
    lua_pushlightuserdata(L, ev);
    if (lua_pcall(L, 2, 0, 0) != 0)
        keep_first_error(L, c);
}

static int serve_queue_protected(lua_State *L) {
    rdk_client *c = (rdk_client *)lua_touserdata(L, 1);
    int timeout_ms = (int)lua_tointeger(L, 2), max_events = (int)lua_tointeger(L, 3);
    int n = 0;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(c->queue, timeout_ms);
    while (ev != NULL) {
        rdk_serve_event(L, c, ev);
        rd_kafka_event_destroy(ev);
        /* While closing, a failed callback must not cost the reports after it. */
        if (++n >= max_events || (c->pending_error != LUA_NOREF && !c->closing))
            break;
        ev = rd_kafka_queue_poll(c->queue, 0);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* Waits up to timeout_ms for a first event, then serves what is ready, at
 * most max_events, stopping early once a callback has failed. Whatever is
 * raised (out of memory), the handle is not left busy. */
int rdk_serve_queue(lua_State *L, rdk_client *c, int timeout_ms, int max_events) {
    int n, status;
    c->busy = 1;
    lua_pushcfunction(L, serve_queue_protected);
    lua_pushlightuserdata(L, c);
    lua_pushinteger(L, timeout_ms);
    lua_pushinteger(L, max_events);
    status = lua_pcall(L, 3, 1, 0);
    c->busy = 0;
    if (status != 0)
        lua_error(L);
    n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return n;
}

void rdk_raise_pending(lua_State *L, rdk_client *c) {
    if (c->pending_error == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->pending_error);
    luaL_unref(L, LUA_REGISTRYINDEX, c->pending_error);
    c->pending_error = LUA_NOREF;
    lua_error(L);
}

/* Drops the callbacks a client holds; the pending error too when nobody
 * will raise it (the collector), else it stays for rdk_raise_pending. */
void rdk_client_release(lua_State *L, rdk_client *c, int drop_pending_error) {
    int i;
    for (i = 0; i < RDK_CB_COUNT; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->cb[i]);
        c->cb[i] = LUA_NOREF;
    }
    if (drop_pending_error) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->pending_error);
        c->pending_error = LUA_NOREF;
    }
}

int rdk_client_tostring(lua_State *L) {
    rdk_client *c = (rdk_client *)luaL_testudata(L, 1, RDK_PRODUCER_MT);
    if (c == NULL)
        c = (rdk_client *)luaL_checkudata(L, 1, RDK_CONSUMER_MT);
    if (c->rk == NULL)
        lua_pushfstring(L, "%s (closed)", c->mt);
    else
        lua_pushfstring(L, "%s (%s)", c->mt, rd_kafka_name(c->rk));
    return 1;
}

void rdk_new_class(lua_State *L, const char *mt, const luaL_Reg *methods,
                   const luaL_Reg *metamethods) {
    luaL_newmetatable(L, mt);
    luaL_setfuncs(L, metamethods, 0);
    lua_pushstring(L, mt);
    lua_setfield(L, -2, "__name");
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* What the Lua service runtime (lua/rdkafka/service.lua) needs from the
 * system and Lua lacks: stop signals, wall-clock milliseconds, and topic
 * patterns matched the way librdkafka matches subscriptions. */
#include <regex.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "private.h"

static volatile sig_atomic_t received;

/* The first SIGINT/SIGTERM asks for a graceful stop; a second one, while
 * the stop is under way, gets the default action (the process ends). */
static void on_signal(int sig) {
    if (received) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    received = sig;
}

/* core.watch_signals(): SIGINT and SIGTERM set a flag instead of ending the
 * process; core.signal_received() reads it. core.unwatch_signals() restores
 * the default actions. A C helper, not luaposix: Debian 12's lua-posix has
 * no build for Lua 5.4. */
static int watch_signals(lua_State *L) {
    struct sigaction sa;
    int watch = lua_toboolean(L, lua_upvalueindex(1));
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = watch ? on_signal : SIG_DFL;
    sa.sa_flags = SA_RESTART;
    received = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return luaL_error(L, "cannot set signal handlers");
    return 0;
}

/* core.signal_received(): "SIGINT" or "SIGTERM" once one came, else nil. */
static int signal_received(lua_State *L) {
    int sig = received;
    if (sig == 0)
        lua_pushnil(L);
    else
        lua_pushstring(L, sig == SIGINT ? "SIGINT" : "SIGTERM");
    return 1;
}

/* core.time_ms(): milliseconds since the epoch (event-time headers). */
static int time_ms(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
    return 1;
}

/* core.regex_match(pattern, s): whether the POSIX extended regular
 * expression matches s (librdkafka's syntax for "^..." subscriptions).
 * Raises on a pattern that does not compile. */
static int regex_match(lua_State *L) {
    const char *pattern = luaL_checkstring(L, 1), *s = luaL_checkstring(L, 2);
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char buf[256];
        regerror(rc, &re, buf, sizeof buf);
        return luaL_error(L, "bad topic pattern '%s': %s", pattern, buf);
    }
    rc = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    lua_pushboolean(L, rc == 0);
    return 1;
}

void rdk_open_runtime(lua_State *L) {
    lua_pushboolean(L, 1);
    lua_pushcclosure(L, watch_signals, 1);
    lua_setfield(L, -2, "watch_signals");
    lua_pushboolean(L, 0);
    lua_pushcclosure(L, watch_signals, 1);
    lua_setfield(L, -2, "unwatch_signals");
    lua_pushcfunction(L, signal_received);
    lua_setfield(L, -2, "signal_received");
    lua_pushcfunction(L, time_ms);
    lua_setfield(L, -2, "time_ms");
    lua_pushcfunction(L, regex_match);
    lua_setfield(L, -2, "regex_match");
}

#define _GNU_SOURCE /* dladdr */
/* The process: its pid, kept without a system call per method call, and the
 * module's code, kept loaded while threads of its own may still run. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "private.h"

pid_t rdk_pid;

/* getpid() is a system call in this glibc: the fork check on every method
 * call read it from here instead, and a child refreshes it. */
static void after_fork_in_child(void) {
    rdk_pid = getpid();
    rdk_shutdown_after_fork();
    rdk_mock_after_fork();
}

static void init_once(void) {
    Dl_info info;
    rdk_pid = getpid();
    pthread_atfork(NULL, NULL, after_fork_in_child);
    /* Shutdown threads may outlive the Lua state that loaded this module
     * (lua_close unloads C modules): keep the code they run mapped. The
     * handle is never closed. */
    if (dladdr((void *)&rdk_pid, &info) && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* core.monotonic(): seconds on a clock that only moves forward, for
 * deadlines (plain Lua has no clock finer than a second). */
static int monotonic(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

void rdk_open_process(lua_State *L) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    lua_pushcfunction(L, monotonic);
    lua_setfield(L, -2, "monotonic");
}

long long rdk_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Threads librdkafka or this module start inherit the signal mask of the
 * thread that starts them: with signals blocked around that, a signal is
 * always delivered to the application's thread (where the service runtime's
 * handler, or the default action, takes it) and never interrupts a
 * librdkafka thread (its mock cluster treats an interrupted
 * poll() as fatal). */
void rdk_signals_block(sigset_t *saved) {
    sigset_t set;
    sigfillset(&set); /* every signal, as librdkafka does for its own threads */
    pthread_sigmask(SIG_BLOCK, &set, saved);
}

void rdk_signals_restore(const sigset_t *saved) { pthread_sigmask(SIG_SETMASK, saved, NULL); }

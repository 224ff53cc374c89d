/* Event loops: h:pollfd() gives a descriptor that is readable whenever the
 * handle may have something for poll or consume, so that a loop (cqueues,
 * luv, select) waits on it instead of polling on a timer.
 *
 * librdkafka writes one byte to a pipe when an event reaches the handle's
 * queue and the queue has not been read since its last write (its "io
 * event"). That alone is not level-triggered: a call that leaves events in
 * the queue (poll takes one message) gets no new byte for them. So after
 * every call that serves the queue (rdk_leave), the pipe is drained and, if
 * anything is left to serve, one byte is written back. Draining comes first
 * and the queue is looked at after it: an event that arrives in between
 * either finds the queue read (and librdkafka writes) or is seen here.
 *
 * Also h:events() and h:timeout(): with pollfd, cqueues' protocol of
 * pollable objects, so that cqueues.poll(handle) waits for the handle. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "private.h"

/***
 * @submodule rdkafka.Consumer
 */

static void drain(int fd) {
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

static void wake(int fd) {
    char b = 1;
    /* The pipe is full only when a thousand wake-ups are unread: nothing lost. */
    if (write(fd, &b, 1) < 0)
        return;
}

/* Whether a call would find something to serve: events in the queue, a
 * rebalance consume held back, or an error it held back (pending, read by
 * the caller from the callback table). */
static int has_work(rdk_client *c, int pending) {
    return pending || c->held != NULL || (c->queue != NULL && rd_kafka_queue_length(c->queue) > 0);
}

void rdk_wake_rearm(rdk_client *c, int pending) {
    if (c->wake_r < 0)
        return;
    drain(c->wake_r);
    if (has_work(c, pending))
        wake(c->wake_w);
}

/* Stops librdkafka's writes (while the queue exists, in the process that
 * made the handle) and closes the pipe: after this, the descriptor number
 * may be reused by anything. */
void rdk_wake_close(rdk_client *c) {
    if (c->wake_r < 0)
        return;
    if (c->queue != NULL && c->pid == rdk_pid)
        rd_kafka_queue_io_event_enable(c->queue, -1, NULL, 0);
    close(c->wake_r);
    close(c->wake_w);
    c->wake_r = c->wake_w = -1;
}

static rdk_client *check_handle(lua_State *L) {
    if (luaL_testudata(L, 1, RDK_PRODUCER_MT) != NULL)
        return rdk_check_client(L, 1, RDK_PRODUCER_MT);
    if (luaL_testudata(L, 1, RDK_CONSUMER_MT) != NULL)
        return rdk_check_client(L, 1, RDK_CONSUMER_MT);
    luaL_argerror(L, 1, lua_pushfstring(L, "rdkafka.Producer or rdkafka.Consumer expected, got %s",
                                        luaL_typename(L, 1)));
    return NULL;
}

static int pending_error(lua_State *L) {
    int pending;
    rdk_getuservalue(L, 1);
    lua_rawgeti(L, -1, RDK_PENDING_ERROR);
    pending = !lua_isnil(L, -1);
    lua_pop(L, 2);
    return pending;
}

/***
 * A descriptor that is readable whenever the handle has something to serve:
 * wait on it, then call `poll` or `consume` with timeout 0 until they return
 * nothing. Made on the first call; stop watching it before `close`, which
 * closes it. Also a method of `rdkafka.Producer`. Raises while the handle
 * closes.
 * @function pollfd
 * @treturn[1] integer the descriptor
 * @treturn[2] nil
 * @treturn[2] rdkafka.Error err `_FAIL` when no pipe could be made
 */
static int handle_pollfd(lua_State *L) {
    rdk_client *c = check_handle(L);
    if (c->closing) /* close is under way: the pipe would outlive it */
        return luaL_error(L, "cannot watch a %s that is closing", c->mt);
    if (c->wake_r < 0) {
        int fds[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
            return rdk_return_error(L, RD_KAFKA_RESP_ERR__FAIL,
                                    lua_pushfstring(L, "pollfd: cannot make a pipe: %s", strerror(errno)));
        c->wake_r = fds[0];
        c->wake_w = fds[1];
        rd_kafka_queue_io_event_enable(c->queue, c->wake_w, "1", 1);
        if (has_work(c, pending_error(L)))
            wake(c->wake_w);
    }
    lua_pushinteger(L, c->wake_r);
    return 1;
}

/***
 * For cqueues' pollable protocol (`cqueues.poll(handle)`): what to wait for
 * on `pollfd`. Also a method of `rdkafka.Producer`.
 * @function events
 * @treturn string `"r"`
 */
static int handle_events(lua_State *L) {
    check_handle(L);
    lua_pushliteral(L, "r");
    return 1;
}

/***
 * For cqueues' pollable protocol: 0 when something is ready to serve, else
 * nil (wait for the descriptor only). Also a method of `rdkafka.Producer`.
 * @function timeout
 * @treturn ?number
 */
static int handle_timeout(lua_State *L) {
    rdk_client *c = check_handle(L);
    if (has_work(c, pending_error(L)))
        lua_pushinteger(L, 0);
    else
        lua_pushnil(L);
    return 1;
}

void rdk_open_wake(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"pollfd", handle_pollfd}, {"events", handle_events}, {"timeout", handle_timeout},
        {NULL, NULL}};
    rdk_add_methods(L, RDK_PRODUCER_MT, methods);
    rdk_add_methods(L, RDK_CONSUMER_MT, methods);
}

/* Shutting a librdkafka handle down can wait on the network: a consumer's
 * close waits for its commits and its LeaveGroup (up to session.timeout.ms
 * when the coordinator is gone), and rd_kafka_destroy() waits for the group
 * to terminate. librdkafka 2.0.2 has no close with a timeout, so that work
 * runs on a thread of its own; the caller waits for it at most until its
 * deadline, and past that the thread finishes alone.
 *
 * The thread is started first (rdk_shutdown_prepare), before the handle is
 * touched, so that a close that cannot get a thread fails and leaves the
 * handle as it was. rdk_shutdown_begin then hands it the work. The caller
 * keeps serving its queues while the thread closes the consumer, then
 * destroys its queue handles and lets the thread destroy the handle
 * (librdkafka wants queues gone before rd_kafka_destroy). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "private.h"

/* At exit, how long to wait for shutdowns still running: librdkafka threads
 * must not run while the process tears its libraries down. */
#define EXIT_WAIT_MS 5000
/* How long a cooperative consumer may wait for its first assignment on its
 * closing thread (rdk_shutdown_await_assignment). */
#define AWAIT_REBALANCE_MS 30000
/* The thread runs librdkafka's close and destroy only. */
#define STACK_SIZE (1024 * 1024)

struct rdk_shutdown {
    pthread_mutex_t lock;
    pthread_cond_t cond;    /* waits on CLOCK_MONOTONIC */
    rd_kafka_t *rk;
    int flags;
    rd_kafka_queue_t *wake; /* yielded once the consumer is closed; NULL when nobody waits */
    int thread;             /* a thread was started and waits for the work */
    int started;            /* the thread has its work */
    int closed;             /* rd_kafka_consumer_close() returned (or was not asked for) */
    int released;           /* the caller destroyed its queues: rk may go */
    int done;               /* rk destroyed */
    int refs;               /* the thread and the caller */
    rd_kafka_resp_err_t close_err;
    rd_kafka_queue_t *await; /* a consumer queue whose first rebalance event comes before the destroy */
    rd_kafka_queue_t *drain; /* a consumer queue emptied before the destroy */
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_cond;
static int running; /* shutdown threads at work */

static void init_cond(pthread_cond_t *cond) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* An absolute CLOCK_MONOTONIC time for pthread_cond_timedwait. */
static void deadline_timespec(long long deadline_ms, struct timespec *ts) {
    if (deadline_ms < 0)
        deadline_ms = 0;
    ts->tv_sec = (time_t)(deadline_ms / 1000);
    ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

static void wait_for_running_at_exit(void) {
    struct timespec ts;
    deadline_timespec(rdk_now_ms() + EXIT_WAIT_MS, &ts);
    pthread_mutex_lock(&running_lock);
    while (running > 0)
        if (pthread_cond_timedwait(&running_cond, &running_lock, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&running_lock);
}

/* At the first shutdown rather than at load, so that it runs before the exit
 * handlers of libraries librdkafka initialised by then (OpenSSL). */
static void init_once(void) {
    init_cond(&running_cond);
    atexit(wait_for_running_at_exit);
}

void rdk_shutdown_after_fork(void) {
    /* The parent's shutdown threads do not exist in the child. */
    pthread_mutex_init(&running_lock, NULL);
    init_cond(&running_cond);
    running = 0;
}

/* core._shutdowns(): how many shutdown threads are at work (for specs:
 * let background closes end before the next spec). */
static int shutdowns(lua_State *L) {
    int n;
    pthread_mutex_lock(&running_lock);
    n = running;
    pthread_mutex_unlock(&running_lock);
    lua_pushinteger(L, n);
    return 1;
}

void rdk_open_shutdown(lua_State *L) {
    lua_pushcfunction(L, shutdowns);
    lua_setfield(L, -2, "_shutdowns");
}

static void unref(rdk_shutdown *s) {
    int last;
    pthread_mutex_lock(&s->lock);
    last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s);
    }
}

/* Allocated with the handle, so that closing it never fails for memory. */
rdk_shutdown *rdk_shutdown_new(void) {
    rdk_shutdown *s = (rdk_shutdown *)calloc(1, sizeof *s);
    if (s != NULL) {
        pthread_mutex_init(&s->lock, NULL);
        init_cond(&s->cond);
        s->refs = 1;
    }
    return s;
}

/* For a handle that is never shut down here (used after fork, or whose
 * creation failed). Only before rdk_shutdown_prepare. */
void rdk_shutdown_free(rdk_shutdown *s) {
    if (s != NULL)
        unref(s);
}

/* The assign or unassign a rebalance event waits for; whether it assigned. */
static int answer_rebalance(rd_kafka_t *rk, rd_kafka_event_t *ev) {
    const rd_kafka_topic_partition_list_t *list = rd_kafka_event_topic_partition_list(ev);
    int assign = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    if (rdk_is_cooperative(rk)) {
        rd_kafka_error_t *error = assign ? rd_kafka_incremental_assign(rk, list)
                                         : rd_kafka_incremental_unassign(rk, list);
        if (error != NULL)
            rd_kafka_error_destroy(error);
    } else {
        rd_kafka_assign(rk, assign ? list : NULL);
    }
    return assign;
}

/* Waits at most AWAIT_REBALANCE_MS for a cooperative consumer's first
 * assignment on its queue, answering each rebalance event (an unanswered
 * one keeps librdkafka 2.0.2's destroy waiting forever, upstream #4527);
 * the other events are dropped, nobody serves them now. Destroys the queue.
 * Returns whether the consumer may be destroyed: assigned, or no longer in
 * its group's cooperative protocol. */
static int await_first_assignment(rd_kafka_t *rk, rd_kafka_queue_t *queue) {
    long long deadline = rdk_now_ms() + AWAIT_REBALANCE_MS;
    int assigned = 0;
    while (!assigned && rdk_now_ms() < deadline) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, 100);
        if (ev != NULL && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            assigned = answer_rebalance(rk, ev);
        if (ev != NULL)
            rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(queue);
    return assigned || !rdk_is_cooperative(rk);
}

/* A collected consumer's queue, emptied before the destroy: the rebalance
 * events in it answered (an unanswered cooperative assignment keeps
 * librdkafka 2.0.2's destroy waiting forever, upstream #4527), the rest
 * dropped (messages never returned are not committed either). */
static void drain_queue(rd_kafka_t *rk, rd_kafka_queue_t *queue) {
    rd_kafka_event_t *ev;
    while ((ev = rd_kafka_queue_poll(queue, 0)) != NULL) {
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
            answer_rebalance(rk, ev);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(queue);
}

/* Hands the thread a cooperative consumer's queue: before the destroy, it
 * waits for the consumer's first assignment there (rdk_cooperative_unsynced),
 * and leaves the handle undestroyed when it never comes. After
 * rdk_shutdown_prepare succeeded, before rdk_shutdown_begin. */
void rdk_shutdown_await_assignment(rdk_shutdown *s, rd_kafka_queue_t *queue) { s->await = queue; }

/* Hands the thread a collected consumer's queue, emptied before the destroy
 * (drain_queue); destroyed in place without a thread. Before
 * rdk_shutdown_begin. */
void rdk_shutdown_drain(rdk_shutdown *s, rd_kafka_t *rk, rd_kafka_queue_t *queue) {
    if (s->thread)
        s->drain = queue;
    else
        drain_queue(rk, queue);
}

static void *shutdown_thread(void *arg) {
    rdk_shutdown *s = (rdk_shutdown *)arg;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    pthread_mutex_lock(&s->lock);
    while (!s->started)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);

    if (s->flags & RDK_SHUTDOWN_CONSUMER_CLOSE)
        err = rd_kafka_consumer_close(s->rk);
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    s->close_err = err;
    if (s->wake != NULL)
        rd_kafka_queue_yield(s->wake);
    pthread_cond_broadcast(&s->cond);
    while (!s->released)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);

    if (s->drain != NULL)
        drain_queue(s->rk, s->drain);
    if (s->await != NULL && !await_first_assignment(s->rk, s->await))
        fprintf(stderr, "rdkafka: a cooperative-sticky consumer that joined its group never got its first "
                        "assignment: left undestroyed (librdkafka before 2.3.0 aborts when destroying it)\n");
    else
        rd_kafka_destroy_flags(s->rk, s->flags & ~RDK_SHUTDOWN_CONSUMER_CLOSE);

    pthread_mutex_lock(&s->lock);
    s->done = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    unref(s);
    pthread_mutex_lock(&running_lock);
    running--;
    pthread_cond_broadcast(&running_cond);
    pthread_mutex_unlock(&running_lock);
    return NULL;
}

/* Starts the thread that will shut the handle down; it waits for
 * rdk_shutdown_begin. Returns 0, or the error of pthread_create (nothing
 * else changed then). */
int rdk_shutdown_prepare(rdk_shutdown *s) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t saved;
    int err;
    pthread_once(&once, init_once);
    if ((err = pthread_attr_init(&attr)) != 0)
        return err;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, STACK_SIZE);
    s->refs = 2;
    rdk_signals_block(&saved);
    err = pthread_create(&thread, &attr, shutdown_thread, s);
    rdk_signals_restore(&saved);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        s->refs = 1;
        return err;
    }
    s->thread = 1;
    return 0;
}

/* Hands rk to the thread: rd_kafka_consumer_close() first when flags has
 * RDK_SHUTDOWN_CONSUMER_CLOSE (wake is then yielded when it returns), then,
 * once rdk_shutdown_finish is called, rd_kafka_destroy_flags(rk, flags).
 * Without a prepared thread the work is done in place, unbounded: only the
 * collector does that, when no thread could be started. */
void rdk_shutdown_begin(rdk_shutdown *s, rd_kafka_t *rk, int flags, rd_kafka_queue_t *wake) {
    if (s->thread) {
        /* Counted for the exit wait from now on: a thread still waiting for
         * its work runs no librdkafka code. */
        pthread_mutex_lock(&running_lock);
        running++;
        pthread_mutex_unlock(&running_lock);
    }
    pthread_mutex_lock(&s->lock);
    s->rk = rk;
    s->flags = flags;
    s->wake = wake;
    s->started = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (!s->thread) {
        if (flags & RDK_SHUTDOWN_CONSUMER_CLOSE)
            s->close_err = rd_kafka_consumer_close(rk);
        s->closed = 1;
    }
}

/* Whether the consumer close has returned; its error in *err. */
int rdk_shutdown_closed(rdk_shutdown *s, rd_kafka_resp_err_t *err) {
    int closed;
    pthread_mutex_lock(&s->lock);
    closed = s->closed;
    if (err != NULL)
        *err = s->close_err;
    pthread_mutex_unlock(&s->lock);
    return closed;
}

/* Destroys the caller's queue handles (librdkafka wants them gone before
 * rd_kafka_destroy), lets rk be destroyed, waits for that until deadline_ms
 * at most, and lets go of s. Returns whether rk was destroyed in time. */
int rdk_shutdown_finish(rdk_shutdown *s, long long deadline_ms, rd_kafka_queue_t **queues, int n) {
    struct timespec ts;
    int done, i;
    pthread_mutex_lock(&s->lock);
    s->wake = NULL; /* the thread yields it no more: it can go */
    pthread_mutex_unlock(&s->lock);
    for (i = 0; i < n; i++)
        if (queues[i] != NULL)
            rd_kafka_queue_destroy(queues[i]);
    if (!s->thread) {
        rd_kafka_destroy_flags(s->rk, s->flags & ~RDK_SHUTDOWN_CONSUMER_CLOSE);
        unref(s);
        return 1;
    }
    deadline_timespec(deadline_ms, &ts);
    pthread_mutex_lock(&s->lock);
    s->released = 1;
    pthread_cond_broadcast(&s->cond);
    while (!s->done)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
            break;
    done = s->done;
    pthread_mutex_unlock(&s->lock);
    unref(s);
    return done;
}

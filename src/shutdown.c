/* Shutting a librdkafka handle down can wait on the network: a consumer's
 * close waits for its commits and its LeaveGroup (up to session.timeout.ms
 * when the coordinator is gone), and rd_kafka_destroy() waits for the group
 * to terminate. librdkafka 2.0.2 has no close with a timeout, so that work
 * runs on a thread of its own; the caller waits for it at most until its
 * deadline, and past that the thread finishes alone.
 *
 * The caller keeps serving its queues while the thread closes the consumer,
 * then destroys its queue handles and lets the thread destroy the handle
 * (librdkafka wants queues gone before rd_kafka_destroy). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "private.h"

/* At exit, how long to wait for shutdowns still running: librdkafka threads
 * must not run while the process tears its libraries down. */
#define EXIT_WAIT_MS 5000

struct rdk_shutdown {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rd_kafka_t *rk;
    int flags;
    rd_kafka_queue_t *wake; /* yielded once the consumer is closed; NULL when nobody waits */
    int closed;             /* rd_kafka_consumer_close() returned (or was not asked for) */
    int released;           /* the caller destroyed its queues: rk may go */
    int done;               /* rk destroyed */
    int refs;               /* the thread and the caller */
    int in_place;           /* no thread could be started: the caller does the work */
    rd_kafka_resp_err_t close_err;
};

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t running_cond = PTHREAD_COND_INITIALIZER;
static int running;

static void deadline_timespec(long long deadline_ms, struct timespec *ts) {
    struct timespec now;
    long long left = deadline_ms - rdk_now_ms();
    clock_gettime(CLOCK_REALTIME, &now);
    if (left < 0)
        left = 0;
    ts->tv_sec = now.tv_sec + (time_t)(left / 1000);
    ts->tv_nsec = now.tv_nsec + (long)(left % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
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

/* Registered at the first shutdown rather than at load, so that it runs
 * before the exit handlers of libraries librdkafka initialised (OpenSSL). */
static void register_exit_wait(void) { atexit(wait_for_running_at_exit); }

void rdk_shutdown_after_fork(void) {
    /* The parent's shutdown threads do not exist in the child. */
    pthread_mutex_init(&running_lock, NULL);
    pthread_cond_init(&running_cond, NULL);
    running = 0;
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

static void *shutdown_thread(void *arg) {
    rdk_shutdown *s = (rdk_shutdown *)arg;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
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

/* Allocated with the handle, so that closing it never fails for memory. */
rdk_shutdown *rdk_shutdown_new(void) {
    rdk_shutdown *s = (rdk_shutdown *)calloc(1, sizeof *s);
    if (s != NULL) {
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        s->refs = 1;
    }
    return s;
}

/* For a handle that is never shut down here (used after fork). */
void rdk_shutdown_free(rdk_shutdown *s) {
    if (s != NULL)
        unref(s);
}

/* Starts shutting rk down: rd_kafka_consumer_close() first when flags has
 * RDK_SHUTDOWN_CONSUMER_CLOSE (wake is then yielded when it returns), then,
 * once rdk_shutdown_finish is called, rd_kafka_destroy_flags(rk, flags).
 * Without a thread (none could be created) the work is done in place. */
void rdk_shutdown_begin(rdk_shutdown *s, rd_kafka_t *rk, int flags, rd_kafka_queue_t *wake) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_attr_t attr;
    pthread_t thread;
    int started = 0;
    pthread_once(&once, register_exit_wait);
    s->rk = rk;
    s->flags = flags;
    s->wake = wake;
    s->refs = 2;
    pthread_mutex_lock(&running_lock);
    running++;
    pthread_mutex_unlock(&running_lock);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&thread, &attr, shutdown_thread, s) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!started) {
        s->in_place = 1;
        s->refs = 1;
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
    if (s->in_place) {
        rd_kafka_destroy_flags(s->rk, s->flags & ~RDK_SHUTDOWN_CONSUMER_CLOSE);
        unref(s);
        pthread_mutex_lock(&running_lock);
        running--;
        pthread_mutex_unlock(&running_lock);
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

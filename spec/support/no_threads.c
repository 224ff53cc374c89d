/* Test helper, preloaded into a child process: pthread_create() fails with
 * EAGAIN when called from rdkafka's core module (librdkafka's own threads
 * still start), as under a process or memory limit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

__attribute__((visibility("default"))) int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                                          void *(*start)(void *), void *arg) {
    static create_fn real;
    Dl_info info;
    if (dladdr(__builtin_return_address(0), &info) && info.dli_fname != NULL &&
        strstr(info.dli_fname, "rdkafka/core.so") != NULL)
        return EAGAIN;
    if (real == NULL)
        real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    return real(thread, attr, start, arg);
}

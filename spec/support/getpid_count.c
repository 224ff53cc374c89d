/* Test helper, preloaded into a child process: counts calls to getpid() and
 * prints the count to stderr at exit ("getpid calls: N"). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;

__attribute__((visibility("default"))) pid_t getpid(void) {
    __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
    return (pid_t)syscall(SYS_getpid);
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "getpid calls: %ld\n", __atomic_load_n(&calls, __ATOMIC_RELAXED));
}

// The daemon's memory policy, applied before any thread starts (docs/PERFORMANCE.md).
//
// glibc gives each thread that allocates concurrently its own malloc arena (up to
// eight per core) and keeps freed memory in each. `c4csr serve` runs event loops, a
// blocking pool and verification workers; each arena they make keeps a few megabytes
// after a catch-up. One arena takes a 100,000-entry catch-up's peak resident memory
// from 101-108 MB to 87-89 MB, for about 13 % more wall time (the threads wait on the
// arena's lock; docs/PERFORMANCE.md). It must be set before the first other thread allocates: the
// arenas made before the limit stay, and Swift's async entry point already runs on a
// worker thread, so this is a load-time constructor rather than Swift code.
#define _GNU_SOURCE
#include "c4csr_memory_policy.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int c4csr_limit_malloc_arenas(int arenas) {
    if (getenv("MALLOC_ARENA_MAX") != NULL) return 0;
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    return mallopt(M_ARENA_MAX, arenas) == 1 ? 1 : -1;
#else
    (void)arenas;
    return -1;
#endif
}

static int policy_at_start = 2;

int c4csr_memory_policy_at_start(void) { return policy_at_start; }

/// Whether this process is `c4csr serve`: its first argument, from /proc/self/cmdline
/// (a constructor runs before Swift sees the arguments).
static int is_daemon(void) {
    char buf[256];
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    size_t first = strlen(buf);
    if ((ssize_t)first + 1 >= n) return 0;
    return strcmp(buf + first + 1, "serve") == 0;
}

__attribute__((constructor)) static void c4csr_memory_policy(void) {
    if (is_daemon()) policy_at_start = c4csr_limit_malloc_arenas(1);
}

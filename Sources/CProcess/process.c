// Process lifetime helpers for the demo's daemons.
#include "c4csr_process.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int watched_parent;
static int signal_on_exit;

static void *watch_parent(void *unused) {
    (void)unused;
    const struct timespec pause = {0, 200 * 1000 * 1000};
    while (getppid() == watched_parent) nanosleep(&pause, NULL);
    kill(getpid(), signal_on_exit);
    return NULL;
}

int c4csr_die_with_parent(int sig, int expected_parent) {
    if (expected_parent <= 1) return -1;
    if (getppid() != expected_parent) return 1;
    watched_parent = expected_parent;
    signal_on_exit = sig;
    pthread_attr_t attributes;
    pthread_t thread;
    if (pthread_attr_init(&attributes) != 0) return -1;
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attributes, 64 * 1024);
    int failed = pthread_create(&thread, &attributes, watch_parent, NULL);
    pthread_attr_destroy(&attributes);
    return failed ? -1 : 0;
}

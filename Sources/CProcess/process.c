// Process lifetime helpers that Swift cannot call directly (prctl is variadic).
#include "c4csr_process.h"

#include <signal.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

int c4csr_die_with_parent(int sig, int expected_parent) {
#if defined(__linux__)
    if (prctl(PR_SET_PDEATHSIG, sig) != 0) return -1;
    if (expected_parent > 0 && getppid() != expected_parent) return 1;
    return 0;
#else
    (void)sig;
    (void)expected_parent;
    return -1;
#endif
}

#ifndef C4CSR_PROCESS_H
#define C4CSR_PROCESS_H

/// Asks the kernel to send `sig` to this process when its parent dies (Linux
/// PR_SET_PDEATHSIG), so that a daemon started by `c4csr demo` never outlives the demo,
/// even one killed with SIGKILL. `expected_parent` closes the race where the parent died
/// before the call. Returns 0 when set, 1 when the parent is already gone (exit now),
/// -1 when the kernel refused (or on a system without it).
int c4csr_die_with_parent(int sig, int expected_parent);

#endif

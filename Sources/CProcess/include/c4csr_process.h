#ifndef C4CSR_PROCESS_H
#define C4CSR_PROCESS_H

/// Sends `sig` to this process once its parent process `expected_parent` is gone, so that
/// a daemon started by `c4csr demo` never outlives the demo, even one killed with SIGKILL.
/// A detached thread watches the parent (getppid() changes when the parent dies and this
/// process is re-parented), every 200 ms. Not PR_SET_PDEATHSIG: that fires when the
/// parent *thread* that started this process exits, and the demo's threads come and go.
/// Returns 0 when watching, 1 when the parent is already gone (exit now), -1 when no
/// thread could be started or `expected_parent` is not a pid.
int c4csr_die_with_parent(int sig, int expected_parent);

#endif

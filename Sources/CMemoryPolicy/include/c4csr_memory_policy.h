#ifndef C4CSR_MEMORY_POLICY_H
#define C4CSR_MEMORY_POLICY_H

/// Limits glibc's malloc arenas to `arenas`, unless the operator set MALLOC_ARENA_MAX
/// (glibc then honours theirs). Returns 1 if the C library took the setting, 0 if the
/// operator's setting stands, -1 if the C library refused it or lacks mallopt.
int c4csr_limit_malloc_arenas(int arenas);

/// What the process did at load time: 1 arenas limited (the process is `c4csr serve`),
/// 0 MALLOC_ARENA_MAX set by the operator, -1 refused, 2 not the daemon (no change).
int c4csr_memory_policy_at_start(void);

#endif

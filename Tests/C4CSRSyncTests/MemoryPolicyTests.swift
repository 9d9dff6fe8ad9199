import CMemoryPolicy
import Foundation
import Testing

/// The daemon limits glibc's malloc arenas at load time (docs/PERFORMANCE.md, memory):
/// the setting must reach the C library, an operator's MALLOC_ARENA_MAX must win over
/// it, and only `c4csr serve` is changed.
@Suite(.serialized) struct MemoryPolicyTests {
    @Test func theArenaLimitReachesTheCLibrary() {
        // A limit far above what the test process uses: accepted, and harmless here.
        #expect(c4csr_limit_malloc_arenas(64) == 1)
    }

    @Test func anOperatorsSettingWins() {
        setenv("MALLOC_ARENA_MAX", "4", 1)
        defer { unsetenv("MALLOC_ARENA_MAX") }
        #expect(c4csr_limit_malloc_arenas(1) == 0)
    }

    @Test func onlyTheDaemonIsChanged() {
        // This process is the test runner, not `c4csr serve`.
        #expect(c4csr_memory_policy_at_start() == 2)
    }
}

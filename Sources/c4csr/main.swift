import C4CSRCommands
// Linked for its load-time constructor: `c4csr serve` limits malloc arenas before any
// thread starts (Sources/CMemoryPolicy, docs/PERFORMANCE.md).
import CMemoryPolicy

await C4CSR.start()

import C4CSRCommands
import Glibc
// Linked for its load-time constructor: `c4csr serve` limits malloc arenas before any
// thread starts (Sources/CMemoryPolicy, docs/PERFORMANCE.md).
import CMemoryPolicy

// `--version` before the first `await`: no runtime threads for a one-line answer.
if C4CSR.answeredWithoutRunning() { exit(0) }
await C4CSR.start()

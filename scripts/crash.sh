#!/usr/bin/env bash
# The long run of the crash suite: SIGKILL `c4csr serve` during pushes and `c4csr add`
# while it writes, CYCLES times each, checking after every kill that the store opens,
# audits clean and holds everything that was acknowledged (docs/RELIABILITY.md §2).
#
#   scripts/crash.sh [CYCLES]     (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
export C4CSR_CRASH_CYCLES=${1:-300}
export C4CSR_TIME_LIMIT_MINUTES=${C4CSR_TIME_LIMIT_MINUTES:-1440}
scripts/install-deps.sh >&2
echo "crash: $C4CSR_CRASH_CYCLES SIGKILLs of c4csr serve during pushes, and as many of c4csr add (plus the import kills)" >&2
swift test --filter "CrashSuiteTests|CrashTests" 2>&1 | grep -E "crash suite|crash|recorded|✘|✔ Test|error"

#!/usr/bin/env bash
# The main job: `c4csr demo` (ten cities as daemons on loopback, a partial mesh,
# practices, adoptions, a conflict, convergence, audits), then an independent check
# of the network log the cities agreed on, by a Python verifier written from
# docs/PROTOCOL.md alone.
#
#   scripts/demo.sh            (make demo builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${C4CSR_BIN:-.build/release/c4csr}
[ -x "$BIN" ] || { echo "demo: $BIN not found; run 'make demo' (it builds it)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$BIN" demo --dir "$WORK/cities"

printf '\n== Independent verification of the network log (Python, from docs/PROTOCOL.md only)\n'
"$BIN" export --data-dir "$WORK/cities/nantes" --output "$WORK/network.jsonl"
digest=$("$BIN" heads --data-dir "$WORK/cities/milano" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
python3 scripts/verify_export.py "$WORK/network.jsonl" --cards "$WORK/cities/nantes/peers" --cards "$WORK/cities/nantes" \
  --expect-digest "$digest"

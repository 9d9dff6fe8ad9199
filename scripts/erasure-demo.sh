#!/usr/bin/env bash
# An erasure across three cities on loopback (issue 13; docs/PRIVACY.md): Sofia, Milano
# and Nantes each run their daemon on 127.0.0.1. Sofia publishes a practice whose
# contact is sealed; the entry and its content reach the other two; Sofia erases the
# contact; each city deletes it, writes its signed confirmation, and `c4csr status` in
# every city shows the erasure confirmed by every member. Then no byte of the contact is
# left in any city's store or write-ahead log, and every audit is clean.
#
#   scripts/erasure-demo.sh [--keep]      (needs .build/release/c4csr: `make release`)
#
# Bounded in time (each wait 60 s at most); stops the daemons it starts, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${C4CSR_BIN:-.build/release/c4csr}
[ -x "$BIN" ] || { echo "erasure-demo: $BIN not found; run 'make release'" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-erasure.XXXXXX")
KEEP=${1:-}
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$KEEP" = "--keep" ]; then echo "kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
CITIES=(sofia milano nantes)
CONTACT="Мария Петрова, +359 2 000 0000"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
c4() { local city=$1; shift; "$BIN" "$@" --data-dir "$WORK/$city"; }
# Waits until "$@" succeeds, at most 60 s; names what it waited for if it never does.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "erasure-demo: FAILED: $what within 60 s (logs: $WORK/*/serve.log)" >&2
  for c in "${CITIES[@]}"; do echo "--- $c"; tail -5 "$WORK/$c/serve.log" >&2; done
  exit 1
}
holds_contact() { c4 "$1" show "$2" | grep -q "Мария Петрова"; }
confirmed_everywhere() {
  for c in "${CITIES[@]}"; do c4 "$c" status --without-daemon | grep -q "confirmed by every member" || return 1; done
}

say "Three cities, each with its daemon on loopback"
# Each daemon binds a port of the kernel's choosing (a port picked beforehand could be
# taken by another program before the daemon binds it); the cards then carry it.
for city in "${CITIES[@]}"; do
  "$BIN" init --data-dir "$WORK/$city" --from-card "Peers/$city.toml" --endpoint "https://127.0.0.1:1" >/dev/null 2>&1
  "$BIN" serve --data-dir "$WORK/$city" --listen 127.0.0.1:0 --interval 2s >"$WORK/$city/serve.log" 2>&1 &
  PIDS+=($!)
done
for city in "${CITIES[@]}"; do wait_for "the daemon of $city listening" grep -q '"port"' "$WORK/$city/serve.json"; done
for i in "${!CITIES[@]}"; do
  city=${CITIES[$i]}
  port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$WORK/$city/serve.json")
  sed -i "s|^endpoint = .*|endpoint = \"https://127.0.0.1:$port\"|" "$WORK/$city/city.toml"
  echo "  $city  https://127.0.0.1:$port  (pid ${PIDS[$i]})"
done
for a in "${CITIES[@]}"; do for b in "${CITIES[@]}"; do
  [ "$a" = "$b" ] || c4 "$a" peers add "$WORK/$b/city.toml" >/dev/null
done; done
for pid in "${PIDS[@]}"; do kill -HUP "$pid"; done  # each daemon reads the cards again

say "Sofia publishes a practice; its contact is sealed (the log signs a salted commitment)"
ID=$(c4 sofia add --json --title "Наставници от фирми" --title-en "Company mentors" \
  --summary "Служители на фирми менторират ученици." --summary-en "Company staff mentor pupils." \
  --challenge "Ранно напускане на училище" --theme education --sdg 4 --contact "$CONTACT" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["practice"])')
echo "  sofia published ${ID:0:12}"
for city in milano nantes; do
  wait_for "$city holding the contact" holds_contact "$city" "${ID:0:12}"
  echo "  $city holds it: $(c4 "$city" show "${ID:0:12}" | grep -m1 -i contact | sed 's/^ *//')"
done

say "A data subject asks Sofia to erase the contact"
c4 sofia erase "${ID:0:12}" --field contact --reason "Request DPO-2026-14"
wait_for "every city confirming the erasure" confirmed_everywhere
for city in "${CITIES[@]}"; do
  echo "  $city: $(c4 "$city" status --without-daemon | grep '^erasure')"
done

say "What is left: no byte of the contact in any store or WAL; audits clean, digests equal"
for city in "${CITIES[@]}"; do
  if cat "$WORK/$city"/store.sqlite* | grep -a -q "Петрова"; then
    echo "erasure-demo: FAILED: $city still holds bytes of the contact" >&2
    exit 1
  fi
  c4 "$city" show "${ID:0:12}" | grep -m1 -i contact | sed "s/^ */  $city: /"
  c4 "$city" audit | tail -1 | sed "s/^/  $city: /"
done
digests=$(for city in "${CITIES[@]}"; do c4 "$city" heads --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])'; done | sort -u | wc -l)
[ "$digests" = 1 ] || { echo "erasure-demo: FAILED: $digests different digests" >&2; exit 1; }
echo
echo "Erased in three cities, confirmed by each, one network digest."

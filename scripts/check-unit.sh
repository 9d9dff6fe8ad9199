#!/usr/bin/env bash
# Checks systemd/c4csr.service: `systemd-analyze verify` must print nothing (it exits 0
# on unknown keys, only warning), and `systemd-analyze security --offline=true` must
# rate the unit's exposure 1.2 or lower.
#
#   scripts/check-unit.sh BINARY     (BINARY: the built c4csr, which ExecStart must name)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$(realpath "${1:?usage: scripts/check-unit.sh BINARY}")
max=${C4CSR_MAX_EXPOSURE:-1.2}
command -v systemd-analyze >/dev/null || { echo "check-unit: systemd-analyze is missing (apt-get install systemd)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify insists that ExecStart names an existing executable: point it at the build.
sed "s|/usr/local/bin/c4csr|$binary|g" systemd/c4csr.service > "$work/c4csr.service"

out=$(systemd-analyze verify "$work/c4csr.service" 2>&1) || { echo "$out"; echo "check-unit: systemd-analyze verify failed" >&2; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  echo "check-unit: systemd-analyze verify reported the above" >&2
  exit 1
fi
echo "check-unit: systemd-analyze verify: clean"

report=$(systemd-analyze security --offline=true "$work/c4csr.service" 2>&1 || true)
exposure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for c4csr.service: \([0-9.]*\).*/\1/p')
[ -n "$exposure" ] || { echo "$report"; echo "check-unit: could not read the exposure level" >&2; exit 1; }
if awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e > m) }'; then
  printf '%s\n' "$report" | grep '✗' || true
  echo "check-unit: exposure $exposure is above $max" >&2
  exit 1
fi
echo "check-unit: systemd-analyze security: exposure $exposure (limit $max)"

#!/usr/bin/env bash
# Installs the system packages c4csr needs to build, test and run its demo on
# Debian or Ubuntu (the Swift toolchain itself is assumed to be installed).
# Safe to run again: it installs only what is missing.
#
#   scripts/install-deps.sh        build, test, demo
#   scripts/install-deps.sh deb    and what `make deb` needs (dpkg-dev, fakeroot, lintian)
#   scripts/install-deps.sh vm     and what `make vm-test` needs (mmdebstrap, qemu, e2fsprogs)
#   scripts/install-deps.sh browser and what `make browser-test` needs (Chromium, its driver, Selenium)
set -euo pipefail

packages=(libsqlite3-dev libcurl4-openssl-dev sqlite3 openssl python3 ca-certificates systemd)
case "${1:-}" in
  deb) packages+=(dpkg-dev fakeroot lintian file binutils) ;;
  vm) packages+=(mmdebstrap qemu-system-x86 qemu-utils e2fsprogs debian-archive-keyring) ;;
  browser) packages+=(chromium chromium-driver python3-selenium) ;;
  "") ;;
  *) echo "usage: scripts/install-deps.sh [deb|vm|browser]" >&2; exit 64 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The independent verifier (scripts/verify_export.py) needs Python's `cryptography`.
if ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "install-deps: installing Python's cryptography"
  python3 -m pip install --quiet cryptography 2>/dev/null \
    || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-cryptography
fi
command -v swift >/dev/null || { echo "install-deps: the Swift toolchain (swift) is not on PATH" >&2; exit 1; }

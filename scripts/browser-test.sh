#!/usr/bin/env bash
# The portal in a real browser: the demo network (ten cities), then one city's daemon
# serving the portal on loopback, then scripts/browser_test.py in headless Chromium.
# Screenshots go to artifacts/browser/. Bounded in time; stops what it starts by PID.
#
#   scripts/browser-test.sh        (needs .build/release/c4csr: `make release`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${C4CSR_BIN:-.build/release/c4csr}
[ -x "$BIN" ] || { echo "browser-test: $BIN not found; run 'make release'" >&2; exit 1; }
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$tool" ] || { echo "browser-test: $tool missing; apt-get install chromium chromium-driver python3-selenium" >&2; exit 1; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-browser.XXXXXX")
PID=
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

echo "== The demo network"
timeout 300 "$BIN" demo --dir "$WORK/cities" --samples 1 > "$WORK/demo.log" || { tail -20 "$WORK/demo.log"; exit 1; }
tail -1 "$WORK/demo.log"

echo "== Sofia's daemon serves the portal on loopback"
"$BIN" serve --data-dir "$WORK/cities/sofia" --listen 127.0.0.1:0 --web-listen 127.0.0.1:0 --interval 1h \
  > "$WORK/serve.log" 2>&1 &
PID=$!
port=
for _ in $(seq 1 300); do
  port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("web_port",""))' "$WORK/cities/sofia/serve.json" 2>/dev/null || true)
  [ -n "$port" ] && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "browser-test: the portal did not start" >&2; cat "$WORK/serve.log"; exit 1; }
echo "  http://127.0.0.1:$port/"

echo "== In headless Chromium"
rm -rf artifacts/browser
# Debian's python3, which has Debian's Selenium (another python3 may come first on PATH).
timeout 300 /usr/bin/python3 scripts/browser_test.py "http://127.0.0.1:$port" --out artifacts/browser

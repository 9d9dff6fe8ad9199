#!/usr/bin/env bash
# c4csr benchmarks, measured side by side in one run on release builds, each figure
# with the ceiling it is divided by. docs/PERFORMANCE.md records the last run.
#
#   scripts/bench.sh [--quick] [--only whole|portal|officers] [--work DIR]
#
#   --quick      skip the 1,000,000-entry measurements (a few minutes instead of ~20)
#   --only whole only the whole-process figures (section 7: start, `sync` with one or no
#                new entry, a new city's first sync against `git clone` over HTTPS)
#   --only portal only the web portal's page times at 100,000 practices (section 8)
#   --only officers  import and audit of 100,000 entries every one written by an officer
#                (two signatures each) against the same log without officers (section 9)
#   --work DIR   keep generated logs and stores in DIR and reuse them (default: a
#                temporary directory, removed at the end)
#
# Installs what it needs (hyperfine, the build dependencies). Prints a Markdown table
# to standard output and the raw figures, one JSON object per line, to
# $WORK/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

QUICK=0
ONLY=""
WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift; [ "$ONLY" = whole ] || [ "$ONLY" = portal ] || [ "$ONLY" = officers ] || { echo "bench: --only takes: whole, portal, officers" >&2; exit 64; } ;;
    --work) WORK=$2; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--only whole|portal|officers] [--work DIR]" >&2; exit 64 ;;
  esac
  shift
done
KEEP=1
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-bench.XXXXXX"); KEEP=0; fi
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

scripts/install-deps.sh >&2
sudo_apt() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
command -v hyperfine >/dev/null || sudo_apt apt-get install -y -qq hyperfine >&2
# git's side of the comparison: a real web server with TLS.
# Installing it must not start Debian's own nginx service: policy-rc.d says no meanwhile.
if ! { command -v git >/dev/null && [ -x /usr/sbin/nginx ]; }; then
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    sudo_apt sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d'
    sudo_apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git nginx-light >&2 || true
    sudo_apt rm -f /usr/sbin/policy-rc.d
  else
    sudo_apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git nginx-light >&2
  fi
  [ -x /usr/sbin/nginx ] || { echo "bench: needs nginx (apt-get install nginx-light)" >&2; exit 1; }
fi
echo "bench: building release binaries" >&2
swift build -c release --static-swift-stdlib --product c4csr >&2
swift build -c release --static-swift-stdlib --product c4csr-bench >&2
BIN=$REPO/.build/release/c4csr
BENCH=$REPO/.build/release/c4csr-bench
export C4CSR_CONFIG=""   # never the machine's /etc/c4csr
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
record() { echo "$1" >> "$RESULTS"; echo "bench: $1" >&2; }
now() { date +%s.%N; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
entries_of() { "$BIN" heads --data-dir "$1" --json | json '["entries"]'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }  # user + system seconds

# A city in $WORK/NAME with the synthetic origins' cards, from an export of N entries.
logfile() {  # N → path of a generated export of N entries from 10 origins
  local n=$1 f="$WORK/log-$1.jsonl"
  [ -s "$f" ] || python3 scripts/gen_log.py "$f" --entries "$n" --cities 10 --cards "$WORK/cards" >&2
  echo "$f"
}
mkcity() {  # NAME PORT
  rm -rf "${WORK:?}/$1"
  "$BIN" init --data-dir "$WORK/$1" --city "$1" --name "$1" --country EU --language en --endpoint "https://127.0.0.1:$2" >/dev/null 2>&1
  cp "$WORK"/cards/*.toml "$WORK/$1/peers/"
}
introduce() { cp "$WORK/$1/city.toml" "$WORK/$2/peers/$1.toml"; cp "$WORK/$2/city.toml" "$WORK/$1/peers/$2.toml"; }
serve() {  # NAME [args…]: starts a daemon, waits until it listens; its pid in $SERVED
  local name=$1; shift
  rm -f "$WORK/$name/serve.json"
  "$BIN" serve --data-dir "$WORK/$name" --log-level warning "$@" >/dev/null 2>>"$WORK/$name.log" &
  SERVED=$!
  PIDS+=("$SERVED")
  for _ in $(seq 1 200); do [ -s "$WORK/$name/serve.json" ] && break; sleep 0.05; done
}
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
timed() {  # MEASURE N COMMAND…: runs the command, records its wall time for N entries
  local measure=$1 n=$2; shift 2
  local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
  record "{\"measure\":\"$measure\",\"entries\":$n,\"seconds\":$(python3 -c "print(round($t1 - $t0, 3))")}"
}
import_and_audit() {  # CITY N LOGFILE: an empty city imports the export, then audits it
  timed import "$2" "$BIN" import "$3" --data-dir "$WORK/$1"
  timed audit "$2" "$BIN" audit --data-dir "$WORK/$1"
}

VERIFY_ALL=0
if [ -z "$ONLY" ]; then
L100K=$(logfile 100000)
# --- 1. Ceilings ----------------------------------------------------------------
echo "bench: ceilings" >&2
"$BENCH" ceilings --seconds 3 | while read -r line; do record "$line"; done
VERIFY_ALL=$(grep '"ed25519_verify"' "$RESULTS" | json '["per_second_all_cores"]')

# --- 2. Import of a 100,000-entry export, audit, search, add --------------------
mkcity alpha 17711
import_and_audit alpha 100000 "$L100K"
hyperfine -N --warmup 2 --runs 20 --export-json "$WORK/search.json" "$BIN search --data-dir $WORK/alpha --limit 20 kopiena zaļā" >&2
record "{\"measure\":\"search\",\"practices\":100000,\"mean_ms\":$(json '["results"][0]["mean"]*1000' < "$WORK/search.json")}"
cp -r "$WORK/alpha" "$WORK/adder"
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/add.json" \
  "$BIN add --data-dir $WORK/adder --title T --title-en T --summary S --summary-en S --challenge C" >&2
record "{\"measure\":\"add\",\"log_entries\":100000,\"mean_ms\":$(json '["results"][0]["mean"]*1000' < "$WORK/add.json"),\"max_ms\":$(json '["results"][0]["max"]*1000' < "$WORK/add.json")}"
rm -rf "$WORK/adder"

# --- 3. Initial sync of 100,000 entries, daemon to daemon -------------------------
initial_sync() {  # SOURCE-CITY N
  local src=$1 n=$2
  mkcity beta 17712
  introduce "$src" beta
  local a b
  # The source serves but does not push (no sync peer): the catch-up is the receiver's pull.
  serve "$src" --peer nobody --interval 1h; a=$SERVED
  local base_a; base_a=$(rss_kb "$a")
  t0=$(now)
  serve beta --peer "$src" --interval 1h; b=$SERVED
  local peak_b=0
  while [ "$(entries_of "$WORK/beta")" -lt "$n" ]; do
    sleep 0.2
    peak_b=$(hwm_kb "$b")
  done
  t1=$(now)
  peak_b=$(hwm_kb "$b")
  local peak_a; peak_a=$(hwm_kb "$a")
  local cpu_b cpu_a; cpu_b=$(cpu_s "$b"); cpu_a=$(cpu_s "$a")
  sleep 3
  local idle_b; idle_b=$(rss_kb "$b")
  record "{\"measure\":\"initial_sync\",\"entries\":$n,\"seconds\":$(python3 -c "print(round($t1 - $t0, 3))"),\"receiver_peak_rss_kb\":$peak_b,\"sender_peak_rss_kb\":$peak_a,\"sender_rss_before_kb\":$base_a,\"receiver_idle_rss_after_kb\":$idle_b,\"receiver_cpu_s\":$cpu_b,\"sender_cpu_s\":$cpu_a}"
  stop "$b"
  # Bytes on the wire per entry: the same catch-up by `c4csr sync` (which counts them).
  mkcity gamma 17713
  introduce "$src" gamma
  kill -HUP "$a"
  sleep 0.5
  "$BIN" sync --data-dir "$WORK/gamma" --peer "$src" --json > "$WORK/gamma-sync.json"
  record "{\"measure\":\"initial_sync_bytes\",\"entries\":$n,\"bytes_received\":$(json '["peers"][0]["bytes_received"]' < "$WORK/gamma-sync.json"),\"bytes_sent\":$(json '["peers"][0]["bytes_sent"]' < "$WORK/gamma-sync.json"),\"requests\":$(json '["peers"][0]["requests"]' < "$WORK/gamma-sync.json")}"
  # Idle: a freshly started daemon holding the log.
  stop "$a"
  serve "$src" --peer nobody --interval 1h; a=$SERVED
  sleep 5
  record "{\"measure\":\"idle_rss\",\"entries\":$n,\"rss_kb\":$(rss_kb "$a")}"
  # No-op rounds: gamma holds the same log.
  "$BENCH" noop --data-dir "$WORK/gamma" --peer "$src" --rounds 50 | while read -r line; do record "$line"; done
  stop "$a"
}
echo "bench: initial sync, 100,000 entries" >&2
initial_sync alpha 100000

# --- 4. No-op round at 10,000 entries ----------------------------------------------
echo "bench: no-op round, 10,000 entries" >&2
head -n 10000 "$L100K" > "$WORK/log-10000.jsonl"
mkcity delta 17714
"$BIN" import "$WORK/log-10000.jsonl" --data-dir "$WORK/delta" >/dev/null
mkcity epsilon 17715
"$BIN" import "$WORK/log-10000.jsonl" --data-dir "$WORK/epsilon" >/dev/null
introduce delta epsilon
serve delta --peer epsilon --interval 1h; d=$SERVED
"$BENCH" noop --data-dir "$WORK/epsilon" --peer delta --rounds 50 | while read -r line; do record "$line"; done
stop "$d"

# --- 5. 1,000,000 entries: import, audit, initial sync, no-op, memory --------------
if [ "$QUICK" = 0 ]; then
  echo "bench: 1,000,000 entries (several minutes)" >&2
  L1M=$(logfile 1000000)
  mkcity omega 17716
  import_and_audit omega 1000000 "$L1M"
  initial_sync omega 1000000
fi

# --- 6. Propagation in the ten-city demo mesh ---------------------------------------
echo "bench: propagation in the demo mesh" >&2
"$BIN" demo --samples 20 > "$WORK/demo.txt"
line=$(grep "propagation to all ten cities" "$WORK/demo.txt")
median=$(echo "$line" | sed -E 's/.*median ([0-9.]+) s.*/\1/')
worst=$(echo "$line" | sed -E 's/.*worst ([0-9.]+) s.*/\1/')
record "{\"measure\":\"propagation\",\"samples\":20,\"median_s\":$median,\"worst_s\":$worst}"
fi

if [ "$ONLY" != portal ] && [ "$ONLY" != officers ]; then
# --- 7. Whole processes, and git beside us ------------------------------------------
# What an officer and a new city feel: the process's start, a `c4csr sync` with one new
# entry or none, and a new city's first `c4csr sync` of 10,000 entries (~1 KB) against
# `git clone` of the same records over HTTPS from nginx with TLS on loopback.
echo "bench: whole processes, and git" >&2
hyperfine_mean() {  # NAME JSON: records mean/min/max of a hyperfine export
  record "{\"measure\":\"$1\",\"mean_ms\":$(json '["results"][0]["mean"]*1000' < "$2"),\"min_ms\":$(json '["results"][0]["min"]*1000' < "$2"),\"max_ms\":$(json '["results"][0]["max"]*1000' < "$2")}"
}
hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/version.json" "$BIN --version" >&2
hyperfine_mean version "$WORK/version.json"
hyperfine -N --warmup 5 --runs 50 --export-json "$WORK/git-version.json" "git --version" >&2
hyperfine_mean git_version "$WORK/git-version.json"

L10K=$WORK/log-10000.jsonl   # section 4's, or a log of its own with --only whole
[ -s "$L10K" ] || L10K=$(logfile 10000)
mkcity zeta 17721
"$BIN" import "$L10K" --data-dir "$WORK/zeta" >/dev/null
mkcity eta 17722
introduce zeta eta
serve zeta --peer nobody --interval 1h; z=$SERVED
# A new city's first sync: a fresh copy of eta (no entries) each run.
rm -rf "$WORK/eta-template" && cp -r "$WORK/eta" "$WORK/eta-template"
# (hyperfine -N runs --prepare without a shell too: one command, a script.)
printf '#!/bin/sh\nrm -rf "%s/eta" && cp -r "%s/eta-template" "%s/eta"\n' "$WORK" "$WORK" "$WORK" > "$WORK/fresh-eta.sh"
chmod +x "$WORK/fresh-eta.sh"
hyperfine -N --warmup 1 --runs 10 --prepare "$WORK/fresh-eta.sh" \
  --export-json "$WORK/first-sync.json" "$BIN sync --data-dir $WORK/eta --peer zeta" >&2
hyperfine_mean first_sync_10000 "$WORK/first-sync.json"
[ "$(entries_of "$WORK/eta")" = 10000 ] || { echo "bench: the first sync did not carry the 10,000 entries" >&2; exit 1; }
# eta now holds zeta's 10,000 entries: nothing new, then one new entry a run.
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/sync-none.json" "$BIN sync --data-dir $WORK/eta --peer zeta" >&2
hyperfine_mean sync_nothing_new "$WORK/sync-none.json"
hyperfine -N --warmup 2 --runs 30 --prepare "$BIN add --data-dir $WORK/zeta --title T --title-en T --summary S --summary-en S --challenge C" \
  --export-json "$WORK/sync-one.json" "$BIN sync --data-dir $WORK/eta --peer zeta" >&2
hyperfine_mean sync_one_new "$WORK/sync-one.json"
stop "$z"

# git: the same 10,000 entries as one file each in a packed repository, served as static
# files (git's "dumb" HTTP protocol: one pack) by nginx with a self-signed certificate.
rm -rf "$WORK/git-src" "$WORK/www" "$WORK/nginx-tmp" && mkdir -p "$WORK/git-src/entries" "$WORK/www" "$WORK/nginx-tmp"
python3 - "$L10K" "$WORK/git-src/entries" <<'PY'
import sys
for i, line in enumerate(open(sys.argv[1])):
    open(f"{sys.argv[2]}/{i:05d}.json", "w").write(line)
PY
( cd "$WORK/git-src" && git init -q && git add -A && git -c user.name=bench -c user.email=bench@localhost commit -qm log \
  && git clone -q --bare . "$WORK/www/log.git" && cd "$WORK/www/log.git" && git gc -q && git update-server-info )
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$WORK/nginx.key" -out "$WORK/nginx.crt" 2>/dev/null
cat > "$WORK/nginx.conf" <<NGINX
user $(id -un);
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-tmp;
  server {
    listen 127.0.0.1:17723 ssl;
    ssl_certificate $WORK/nginx.crt;
    ssl_certificate_key $WORK/nginx.key;
    root $WORK/www;
  }
}
NGINX
/usr/sbin/nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;' 2>>"$WORK/nginx-error.log" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
for _ in $(seq 1 100); do curl -sk -o /dev/null https://127.0.0.1:17723/log.git/HEAD && break; sleep 0.05; done
hyperfine -N --warmup 1 --runs 10 --prepare "rm -rf $WORK/git-clone" --export-json "$WORK/git-clone.json" \
  "git -c http.sslVerify=false clone -q https://127.0.0.1:17723/log.git $WORK/git-clone" >&2
hyperfine_mean git_clone_10000 "$WORK/git-clone.json"
[ "$(ls "$WORK/git-clone/entries" | wc -l)" = 10000 ] || { echo "bench: git clone did not carry the 10,000 records" >&2; exit 1; }
stop "$NGINX_PID"
fi

# --- 9. Officers: what a second signature per entry costs --------------------------------
# The same 100,000 publish entries (the same cities' keys), once signed by the cities
# alone and once each written by an officer (docs/PROTOCOL.md §13: format c4csr/2 with
# `author`, two Ed25519 signatures to verify), imported and audited in one run.
if [ -z "$ONLY" ] || [ "$ONLY" = officers ]; then
  echo "bench: officers (two signatures per entry)" >&2
  lplain=$(logfile 100000)
  loff="$WORK/log-officers-100000.jsonl"
  [ -s "$loff" ] || python3 scripts/gen_log.py "$loff" --entries 100000 --cities 10 --officers >&2
  mkcity plainkeys 17731
  timed import_plain 100000 "$BIN" import "$lplain" --data-dir "$WORK/plainkeys"
  timed audit_plain 100000 "$BIN" audit --data-dir "$WORK/plainkeys"
  mkcity officerkeys 17733
  timed import_officers 100000 "$BIN" import "$loff" --data-dir "$WORK/officerkeys"
  timed audit_officers 100000 "$BIN" audit --data-dir "$WORK/officerkeys"
  [ "$("$BIN" audit --data-dir "$WORK/officerkeys" --json | json '["authors"]["bench-01/officer-01"]')" = 9999 ] \
    || { echo "bench: the officers' log did not import whole" >&2; exit 1; }
fi

# --- 8. The web portal at 100,000 practices ----------------------------------------------
# Time to the first byte of each page over loopback (a fresh connection each time, as a
# reverse proxy's would be): the median of 20 after 2 warm-ups (3 for the downloads). Targets: ≤ 50 ms a page,
# ≤ 100 ms a search.
if [ -z "$ONLY" ] || [ "$ONLY" = portal ]; then
  echo "bench: the web portal at 100,000 practices" >&2
  if [ ! -e "$WORK/alpha.imported" ]; then   # a marker: a failed run may leave a store behind
    export100k=$(logfile 100000)   # first: it writes the cards mkcity copies
    mkcity alpha 17711
    "$BIN" import "$export100k" --data-dir "$WORK/alpha" >/dev/null
    touch "$WORK/alpha.imported"
  fi
  serve alpha --peer nobody --interval 1h --listen 127.0.0.1:0 --web-listen 127.0.0.1:0; w=$SERVED
  wport=$(json '["web_port"]' < "$WORK/alpha/serve.json")
  practice=$("$BIN" list --data-dir "$WORK/alpha" --limit 1 --json | json '[0]["id"]')
  page_time() {  # NAME PATH [RUNS]
    local runs=${3:-20} ms
    curl -s -o /dev/null "http://127.0.0.1:$wport$2"; curl -s -o /dev/null "http://127.0.0.1:$wport$2"
    ms=$(for _ in $(seq 1 "$runs"); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "http://127.0.0.1:$wport$2"; done \
      | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] * 1000}')
    record "{\"measure\":\"portal\",\"page\":\"$1\",\"path\":\"$2\",\"practices\":100000,\"median_ms\":$ms}"
  }
  page_time overview /
  page_time list /practices
  page_time "list, page 1,000" "/practices?page=1000"
  page_time "list, SDG 13" "/practices?sdg=13"
  page_time "list, one city" "/practices?city=bench-03"
  page_time search "/practices?q=kopiena"
  page_time practice "/practices/$practice"
  page_time city /cities/bench-03
  page_time adoptions /adoptions
  page_time "network feed" /feed.atom
  page_time "theme feed" /themes/theme-3/feed.atom
  page_time "practices.json (all)" /practices.json 3
  page_time "practices.csv (all)" /practices.csv 3
  stop "$w"
  # The first request of a page to a daemon just started: nothing cached in the portal
  # (as after each new entry, which changes the digest its figures are kept by) nor in
  # SQLite's page cache. One run per start, the median of 5 starts.
  cold_time() {  # NAME PATH
    local ms
    ms=$(for _ in 1 2 3 4 5; do
      serve alpha --peer nobody --interval 1h --listen 127.0.0.1:0 --web-listen 127.0.0.1:0
      wport=$(json '["web_port"]' < "$WORK/alpha/serve.json")
      curl -s -o /dev/null -w '%{time_starttransfer}\n' "http://127.0.0.1:$wport$2"
      stop "$SERVED"
    done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] * 1000}')
    record "{\"measure\":\"portal_cold\",\"page\":\"$1\",\"path\":\"$2\",\"practices\":100000,\"median_ms\":$ms}"
  }
  cold_time overview /
  cold_time list /practices
  cold_time "list, SDG 13" "/practices?sdg=13"
  cold_time "theme feed" /themes/theme-3/feed.atom
fi

# --- Report ----------------------------------------------------------------------------
python3 - "$RESULTS" "$VERIFY_ALL" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ceiling = float(sys.argv[2])
def find(**kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
print(f"| what | measured | ceiling | ratio |")
print(f"|---|---|---|---|")
def one(measure):
    found = find(measure=measure)
    return found[0] if found else None
first, clone = one("first_sync_10000"), one("git_clone_10000")
if first and clone:
    print(f"| a new city's first `c4csr sync`, 10,000 entries, whole process | {first['mean_ms']/1000:.2f} s mean | `git clone` over HTTPS (nginx, TLS): {clone['mean_ms']/1000:.2f} s | {clone['mean_ms']/first['mean_ms']:.2f}× git's speed (target ≥ 2×) |")
version, git_version = one("version"), one("git_version")
if version and git_version:
    print(f"| `c4csr --version`, whole process | {version['mean_ms']:.1f} ms mean, {version['min_ms']:.1f} ms min | `git --version`: {git_version['mean_ms']:.1f} ms | {version['mean_ms']/5:.0%} of the 5 ms target |")
for measure, what, target in (("sync_one_new", "one new entry", 15), ("sync_nothing_new", "nothing new", 10)):
    r = one(measure)
    if r:
        print(f"| `c4csr sync` with {what}, 10,000-entry log, whole process | {r['mean_ms']:.1f} ms mean, {r['min_ms']:.1f} ms min | {target} ms target | {r['mean_ms']/target:.0%} |")
for r in find(measure="portal"):
    target = 100 if r["page"] == "search" else (None if "(all)" in r["page"] else 50)
    verdict = f"{r['median_ms']/target:.0%} of the {target} ms target" if target else "a download of every practice"
    print(f"| portal page: {r['page']} (`{r['path']}`), 100,000 practices | {r['median_ms']:.1f} ms median to first byte | {target or '—'} ms | {verdict} |")
for r in find(measure="portal_cold"):
    target = 50
    print(f"| portal page, first request after the daemon starts: {r['page']} (`{r['path']}`), 100,000 practices | {r['median_ms']:.1f} ms median of 5 starts | {target} ms | {r['median_ms']/target:.0%} of the {target} ms target |")
if not find(ceiling="ed25519_verify"):
    sys.exit(0)
v = find(ceiling="ed25519_verify")[0]
print(f"| Ed25519 verify, 700-byte messages | {v['per_second_one_core']:,}/s one core, {v['per_second_all_cores']:,}/s {v['cores']} cores | — | ceiling |")
s = find(ceiling="sqlite_insert")[0]
print(f"| SQLite insert, {s['row_bytes']}-byte rows, one transaction | {s['per_second']:,} rows/s | — | ceiling |")
c = find(ceiling="curl_https")[0]
print(f"| libcurl HTTPS, {c['body_megabytes']} MiB bodies, one connection | {c['megabytes_per_second']:,} MB/s | — | ceiling |")
for r in find(measure="initial_sync"):
    rate = r["entries"] / r["seconds"]
    print(f"| initial sync, {r['entries']:,} entries | {rate:,.0f} entries/s ({r['seconds']:.1f} s) | {ceiling:,.0f}/s verify | {rate / ceiling:.0%} (target 50%) |")
    print(f"| CPU time of the catch-up, {r['entries']:,} entries | receiver {r['receiver_cpu_s']:.1f} s ({r['receiver_cpu_s'] / r['entries'] * 1e6:.0f} µs/entry), sender {r['sender_cpu_s']:.1f} s | {1e6 / v['per_second_one_core']:.0f} µs/entry to verify | {(1e6 / v['per_second_one_core']) / (r['receiver_cpu_s'] / r['entries'] * 1e6):.0%} of it is verifying |")
    print(f"| daemon memory during initial sync, {r['entries']:,} entries | receiver peak {r['receiver_peak_rss_kb']/1024:.0f} MB (idle after: {r['receiver_idle_rss_after_kb']/1024:.0f} MB), sender peak {r['sender_peak_rss_kb']/1024:.0f} MB | 100 MB | {max(r['receiver_peak_rss_kb'], r['sender_peak_rss_kb'])/1024/100:.0%} |")
for r in find(measure="initial_sync_bytes"):
    print(f"| bytes on the wire per entry, {r['entries']:,}-entry catch-up | {(r['bytes_received'] + r['bytes_sent']) / r['entries']:,.0f} B ({r['requests']} requests) | — | — |")
for r in find(measure="idle_rss"):
    print(f"| daemon memory idle, {r['entries']:,} entries | {r['rss_kb']/1024:.0f} MB | 100 MB | {r['rss_kb']/1024/100:.0%} |")
for r in sorted(find(measure="noop_round"), key=lambda r: r["entries"]):
    print(f"| no-op round, {r['entries']:,} entries | {r['median_ms']} ms median ({r['p90_ms']} p90), {r['bytes_per_round']:,} B, 1 request | 5 ms, 2 KB | {float(r['median_ms'])/5:.0%}, {r['bytes_per_round']/2048:.0%} |")
for r in find(measure="propagation"):
    print(f"| propagation to all ten demo cities | median {r['median_s']:.2f} s, worst {r['worst_s']:.2f} s (20 entries) | 2 s | {r['median_s']/2:.0%} |")
for r in find(measure="add"):
    print(f"| `c4csr add`, whole process, 100,000-entry log | {r['mean_ms']:.1f} ms mean, {r['max_ms']:.1f} ms max | 50 ms | {r['mean_ms']/50:.0%} |")
for r in find(measure="audit"):
    rate = r["entries"] / r["seconds"]
    print(f"| audit, {r['entries']:,} entries | {rate:,.0f} entries/s ({r['seconds']:.1f} s) | {ceiling:,.0f}/s verify | {rate / ceiling:.0%} (target 80%) |")
for r in find(measure="search"):
    print(f"| search, 100,000 practices | {r['mean_ms']:.1f} ms mean (whole process) | — | — |")
for r in find(measure="import"):
    rate = r["entries"] / r["seconds"]
    print(f"| import of a {r['entries']:,}-entry export | {rate:,.0f} entries/s ({r['seconds']:.1f} s) | {ceiling:,.0f}/s verify | {rate / ceiling:.0%} |")
PY

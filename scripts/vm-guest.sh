#!/bin/bash
# The checks scripts/vm-test.sh runs inside a booted Debian 12 guest (as root, from a
# unit after multi-user.target). Output goes to the guest's second serial port:
# "ok - …" / "not ok - …" per check, then "VM-TEST BOOT N PASSED" or "… FAILED".
#
# Boot 1: install the previous package, then make two cities as an admin would
# (c4csr@milano, c4csr@sofia on loopback), start them and check READY, STATUS, a
# practice synced, reload good and broken, the watchdog, the journal and the hardening;
# upgrade to the new package; enable both; reboot. Boot 2: both are back with every
# entry and still sync; purge keeps the cities' logs.
set -u
here=/root/vm-test
fails=0
if [ -e "$here/boot-1-done" ]; then boot=2; else boot=1; fi
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
# check WHAT COMMAND…: the command must succeed.
check() {
  local what=$1; shift
  if "$@" > /tmp/check.out 2>&1; then ok "$what"; else not_ok "$what"; tail -15 /tmp/check.out | sed 's/^/#   /'; fi
}
# await WHAT SECONDS COMMAND…: the command must succeed within SECONDS.
await() {
  local what=$1 limit=$2 i=0; shift 2
  until "$@" > /tmp/check.out 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge "$limit" ]; then not_ok "$what (not within $limit s)"; tail -15 /tmp/check.out | sed 's/^/#   /'; return 1; fi
    sleep 1
  done
  ok "$what (${i} s)"
}
finish() {
  if [ "$fails" -eq 0 ]; then echo "VM-TEST BOOT $boot PASSED"; else echo "VM-TEST BOOT $boot FAILED ($fails checks)"; fi
  sync
  if [ "$boot" -eq 1 ] && [ "$fails" -eq 0 ]; then touch "$here/boot-1-done"; sync; systemctl reboot; else systemctl poweroff; fi
  exit 0
}
as_c4csr() { runuser -u c4csr -- "$@"; }
prop() { systemctl show -p "$2" --value "c4csr@$1.service"; }
digest() { as_c4csr c4csr audit --data-dir "/var/lib/c4csr-$1" --json | sed -n 's/.*"digest" *: *"\([0-9a-f]*\)".*/\1/p'; }
entries() { as_c4csr c4csr audit --data-dir "/var/lib/c4csr-$1" --json | sed -n 's/.*"entries" *: *\([0-9]*\).*/\1/p'; }
has_practice() { as_c4csr c4csr list --data-dir "/var/lib/c4csr-$1" --json --no-pager | grep -q "$2"; }
# officer_add USER CITY TITLE: USER writes as officer USER through CITY's socket.
officer_add() {
  printf '{"title":{"local":"%s","en":"%s"},"summary":{"local":"s","en":"s"},"challenge":"c"}\n' "$3" "$3" > /tmp/officer-practice.json
  chmod 0644 /tmp/officer-practice.json
  runuser -u "$1" -- c4csr add --officer "$1" --officer-socket "/run/c4csr/$2-officer.sock" --file /tmp/officer-practice.json
}
add_practice() { # CITY TITLE
  printf '{"title":{"local":"%s","en":"%s"},"summary":{"local":"s","en":"s"},"challenge":"c"}\n' "$2" "$2" > /tmp/practice.json
  as_c4csr c4csr add --data-dir "/var/lib/c4csr-$1" --file /tmp/practice.json
}
same_digests() { local a b; a=$(digest milano); b=$(digest sofia); [ -n "$a" ] && [ "$a" = "$b" ]; }
is_active() { [ "$(prop "$1" ActiveState)" = active ]; }
listening() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1"; }
security_ok() { # UNIT: systemd-analyze security's exposure must be 1.2 or lower
  local level
  level=$(systemd-analyze security "$1" | grep -o 'Overall exposure level for [^:]*: [0-9.]*' | awk '{ print $NF }')
  echo "# $1: exposure $level" >&3
  [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l + 0 <= 1.2) }'
}
export DEBIAN_FRONTEND=noninteractive
exec 3>&1   # figures a check reports as it passes

echo "# boot $boot: $(uname -r), systemd $(systemctl --version | head -1 | cut -d' ' -f2), up $(cut -d' ' -f1 /proc/uptime) s"

if [ "$boot" -eq 1 ]; then
  # --- The package installs as an admin installs it, and starts nothing.
  check "apt-get install ./previous.deb" apt-get install -y -q "$here/previous.deb"
  check "the c4csr user exists" id c4csr
  check "the service is neither enabled nor started on install" \
    bash -c '[ "$(systemctl is-enabled c4csr.service)" = disabled ] && ! systemctl is-active --quiet c4csr.service'
  check "the binary runs without the Swift toolchain" bash -c 'c4csr --version && ! ldd /usr/bin/c4csr | grep -q swift'
  check "the partner cards are installed" test -s /usr/share/c4csr/peers/sofia.toml

  # --- Two cities, as README.md's "Run a city in production" makes one.
  port_milano=7443; port_sofia=7444
  for city in milano sofia; do
    port_var="port_$city"; port=${!port_var}
    install -d -o c4csr -g c4csr -m 0700 "/var/lib/c4csr-$city"
    check "init $city from its partner card" as_c4csr c4csr init --data-dir "/var/lib/c4csr-$city" --from-card "$city" --endpoint "https://127.0.0.1:$port"
    cat > "/etc/c4csr/$city.toml" <<EOF
data_dir = "/var/lib/c4csr-$city"
peers_dirs = ["/etc/c4csr/peers-$city"]
[sync]
interval = "2s"
[metrics]
listen = "127.0.0.1:$((port + 2021))"
[officer]
socket = "/run/c4csr/$city-officer.sock"
EOF
    install -d "/etc/c4csr/peers-$city"
  done
  cp /var/lib/c4csr-sofia/city.toml /etc/c4csr/peers-milano/sofia.toml
  cp /var/lib/c4csr-milano/city.toml /etc/c4csr/peers-sofia/milano.toml
  check "config check (milano)" as_c4csr c4csr config check --config /etc/c4csr/milano.toml
  # The watchdog fires after WatchdogSec; a shorter one keeps this test short.
  mkdir -p /etc/systemd/system/c4csr@sofia.service.d
  printf '[Service]\nWatchdogSec=10\n' > /etc/systemd/system/c4csr@sofia.service.d/watchdog.conf
  systemctl daemon-reload

  # --- Start: active only once READY (the listener is bound when systemctl returns).
  check "systemctl start c4csr@milano c4csr@sofia" systemctl start c4csr@milano.service c4csr@sofia.service
  check "both active as systemctl start returns" bash -c "[ \"\$(systemctl show -p ActiveState --value c4csr@milano c4csr@sofia | sort -u | tr -d '\n')\" = active ]"
  check "both listening as systemctl start returns (READY after bind)" bash -c "$(declare -f listening); listening 7443 && listening 7444"

  # --- An officer adds a practice in Milano; Sofia has it.
  check "an officer adds a practice in milano" add_practice milano "Green roofs of Milano"
  await "sofia holds milano's practice" 60 has_practice sofia "Green roofs of Milano"
  await "systemctl status shows the STATUS line" 30 bash -c 'systemctl status --no-pager c4csr@sofia | grep "Status: \"in sync with 1 of 1"'
  await "both hold the same log" 30 same_digests

  # --- Reload: a good configuration is applied, a broken one refused with the daemon untouched.
  pid=$(prop sofia MainPID)
  since=$(date '+%Y-%m-%d %H:%M:%S')
  check "systemctl reload (good configuration)" systemctl reload c4csr@sofia
  await "the daemon reloaded" 20 bash -c "journalctl -u c4csr@sofia --since '$since' -o cat | grep 'configuration and peer cards reloaded'"
  cp /etc/c4csr/sofia.toml /tmp/sofia.toml.good
  echo 'this is not TOML' >> /etc/c4csr/sofia.toml
  check "systemctl reload (broken configuration) fails" bash -c '! systemctl reload c4csr@sofia'
  check "…and the daemon runs on, unchanged (PID $pid)" bash -c "[ \"\$(systemctl show -p ActiveState --value c4csr@sofia)\" = active ] && [ \"\$(systemctl show -p MainPID --value c4csr@sofia)\" = $pid ]"
  # (The configuration check's own error line: the unit's command line names the file too.)
  check "…and systemctl status says why" bash -c 'systemctl status --no-pager -n 20 c4csr@sofia | grep "invalid configuration /etc/c4csr/sofia.toml"'
  cp /tmp/sofia.toml.good /etc/c4csr/sofia.toml

  # --- The journal: one event per line, with its fields, filtered by priority.
  check "journalctl -u shows events with their fields" bash -c 'journalctl -u c4csr@sofia -o cat | grep -E "^notice listening c4csr\.address=[^ ]+ c4csr\.city=sofia\$"'
  check "journalctl -p warning filters by level" bash -c '[ "$(journalctl -u c4csr@sofia -o json | grep -c "\"PRIORITY\":\"5\"")" -gt 0 ] && ! journalctl -u c4csr@sofia -p warning -o cat | grep "^notice"'

  # --- A hung daemon (SIGSTOP) is killed by the watchdog and restarted, losing nothing.
  before=$(digest sofia)
  restarts=$(prop sofia NRestarts)
  pid=$(prop sofia MainPID)
  kill -STOP "$pid"
  await "the watchdog restarts a stopped daemon" 120 bash -c "[ \"\$(systemctl show -p NRestarts --value c4csr@sofia)\" -gt $restarts ] && [ \"\$(systemctl show -p ActiveState --value c4csr@sofia)\" = active ]"
  check "…by its watchdog" bash -c 'journalctl -u c4csr@sofia -o cat | grep -i "watchdog timeout"'
  check "…which loses nothing" bash -c "[ \"\$(runuser -u c4csr -- c4csr audit --data-dir /var/lib/c4csr-sofia --json | grep -c '$before')\" = 1 ]"

  # --- The hardening holds on a real systemd.
  check "systemd-analyze security c4csr@sofia: exposure 1.2 or lower" security_ok c4csr@sofia.service
  check "systemd-analyze security c4csr: exposure 1.2 or lower" security_ok c4csr.service

  # --- Upgrade: running nodes are restarted on the new binary, every entry kept, the admin's edits kept.
  echo '# kept by the admin' >> /etc/c4csr/c4csr.toml
  n_milano=$(entries milano); d_milano=$(digest milano)
  pid_milano=$(prop milano MainPID)
  check "apt-get install ./c4csr.deb (upgrade)" apt-get install -y -q "$here/c4csr.deb"
  check "the new version is installed" bash -c "dpkg-query -W -f='\${Version}' c4csr | grep -v -- '-0\$'"
  await "both active again after the upgrade" 30 bash -c '[ "$(systemctl show -p ActiveState --value c4csr@milano c4csr@sofia | sort -u | tr -d "\n")" = active ]'
  check "the upgrade restarted the running nodes" bash -c "[ \"\$(systemctl show -p MainPID --value c4csr@milano)\" != $pid_milano ]"
  check "the upgrade kept every entry ($n_milano)" bash -c "[ \"$(digest milano)\" = '$d_milano' ]"
  check "the upgrade kept the admin's configuration" grep -q '^# kept by the admin' /etc/c4csr/c4csr.toml
  check "an officer adds a practice in sofia after the upgrade" add_practice sofia "Школа за отговорен бизнес"
  await "milano holds sofia's practice" 60 has_practice milano "Школа за отговорен бизнес"

  # --- Officers (issue 12): maria, in the c4csr-officers group, writes Sofia's practices
  # with her own key through the daemon's socket, with no access to the city's key or
  # store and no sudo; bob, outside the group, cannot reach the socket.
  check "the package made the c4csr-officers group" getent group c4csr-officers
  check "/run/c4csr is c4csr:c4csr-officers, mode 2750" bash -c '[ "$(stat -c "%U:%G %a" /run/c4csr)" = "c4csr:c4csr-officers 2750" ]'
  check "the officers' socket is group c4csr-officers, mode 0660" bash -c '[ "$(stat -c "%G %a" /run/c4csr/sofia-officer.sock)" = "c4csr-officers 660" ]'
  useradd -m maria && usermod -aG c4csr-officers maria && useradd -m bob
  maria_key=$(runuser -u maria -- c4csr officer key --json | sed -n 's/.*"key" *: *"\([^"]*\)".*/\1/p')
  check "maria makes her officer key, mode 0600 in her home" bash -c "[ -n '$maria_key' ] && [ \"\$(stat -c %a /home/maria/.config/c4csr/officer.key)\" = 600 ]"
  check "the admin enrols maria in sofia" as_c4csr c4csr officer enrol maria --key "$maria_key" --data-dir /var/lib/c4csr-sofia
  check "maria cannot read sofia's data directory" bash -c '! runuser -u maria -- ls /var/lib/c4csr-sofia'
  check "maria adds a practice as an officer, without sudo" officer_add maria sofia "Харта на отговорните фирми"
  await "milano holds it, naming maria" 60 bash -c 'runuser -u c4csr -- c4csr log --data-dir /var/lib/c4csr-milano | grep "by maria: Харта на отговорните фирми"'
  check "bob, outside the group, cannot reach the socket" bash -c 'runuser -u bob -- c4csr officer key && ! runuser -u bob -- c4csr add --officer bob --officer-socket /run/c4csr/sofia-officer.sock --title t --title-en t --summary s --summary-en s --challenge c 2> /tmp/bob.err && grep -q "officers. group" /tmp/bob.err'
  check "milano audits clean with maria's entry" as_c4csr c4csr audit --config /etc/c4csr/milano.toml

  # --- Enabled, then a reboot must bring both back.
  check "systemctl enable both" systemctl enable c4csr@milano.service c4csr@sofia.service
  await "both hold the same log before the reboot" 30 same_digests
  digest milano > "$here/digest-before-reboot"
  finish
fi

# --- Boot 2: after the reboot.
await "both active after the reboot" 60 bash -c '[ "$(systemctl show -p ActiveState --value c4csr@milano c4csr@sofia | sort -u | tr -d "\n")" = active ]'
check "every entry survived the reboot" bash -c "[ \"$(digest milano)\" = \"$(cat "$here/digest-before-reboot")\" ] && [ \"$(digest sofia)\" = \"$(cat "$here/digest-before-reboot")\" ]"
check "an officer adds a practice in milano after the reboot" add_practice milano "Tavolo CSR dopo il riavvio"
await "sofia holds it" 60 has_practice sofia "Tavolo CSR dopo il riavvio"
check "maria writes through sofia's socket after the reboot (tmpfiles made /run/c4csr again)" officer_add maria sofia "Зелени покриви след рестарта"

# --- Purge removes the program and keeps the cities' logs and keys.
apt-get purge -y -q c4csr > /tmp/purge.out 2>&1
check "apt-get purge c4csr" bash -c '! dpkg-query -W c4csr 2>/dev/null | grep -q . || [ "$(dpkg-query -W -f="\${Status}" c4csr)" = "unknown ok not-installed" ]'
check "…says what it keeps" grep -q "kept /var/lib/c4csr" /tmp/purge.out
check "…removed the binary and the conffile" bash -c '[ ! -e /usr/bin/c4csr ] && [ ! -e /etc/c4csr/c4csr.toml ]'
check "…kept each city's log and keys" bash -c 'test -s /var/lib/c4csr-milano/store.sqlite && test -s /var/lib/c4csr-sofia/keys/entry-signing.key'
finish

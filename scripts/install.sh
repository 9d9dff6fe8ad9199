#!/usr/bin/env bash
# Installs (or uninstalls) c4csr: the binary, the systemd unit (and its template
# c4csr@.service for more than one node on a host), sysusers.d and tmpfiles.d
# entries, a configuration template, the partner cities' cards and the documentation.
#
#   scripts/install.sh install   BINARY     (make install builds BINARY first)
#   scripts/install.sh uninstall
#
# Honours the usual variables, for packagers:
#   DESTDIR     staging root (default: none, i.e. install into /)
#   PREFIX      /usr/local (packages: /usr)
#   SYSCONFDIR  /etc
#   UNITDIR     $PREFIX/lib/systemd/system   (systemd reads /usr/local/lib/systemd/system too)
#   SYSUSERSDIR $PREFIX/lib/sysusers.d
#   TMPFILESDIR $PREFIX/lib/tmpfiles.d
#   MANDIR      $PREFIX/share/man             (c4csr.1, from docs/c4csr.1)
#   DATADIR     $PREFIX/share/c4csr           (peers/: the partner cards `c4csr init --from-card ID` reads)
#   BASHCOMPDIR, ZSHCOMPDIR, FISHCOMPDIR      shell completions, written by the binary
#
# An existing /etc/c4csr/c4csr.toml is never overwritten (the new template goes next
# to it as c4csr.toml.new), and uninstall keeps /etc/c4csr and /var/lib/c4csr: the
# configuration and the city's log outlive the program.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
SYSUSERSDIR=${SYSUSERSDIR:-$PREFIX/lib/sysusers.d}
TMPFILESDIR=${TMPFILESDIR:-$PREFIX/lib/tmpfiles.d}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/c4csr}
MANDIR=${MANDIR:-$PREFIX/share/man}
DATADIR=${DATADIR:-$PREFIX/share/c4csr}
BINDIR=$PREFIX/bin
# Where each shell looks for completions (bash-completion, zsh's site-functions, fish).
BASHCOMPDIR=${BASHCOMPDIR:-$PREFIX/share/bash-completion/completions}
ZSHCOMPDIR=${ZSHCOMPDIR:-$PREFIX/share/zsh/site-functions}
FISHCOMPDIR=${FISHCOMPDIR:-$PREFIX/share/fish/vendor_completions.d}

say() { printf 'install: %s\n' "$*"; }

live_system() { [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ] && [ -d /run/systemd/system ]; }

case "$action" in
install)
  binary=${2:?usage: scripts/install.sh install BINARY}
  [ -x "$binary" ] || { echo "install: $binary is not an executable" >&2; exit 1; }
  install -d "$DESTDIR$BINDIR" "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" "$DESTDIR$TMPFILESDIR" "$DESTDIR$DOCDIR" \
    "$DESTDIR$SYSCONFDIR/c4csr" "$DESTDIR$SYSCONFDIR/c4csr/peers" "$DESTDIR$DATADIR/peers"
  install -m 0755 "$binary" "$DESTDIR$BINDIR/c4csr"
  # The unit names the binary and the configuration by absolute path: follow PREFIX and SYSCONFDIR.
  sed -e "s|/usr/local/bin/c4csr|$BINDIR/c4csr|g" \
      -e "s|/etc/c4csr/|$SYSCONFDIR/c4csr/|g" \
      -e "s|file:///usr/local/share/doc/c4csr/|file://$DOCDIR/|g" \
      systemd/c4csr.service > "$DESTDIR$UNITDIR/c4csr.service"
  chmod 0644 "$DESTDIR$UNITDIR/c4csr.service"
  # The template runs one node per instance: c4csr@milano reads $SYSCONFDIR/c4csr/milano.toml
  # and owns /var/lib/c4csr-milano (its data_dir); everything else is c4csr.service.
  sed -e '1i # c4csr@.service: c4csr.service as a template, one node per instance (c4csr@NAME reads\
# /etc/c4csr/NAME.toml, whose data_dir is /var/lib/c4csr-NAME). Generated from c4csr.service.\
#' \
      -e 's|^Description=\(.*\))$|Description=\1, %i)|' \
      -e "s|$SYSCONFDIR/c4csr/c4csr.toml|$SYSCONFDIR/c4csr/%i.toml|g" \
      -e 's|^StateDirectory=c4csr$|StateDirectory=c4csr-%i|' \
      -e 's|systemctl \([a-z]*\)\( --now\)\? c4csr|systemctl \1\2 c4csr@NAME|' \
      -e 's|journalctl -u c4csr|journalctl -u c4csr@NAME|' \
      "$DESTDIR$UNITDIR/c4csr.service" > "$DESTDIR$UNITDIR/c4csr@.service"
  chmod 0644 "$DESTDIR$UNITDIR/c4csr@.service"
  install -m 0644 systemd/c4csr.sysusers "$DESTDIR$SYSUSERSDIR/c4csr.conf"
  sed -e "s|/etc/c4csr/|$SYSCONFDIR/c4csr/|g" systemd/c4csr.tmpfiles > "$DESTDIR$TMPFILESDIR/c4csr.conf"
  chmod 0644 "$DESTDIR$TMPFILESDIR/c4csr.conf"
  config="$DESTDIR$SYSCONFDIR/c4csr/c4csr.toml"
  if [ -e "$config" ]; then
    install -m 0644 systemd/c4csr.toml "$config.new"
    say "kept your $SYSCONFDIR/c4csr/c4csr.toml; the new template is c4csr.toml.new"
  else
    sed -e "s|/etc/c4csr/|$SYSCONFDIR/c4csr/|g" systemd/c4csr.toml > "$config"
    chmod 0644 "$config"
  fi
  install -m 0644 README.md "$DESTDIR$DOCDIR/README.md"
  install -m 0644 docs/*.md "$DESTDIR$DOCDIR/"
  install -m 0644 systemd/c4csr.toml "$DESTDIR$DOCDIR/c4csr.toml.example"
  install -m 0644 Peers/*.toml Peers/README.md "$DESTDIR$DATADIR/peers/"
  install -d "$DESTDIR$MANDIR/man1" "$DESTDIR$BASHCOMPDIR" "$DESTDIR$ZSHCOMPDIR" "$DESTDIR$FISHCOMPDIR"
  install -m 0644 docs/c4csr.1 "$DESTDIR$MANDIR/man1/c4csr.1"
  "$binary" completion bash > "$DESTDIR$BASHCOMPDIR/c4csr"
  "$binary" completion zsh > "$DESTDIR$ZSHCOMPDIR/_c4csr"
  "$binary" completion fish > "$DESTDIR$FISHCOMPDIR/c4csr.fish"
  chmod 0644 "$DESTDIR$BASHCOMPDIR/c4csr" "$DESTDIR$ZSHCOMPDIR/_c4csr" "$DESTDIR$FISHCOMPDIR/c4csr.fish"
  say "installed c4csr $("$binary" --version) into ${DESTDIR:-/} (PREFIX=$PREFIX)"
  if live_system; then
    systemd-sysusers "$SYSUSERSDIR/c4csr.conf"
    systemd-tmpfiles --create "$TMPFILESDIR/c4csr.conf"
    systemctl daemon-reload
    say "created the c4csr user; next: see README.md, \"Run a city in production\""
  fi
  ;;
uninstall)
  if live_system && systemctl is-active --quiet c4csr; then
    echo "install: c4csr is running; stop it first: systemctl disable --now c4csr" >&2
    exit 1
  fi
  rm -f "$DESTDIR$BINDIR/c4csr" "$DESTDIR$UNITDIR/c4csr.service" "$DESTDIR$UNITDIR/c4csr@.service" "$DESTDIR$SYSUSERSDIR/c4csr.conf" "$DESTDIR$TMPFILESDIR/c4csr.conf"
  rm -f "$DESTDIR$MANDIR/man1/c4csr.1" "$DESTDIR$BASHCOMPDIR/c4csr" "$DESTDIR$ZSHCOMPDIR/_c4csr" "$DESTDIR$FISHCOMPDIR/c4csr.fish"
  rm -rf "$DESTDIR$DOCDIR" "$DESTDIR$DATADIR"
  if live_system; then systemctl daemon-reload; fi
  say "removed c4csr; kept $SYSCONFDIR/c4csr (configuration, peer cards) and /var/lib/c4csr (the city's log and keys)"
  ;;
*)
  echo "usage: scripts/install.sh install BINARY | uninstall" >&2
  exit 64
  ;;
esac

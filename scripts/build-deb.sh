#!/usr/bin/env bash
# Builds the Debian package c4csr_VERSION_amd64.deb from a release binary, with
# Debian's own tools (dpkg-shlibdeps for Depends:, dpkg-deb to build, lintian to check).
#
#   scripts/build-deb.sh BINARY [OUTDIR]     (make deb: the static, stripped release build)
#
# The tree is what scripts/install.sh lays out with PREFIX=/usr: the binary in /usr/bin,
# the unit and its template, sysusers.d and tmpfiles.d under /usr/lib, the configuration
# in /etc/c4csr (c4csr.toml is a conffile), the partner cards in /usr/share/c4csr/peers,
# the man page and completions where Debian keeps them. The maintainer scripts create the
# user and reload systemd; they never enable or start the service, and removing (even
# purging) the package keeps the city's log and keys in /var/lib/c4csr.
#
# Environment: DEB_REVISION (default 1), LINTIAN=0 to skip lintian.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:?usage: scripts/build-deb.sh BINARY [OUTDIR]}
outdir=${2:-dist}
[ -x "$binary" ] || { echo "build-deb: $binary is not an executable" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps fakeroot; do
  command -v "$tool" >/dev/null || { echo "build-deb: needs $tool (apt-get install dpkg-dev fakeroot)" >&2; exit 1; }
done

version="$("$binary" --version)-${DEB_REVISION:-1}"
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/root"

# 1. The files, as `make install` would put them, with Debian's paths.
DESTDIR="$stage" PREFIX=/usr SYSCONFDIR=/etc ZSHCOMPDIR=/usr/share/zsh/vendor-completions \
  scripts/install.sh install "$binary" >/dev/null
rm -f "$stage/usr/share/doc/c4csr/c4csr.toml.example"   # it is /etc/c4csr/c4csr.toml, a conffile
if file "$stage/usr/bin/c4csr" | grep -q 'not stripped'; then
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/c4csr"
fi
# Debian wants a completion file without a #! line, and a man page without blank
# lines (each is a paragraph break, .sp, in roff).
sed -i '1{/^#!/d}' "$stage/usr/share/bash-completion/completions/c4csr"
sed -i 's/^$/.sp/' "$stage/usr/share/man/man1/c4csr.1"
gzip -9n "$stage/usr/share/man/man1/c4csr.1"
doc="$stage/usr/share/doc/c4csr"
date_r=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
printf 'c4csr (%s) stable; urgency=medium\n\n  * Release %s; the changes are in the project'"'"'s git history.\n\n -- CITIES4CSR network <c4csr@cities4csr.eu>  %s\n' \
  "$version" "$version" "$date_r" | gzip -9n > "$doc/changelog.Debian.gz"
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: c4csr
Source: the CITIES4CSR network's c4csr repository

Files: *
Copyright: 2025-2026 the CITIES4CSR network (URBACT)
License: Apache-2.0
Comment: The binary links statically the Swift standard library, Foundation and the
 Swift packages named in Package.resolved (swift-nio, swift-crypto with BoringSSL,
 Hummingbird, GRDB, swift-argument-parser and others), each under the Apache
 License 2.0 or the MIT license.

License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
EOF
install -d "$stage/usr/share/lintian/overrides"
cat > "$stage/usr/share/lintian/overrides/c4csr" <<'EOF'
# Built from the project's repository for the cities, not uploaded to Debian.
c4csr: initial-upload-closes-no-bugs *
EOF

# 2. The control files.
install -d "$stage/DEBIAN"
printf '/etc/c4csr/c4csr.toml\n' > "$stage/DEBIAN/conffiles"
mkdir -p "$work/src/debian"
printf 'Source: c4csr\n\nPackage: c4csr\nArchitecture: any\n' > "$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$stage/usr/bin/c4csr" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# What dpkg-shlibdeps cannot see: libcurl is opened on first use (Sources/CCurl/loader.c),
# not linked; 7.61 for the options and infos it sets (CURLINFO_TOTAL_TIME_T). And the
# editor `revise` falls back to.
depends="$depends, libcurl4 (>= 7.61.0), sensible-utils"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: c4csr
Version: $version
Architecture: $arch
Maintainer: CITIES4CSR network <c4csr@cities4csr.eu>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Homepage: https://urbact.eu/networks/cities4csr
Description: sync daemon of the CITIES4CSR network's signed practice log
 Each city of the CITIES4CSR network (corporate social responsibility,
 URBACT) runs one c4csr daemon. It keeps the city's signed, append-only log
 of CSR practices, syncs it with the other cities over HTTPS with pinned
 keys, and merges the entries by vector clocks, so that every city holds
 the same auditable network log. Officers add practices with the c4csr
 command; anyone can audit the log.
 .
 The package installs the daemon's systemd unit (disabled), its user, and
 the partner cities' cards; it starts nothing. See "Run a city in
 production" in /usr/share/doc/c4csr/README.md.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/$script"
done

# 3. The package.
mkdir -p "$outdir"
deb="$outdir/c4csr_${version}_${arch}.deb"
fakeroot dpkg-deb -Zxz --root-owner-group --build "$stage" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1); installed $((size / 1024)) MiB; Depends: $depends)"
if [ "${LINTIAN:-1}" != 0 ]; then
  if command -v lintian >/dev/null; then
    lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$deb"
    echo "build-deb: lintian: no errors or warnings"
  else
    echo "build-deb: lintian is not installed; apt-get install lintian to check the package" >&2
  fi
fi

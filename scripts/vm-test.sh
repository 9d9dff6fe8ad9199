#!/usr/bin/env bash
# The Debian package on a real Debian 12 with systemd as PID 1, booted under qemu.
#
#   scripts/vm-test.sh DIST      (make vm-test: DIST holds c4csr_VERSION_amd64.deb)
#
# It builds a Debian 12 image with mmdebstrap from Debian's packages (cached in
# $C4CSR_VM_CACHE, default ~/.cache/c4csr-vm), copies it with the package and
# scripts/vm-guest.sh into a fresh disk, and boots it twice with qemu: the first boot
# installs the previous package, then the new one as an upgrade, and checks two cities
# (c4csr@milano, c4csr@sofia) syncing, READY, status, reload, watchdog, journal and
# hardening; the second boot checks that both start again with every entry. Results
# come back on the guest's second serial port; the run fails on any failed check.
#
# The previous package is $C4CSR_VM_PREVIOUS_DEB, or by default the same build with
# Debian revision 0 (the upgrade path of the maintainer scripts; the store's own
# migrations are tested by UpgradeTests). The guest has no network: the package's
# runtime dependencies are in the image, as apt would fetch them on a real server.
#
# Everything is bounded in time (C4CSR_VM_TIMEOUT seconds per boot, default 600) and
# qemu is stopped by its PID. KVM is used only where the host has real VT-x/AMD-V.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

dist=${1:?usage: scripts/vm-test.sh DIST}
deb=$(ls -t "$dist"/c4csr_*_amd64.deb 2>/dev/null | grep -v -- '-0_amd64.deb$' | head -1 || true)
[ -n "$deb" ] || { echo "vm-test: no c4csr_*_amd64.deb in $dist (make deb)" >&2; exit 1; }
cache=${C4CSR_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/c4csr-vm}
timeout_s=${C4CSR_VM_TIMEOUT:-600}
say() { printf 'vm-test: %s\n' "$*"; }
started=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-vm.XXXXXX")
qemu_pid=
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The image: Debian 12 with systemd, a kernel and an initrd that finds a virtio disk,
#    and c4csr's runtime dependencies. Cached; rebuilt when this recipe changes.
packages=systemd,systemd-sysv,udev,dbus,initramfs-tools,linux-image-cloud-amd64,libcurl4,libsqlite3-0,sensible-utils,ca-certificates,procps
recipe=$(printf '%s\n' "bookworm" "$packages" "modules=virtio_pci,virtio_blk,ext4" | sha256sum | cut -c1-12)
image="$cache/bookworm-$recipe.tar"
if [ ! -f "$image" ] || [ ! -s "$image" ]; then
  rm -rf "$image" "$image.part.tar"
  mkdir -p "$cache"
  say "building the Debian 12 image (mmdebstrap; cached in $cache)"
  t=$(date +%s)
  timeout 900 mmdebstrap --quiet --variant=apt --include="$packages" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --customize-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/c4csr-vm.conf"; printf "virtio_pci\nvirtio_blk\next4\n" >> "$1/etc/initramfs-tools/modules"; chroot "$1" update-initramfs -u -k all' \
    bookworm "$image.part.tar" http://deb.debian.org/debian   # .tar: mmdebstrap writes a tarball
  mv "$image.part.tar" "$image"
  say "image built in $(( $(date +%s) - t )) s"
fi

# 2. The disk: the image, the packages, the guest's test and a unit that runs it.
root="$work/root"
mkdir -p "$root"
tar -C "$root" -xf "$image"
cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
previous=${C4CSR_VM_PREVIOUS_DEB:-}
if [ -z "$previous" ]; then
  # The same package as revision 0: what the maintainer scripts upgrade from.
  previous="$work/$(basename "${deb%-*_amd64.deb}")-0_amd64.deb"
  mkdir "$work/prev"
  dpkg-deb -R "$deb" "$work/prev"
  sed -i 's/^Version: \(.*\)-[0-9]*$/Version: \1-0/' "$work/prev/DEBIAN/control"
  fakeroot dpkg-deb -Zxz --root-owner-group --build "$work/prev" "$previous" >/dev/null
  rm -rf "$work/prev"
fi
mkdir -p "$root/root/vm-test"
cp "$previous" "$root/root/vm-test/previous.deb"
cp "$deb" "$root/root/vm-test/c4csr.deb"
install -m 0755 scripts/vm-guest.sh "$root/root/vm-test/guest.sh"
cat > "$root/etc/systemd/system/c4csr-vm-test.service" <<'EOF'
[Unit]
Description=c4csr's checks in the guest
After=multi-user.target
[Service]
Type=exec
ExecStart=/root/vm-test/guest.sh
StandardOutput=file:/dev/ttyS1
StandardError=file:/dev/ttyS1
[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/c4csr-vm-test.service "$root/etc/systemd/system/multi-user.target.wants/c4csr-vm-test.service"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
printf '%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" > "$root/etc/machine-id"
echo c4csr-vm > "$root/etc/hostname"
printf '/dev/vda / ext4 defaults 0 1\n' > "$root/etc/fstab"
mkfs.ext4 -q -F -L root -d "$root" "$work/disk.img" 3G >/dev/null
rm -rf "$root"

# 3. Two boots: the checks, then a reboot that must bring both cities back.
accel="-accel tcg,thread=multi,tb-size=256 -cpu max"
# KVM only with real VT-x/AMD-V (kvm_intel or kvm_amd loaded), never a nested "pagetable VM"
# (kvm_pvm), under which a stock Debian kernel does not boot.
if [ -w /dev/kvm ] && [ ! -e /sys/module/kvm_pvm ] && { [ -e /sys/module/kvm_intel ] || [ -e /sys/module/kvm_amd ]; }; then
  accel="-accel kvm -cpu host"
fi
boot() {
  local n=$1
  local t
  t=$(date +%s)
  # shellcheck disable=SC2086
  TMPDIR="$work" qemu-system-x86_64 $accel -m 1024 -smp 2 -nodefaults -display none -no-reboot \
    -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=0" \
    -drive "file=$work/disk.img,if=virtio,format=raw" \
    -serial "file:$work/console-$n.log" -serial "file:$work/results-$n.log" -nic none &
  qemu_pid=$!
  local waited=0
  while kill -0 "$qemu_pid" 2>/dev/null; do
    if [ "$waited" -ge "$timeout_s" ]; then
      say "boot $n: no end after ${timeout_s} s; stopping qemu"
      kill "$qemu_pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=
  sed "s/^/  /" "$work/results-$n.log"
  say "boot $n took $(( $(date +%s) - t )) s"
  if ! grep -q "^VM-TEST BOOT $n PASSED" "$work/results-$n.log"; then
    say "boot $n failed; the end of its console:"
    tail -40 "$work/console-$n.log" | sed "s/^/  | /"
    if [ -n "${C4CSR_VM_KEEP:-}" ]; then cp "$work"/*.log "$C4CSR_VM_KEEP/" 2>/dev/null || true; fi
    exit 1
  fi
}
boot 1
boot 2
say "passed in $(( $(date +%s) - started )) s ($(basename "$deb"))"

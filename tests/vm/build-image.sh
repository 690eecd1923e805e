#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build (or find in the cache) the Debian bookworm guest image of the memtide VM tests.
#
# The image is keyed by a hash of its recipe: this script, packages.txt and the files under
# guest/. A cached image whose key matches is reused; any change to the recipe builds a new
# one. The cache lives outside the source tree: $MEMTIDE_VM_CACHE, default
# /var/cache/memtide-vm. Each image directory holds:
#   disk.raw      ext4 root file system (sparse), populated with `mkfs.ext4 -d` (no loop mount)
#   vmlinuz       the Debian kernel (linux-image-amd64, 6.1)
#   initrd.img    its initramfs (virtio_blk and ext4 inside)
#   manifest.txt  kernel release, package versions, build time and sizes
#
# Needs root (debootstrap chroots) and: debootstrap, mkfs.ext4 (e2fsprogs >= 1.43 for -d).
# Mirror: $MEMTIDE_VM_MIRROR, else the bookworm mirror that this machine's apt uses, else
# http://deb.debian.org/debian.
#
# Usage: build-image.sh [--print-dir] [--force]
#   --print-dir  print the image directory on stdout (after building if needed)
#   --force      rebuild even if the cached image exists
# Exit: 0 ok, 77 a required tool or root is missing (reason on stderr), 1 build failure.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${MEMTIDE_VM_CACHE:-/var/cache/memtide-vm}
suite=bookworm
print_dir=0
force=0
for a in "$@"; do
        case "$a" in
        --print-dir) print_dir=1 ;;
        --force) force=1 ;;
        *) echo "build-image.sh: unknown argument '$a'" >&2; exit 2 ;;
        esac
done

log() { echo "build-image: $*" >&2; }

recipe_key() {
        # Content hash of the recipe, independent of file times and of the checkout path.
        (cd "$here" && cat build-image.sh packages.txt && find guest -type f | LC_ALL=C sort |
                while read -r f; do echo "== $f"; cat "$f"; done) | sha256sum | cut -c1-16
}

key=$(recipe_key)
dir=$cache/$suite-$key

if [ "$force" = 0 ] && [ -f "$dir/ok" ]; then
        [ "$print_dir" = 1 ] && echo "$dir"
        exit 0
fi

for tool in debootstrap mkfs.ext4 chroot sha256sum; do
        if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ] && ! [ -x "/sbin/$tool" ]; then
                echo "build-image: '$tool' not found (Debian: apt-get install debootstrap e2fsprogs)" >&2
                exit 77
        fi
done
export PATH=$PATH:/usr/sbin:/sbin
if [ "$(id -u)" != 0 ]; then
        echo "build-image: building the guest image needs root (debootstrap), and no cached image $dir exists" >&2
        exit 77
fi

pick_mirror() {
        if [ -n "${MEMTIDE_VM_MIRROR:-}" ]; then echo "$MEMTIDE_VM_MIRROR"; return; fi
        local f m=""
        # deb822 .sources: a stanza whose Suites has bookworm and whose URI is a Debian archive
        # (not -security, whose layout debootstrap cannot use).
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -r "$f" ] || continue
                m=$(awk -v RS= '/Suites:[^\n]*bookworm/ { if (match($0, /URIs: *[^ \n]+/)) {
                        u = substr($0, RSTART, RLENGTH); sub(/URIs: */, "", u);
                        if (u ~ /\/debian\/?$/) { print u; exit } } }' "$f")
                [ -n "$m" ] && break
        done
        if [ -z "$m" ] && [ -r /etc/apt/sources.list ]; then
                m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ && $2 ~ /\/debian\/?$/ { print $2; exit }' \
                        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
        fi
        echo "${m:-http://deb.debian.org/debian}"
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Someone else may have built it while we waited for the lock.
if [ "$force" = 0 ] && [ -f "$dir/ok" ]; then
        [ "$print_dir" = 1 ] && echo "$dir"
        exit 0
fi

mirror=$(pick_mirror)
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/,$//')
tmp=$cache/tmp-$key-$$
root=$tmp/root
cleanup() {
        local m
        # debootstrap normally unmounts what it mounted; be sure before deleting.
        for m in proc sys dev/pts dev; do
                mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
rm -rf "$tmp"
mkdir -p "$tmp" "$cache/debs"

t0=$(date +%s)
log "building $suite image $key from $mirror (cache $cache)"
log "packages: $packages"
if ! debootstrap --variant=minbase --components=main --include="$packages" \
        --cache-dir="$cache/debs" "$suite" "$root" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
        tail -n 30 "$tmp/debootstrap.log" >&2
        [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
        log "debootstrap failed"
        exit 1
fi
t1=$(date +%s)
log "debootstrap done in $((t1 - t0)) s"

# --- configure the guest -------------------------------------------------------------------
echo memtide-vm >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmemtide-vm\n' >"$root/etc/hosts"
printf '/dev/vda\t/\text4\trw,relatime,errors=remount-ro\t0\t1\n' >"$root/etc/fstab"
# A fixed machine id: with an empty one systemd treats the boot as the first one and
# systemd-firstboot may prompt on the console. Derived from the key, so stable per image.
echo "$key$key" >"$root/etc/machine-id"
chroot "$root" passwd -d root >/dev/null
# Root autologin on the serial console for interactive use (run-vm.sh --shell).
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$root/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %I $TERM
EOF
# Volatile journal: nothing to flush to disk at boot or at the forced power-off.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/memtide-vm.conf"
# Units that only cost boot time in a throw-away guest.
for u in systemd-firstboot.service e2scrub_all.timer e2scrub_reap.service fstrim.timer \
        apt-daily.timer apt-daily-upgrade.timer man-db.timer getty@tty1.service \
        systemd-timesyncd.service systemd-networkd-wait-online.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
done
# earlyoom (the comparison's peer) must not run unless a scenario starts it.
rm -f "$root/etc/systemd/system/multi-user.target.wants/earlyoom.service"
# The scenario runner.
install -D -m 0755 "$here/guest/memtide-vm-boot" "$root/usr/local/libexec/memtide-vm-boot"
install -D -m 0644 "$here/guest/memtide-scenario.service" "$root/etc/systemd/system/memtide-scenario.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../memtide-scenario.service "$root/etc/systemd/system/multi-user.target.wants/memtide-scenario.service"
# 9p comes from modules in the root file system (modprobe in memtide-vm-boot).
printf '9pnet_virtio\n9p\n' >"$root/etc/modules-load.d/memtide-vm.conf"

# Boot to multi-user.target: there is no display.
ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"

# --- kernel and initrd ---------------------------------------------------------------------
kver=$(ls "$root/lib/modules" | sort -V | tail -n 1)
[ -n "$kver" ] || { log "no kernel installed in the guest"; exit 1; }
# A small initrd with only what finds the root on virtio-blk: MODULES=most makes a 35 MiB one
# whose unpacking alone costs seconds under TCG.
sed -i 's/^MODULES=.*/MODULES=list/' "$root/etc/initramfs-tools/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >>"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k "$kver" >"$tmp/initramfs.log" 2>&1 ||
        { cat "$tmp/initramfs.log" >&2; log "update-initramfs failed"; exit 1; }
cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
for m in 9p.ko 9pnet_virtio.ko virtio_blk.ko; do
        find "$root/lib/modules/$kver" -name "$m*" | grep -q . || { log "kernel module $m missing"; exit 1; }
done

packages_versions=$(chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort)

# --- shrink: documentation, locales, package caches ----------------------------------------
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/debootstrap
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true

# --- the disk image --------------------------------------------------------------------------
used_kb=$(du -sk "$root" | cut -f1)
# Room for the scenarios' files, the installed memtide tree and the page-cache churn files
# (as large as the guest's memory). The image is sparse: free space costs nothing on the host.
size_mb=$(( used_kb / 1024 + 4096 ))
truncate -s "${size_mb}M" "$tmp/disk.raw"
mkfs.ext4 -q -F -L memtide-root -d "$root" "$tmp/disk.raw"
t2=$(date +%s)

{
        echo "key: $key"
        echo "suite: $suite"
        echo "mirror: $mirror"
        echo "kernel: $kver"
        echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n)"
        echo "build_seconds: $((t2 - t0)) (debootstrap $((t1 - t0)))"
        echo "rootfs_used_mb: $((used_kb / 1024))"
        echo "disk_apparent_mb: $size_mb"
        echo "disk_allocated_mb: $(( $(du -sk "$tmp/disk.raw" | cut -f1) / 1024 ))"
        echo "vmlinuz_bytes: $(stat -c %s "$tmp/vmlinuz")"
        echo "initrd_bytes: $(stat -c %s "$tmp/initrd.img")"
        echo "packages:"
        echo "$packages_versions" | sed 's/^/  /'
} >"$tmp/manifest.txt"

rm -rf "$root"
rm -rf "$dir"
mv "$tmp" "$dir"
touch "$dir/ok"

# Drop images of older recipes (keep the .deb cache) unless asked to keep them.
if [ -z "${MEMTIDE_VM_KEEP_OLD:-}" ]; then
        for old in "$cache/$suite"-*; do
                [ "$old" = "$dir" ] || rm -rf "$old"
        done
fi

log "image $dir ready in $((t2 - t0)) s: kernel $kver, rootfs $((used_kb / 1024)) MiB," \
        "disk $size_mb MiB apparent / $(grep disk_allocated_mb "$dir/manifest.txt" | cut -d' ' -f2) MiB allocated"
[ "$print_dir" = 1 ] && echo "$dir"
exit 0

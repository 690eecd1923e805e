#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs INSIDE the test guest, from the 9p share that run-vm.sh prepared, started by the baked
# memtide-scenario.service (via /usr/local/libexec/memtide-vm-boot). Share layout:
#   scenarios.list   names to run, one per line
#   env.sh           the host's MEMTIDE_VM_* variables, exported
#   scenarios/       <name>.sh scripts and lib.sh
#   tree/            the memtide install tree (`meson install --destdir`), may be empty
#   bin/             helper binaries (memtide-vm-helper), put on PATH
#   extra/           optional files for scenarios (e.g. capture-fixture.sh)
#   results/         written here: boot.txt, <name>/{log,rc,values.txt,...}, journal.txt, dmesg.txt
# Every line of the scenarios' output also goes to the serial console (this unit's stdout),
# and "MEMTIDE-VM-RESULT <name> rc=<n>" marks each outcome there, so the host has the results
# even if the share is unusable.

share=${1:-/run/memtide-vm}
results=$share/results
# The host's MEMTIDE_VM_* settings.
# shellcheck disable=SC1091
[ -r "$share/env.sh" ] && . "$share/env.sh"
mkdir -p "$results"
export PATH=$share/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "MEMTIDE-VM: $*"; }

# --- boot figures ----------------------------------------------------------------------------
uptime_s=$(cut -d' ' -f1 /proc/uptime)
# Monotonic µs at which the initrd and PID 1 of the real root started (systemd's own record).
initrd_us=$(systemctl show -p InitRDTimestampMonotonic --value 2>/dev/null)
userspace_us=$(systemctl show -p UserspaceTimestampMonotonic --value 2>/dev/null)
{
        echo "kernel=$(uname -r)"
        echo "uptime_at_runner_s=$uptime_s"
        echo "initrd_start_us=${initrd_us:-}"
        echo "userspace_start_us=${userspace_us:-}"
        echo "pid1=$(cat /proc/1/comm)"
        echo "cmdline=$(cat /proc/cmdline)"
        echo "mem_total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
        echo "nproc=$(nproc)"
} >"$results/boot.txt"
sed 's/^/MEMTIDE-VM-BOOT /' "$results/boot.txt"

# --- install the memtide tree ----------------------------------------------------------------
if [ -d "$share/tree" ] && [ -n "$(ls -A "$share/tree" 2>/dev/null)" ]; then
        n=$(find "$share/tree" -type f | wc -l)
        # tar, not cp -a: the guest is merged-/usr (/lib -> usr/lib) and cp refuses to put the
        # tree's lib/ directory over that symlink.
        if tar -C "$share/tree" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner; then
                say "installed the memtide tree ($n files)"
        else
                say "installing the memtide tree failed"
        fi
        ldconfig
        # A build with the default prefix (/usr/local) puts its bus policy where the system bus
        # does not look: include that directory too.
        if [ -d "$share/tree/usr/local/share/dbus-1/system.d" ]; then
                mkdir -p /etc/dbus-1/system.d
                printf '%s\n' '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"' \
                        ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">' \
                        '<busconfig><includedir>/usr/local/share/dbus-1/system.d</includedir></busconfig>' \
                        >/etc/dbus-1/system.d/zz-memtide-vm-usr-local.conf
                say "bus policy from /usr/local/share/dbus-1/system.d included"
        fi
        systemctl daemon-reload
        # Pick up a new system bus policy (org.memtide1) without restarting the bus.
        busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig \
                >/dev/null 2>&1 || say "dbus ReloadConfig failed"
        find "$share/tree" -type f | sed "s|^$share/tree||" | LC_ALL=C sort >"$results/installed-files.txt"
else
        say "no memtide tree in the share: memtide-dependent scenarios will skip"
fi

# Helper binaries also go where transient services (systemd-run) find them.
for b in "$share"/bin/*; do
        [ -f "$b" ] && install -m 0755 "$b" /usr/local/bin/
done

# --- scenarios -------------------------------------------------------------------------------
overall=0
while read -r name; do
        case "$name" in ''|'#'*) continue ;; esac
        script=$share/scenarios/$name.sh
        out=$results/$name
        mkdir -p "$out"
        say "scenario $name: start at uptime $(cut -d' ' -f1 /proc/uptime)s"
        t0=$(date +%s%N)
        if [ -x "$script" ]; then
                MEMTIDE_VM_RESULTS=$out MEMTIDE_VM_SHARE=$share MEMTIDE_VM_SCENARIO=$name \
                        "$script" </dev/null 2>&1 | tee "$out/log"
                rc=${PIPESTATUS[0]}
        else
                echo "no such scenario: $script" | tee "$out/log"
                rc=2
        fi
        t1=$(date +%s%N)
        echo "$rc" >"$out/rc"
        echo "$(( (t1 - t0) / 1000000 ))" >"$out/duration_ms"
        echo "MEMTIDE-VM-RESULT $name rc=$rc duration_ms=$(( (t1 - t0) / 1000000 ))"
        [ "$rc" = 0 ] || [ "$rc" = 77 ] || overall=1
        sync
done <"$share/scenarios.list"

journalctl -b --no-pager -o short-monotonic >"$results/journal.txt" 2>&1
dmesg >"$results/dmesg.txt" 2>&1
sync
exit "$overall"

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs INSIDE the test guest, from the 9p share that run-vm.sh prepared, started by the baked
# memtide-scenario.service (via /usr/local/libexec/memtide-vm-boot). Share layout:
#   scenarios.list   names to run, one per line
#   env.sh           the host's MEMTIDE_VM_* variables, exported
#   scenarios/       <name>.sh scripts and lib.sh
#   debs/            the memtide Debian packages (tests/vm/build-deb.sh), installed with dpkg -i
#   tree/            or an install tree (`meson install --destdir`) unpacked over /, by hand
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

# --- install memtide ---------------------------------------------------------------------------
# From the packages: dpkg -i, as an admin installs them, with a policy-rc.d that keeps the
# postinst from starting memtided (the scenarios start it themselves, from a known state; some
# measure the guest without it first). The postinst still enables the unit. What dpkg did and
# what came out is checked; when anything is wrong, no scenario runs and each one fails with
# the reason, since a scenario that needs memtide would otherwise only skip.
install_failed=""
installed=0
debs=("$share"/debs/*.deb)
if [ -f "${debs[0]}" ]; then
        own_policy_rc=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\n# memtide-vm: no service starts from maintainer scripts\nexit 101\n' >/usr/sbin/policy-rc.d
                chmod 0755 /usr/sbin/policy-rc.d
                own_policy_rc=1
        fi
        if dpkg -i "${debs[@]}" >"$results/install.log" 2>&1; then
                say "installed ${#debs[@]} packages: $(cd "$share/debs" && echo *.deb)"
        else
                install_failed="dpkg -i failed"
        fi
        [ "$own_policy_rc" = 1 ] && rm -f /usr/sbin/policy-rc.d
        installed=1
        for pkg in memtide libmemcore0; do
                st=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
                [ "$st" = "install ok installed" ] || install_failed="${install_failed:+$install_failed; }$pkg: '${st:-not installed}'"
        done
        for f in /usr/sbin/memtided /usr/bin/memtidectl /etc/memtide/memtided.conf \
                /usr/share/dbus-1/system.d/org.memtide1.conf /lib/systemd/system/memtided.service; do
                [ -e "$f" ] || install_failed="${install_failed:+$install_failed; }$f missing"
        done
        en=$(systemctl is-enabled memtided.service 2>&1)
        [ "$en" = enabled ] || install_failed="${install_failed:+$install_failed; }memtided.service is '$en', not enabled by the postinst"
        dpkg-query -W -f='${Conffiles}\n' memtide 2>/dev/null | grep -q ' /etc/memtide/memtided.conf ' ||
                install_failed="${install_failed:+$install_failed; }/etc/memtide/memtided.conf is not a conffile"
        {
                echo "packages=$(cd "$share/debs" && echo *.deb)"
                echo "memtided_enabled=$en"
                echo "memtided_active_after_install=$(systemctl is-active memtided.service 2>&1)"
                echo "failed=${install_failed:-no}"
        } >"$results/install.txt"
        dpkg -L memtide libmemcore0 2>/dev/null | LC_ALL=C sort -u >"$results/installed-files.txt"
        if [ -n "$install_failed" ]; then
                say "installing the memtide packages failed: $install_failed"
                sed 's/^/MEMTIDE-VM-INSTALL /' "$results/install.log"
        else
                say "memtide packages installed, memtided.service enabled, not started"
        fi
elif [ -d "$share/tree" ] && [ -n "$(ls -A "$share/tree" 2>/dev/null)" ]; then
        n=$(find "$share/tree" -type f | wc -l)
        installed=1
        # tar, not cp -a: the guest is merged-/usr (/lib -> usr/lib) and cp refuses to put the
        # tree's lib/ directory over that symlink.
        if tar -C "$share/tree" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner; then
                say "installed the memtide tree ($n files)"
        else
                install_failed="unpacking the install tree failed"
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
        find "$share/tree" -type f | sed "s|^$share/tree||" | LC_ALL=C sort >"$results/installed-files.txt"
else
        say "no memtide packages in the share: memtide-dependent scenarios will skip"
fi
if [ "$installed" = 1 ]; then
        systemctl daemon-reload
        # Pick up the new system bus policy (org.memtide1) without restarting the bus.
        busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig \
                >/dev/null 2>&1 || say "dbus ReloadConfig failed"
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
        if [ -n "$install_failed" ]; then
                echo "FAIL: memtide could not be installed in the guest: $install_failed (results/install.log)" | tee "$out/log"
                rc=1
        elif [ -x "$script" ]; then
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

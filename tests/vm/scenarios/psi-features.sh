#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# psi-features: in a guest whose kernel accepts PSI triggers, memtided uses them rather than the
# polling fallback. Asserts: the Features property (a(sbs): name, enabled, detail) read over the
# system bus has "psi-triggers" enabled and "psi-polling" disabled; the daemon holds at least
# one pressure file (/proc/pressure/memory or a memory.pressure) open read-write, which is how a
# trigger is armed (a poller only needs read-only).
# It also prints memtided's footprint as users run it (its unit: BPF probes attached, the system
# bus served, the guest's cgroups): VmHWM right after start, VmRSS and VmHWM after a calm
# minute, and its CPU over that minute as seconds per hour. Figures, not assertions.
. "$(dirname "$0")/lib.sh"
need_memtide

start_memtided || finish
started=$(date +%s)
pid=$(systemctl show -p MainPID --value memtided.service)
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
cpu0=$(unit_cpu_ns memtided.service)
value footprint_vmhwm_start_kib "$(status_kb VmHWM)"
cat "/proc/$pid/smaps" >"$RESULTS/memtided-smaps-start.txt" 2>/dev/null
features=$(busctl --json=short get-property org.memtide1 /org/memtide1 org.memtide1.Manager Features 2>&1); rc=$?
echo "$features" >"$RESULTS/features.json"
check "Features property readable (rc $rc)" test $rc = 0
feature_state() { # NAME -> "true", "false" or "missing"; prints the detail on stderr
        python3 -c '
import json, sys
doc = json.loads(sys.argv[1])
for name, on, detail in doc["data"]:
    if name == sys.argv[2]:
        print("true" if on else "false"); print("%s: %s" % (name, detail), file=sys.stderr); break
else:
    print("missing")' "$features" "$1"
}
triggers=$(feature_state psi-triggers)
polling=$(feature_state psi-polling)
value feature_psi_triggers "$triggers"
value feature_psi_polling "$polling"
check "Features: psi-triggers enabled" test "$triggers" = true
check "Features: psi-polling disabled" test "$polling" = false

rw=0 ro=0
for fd in /proc/"$pid"/fd/*; do
        target=$(readlink "$fd" 2>/dev/null) || continue
        case "$target" in
        /proc/pressure/memory|*/memory.pressure) ;;
        *) continue ;;
        esac
        flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/${fd##*/}")
        if [ $(( 8#$flags & 3 )) = 2 ]; then
                rw=$((rw + 1)); echo "trigger fd ${fd##*/}: $target (flags $flags)"
        else
                ro=$((ro + 1)); echo "read-only fd ${fd##*/}: $target (flags $flags)"
        fi
done
value pressure_fds_rw "$rw"
value pressure_fds_ro "$ro"
check "memtided holds a pressure file open read-write (a PSI trigger)" test "$rw" -ge 1

bpf=$(feature_state bpf 2>/dev/null)
value footprint_bpf "$bpf"
value footprint_cgroups "$(find /sys/fs/cgroup -mindepth 1 -type d | wc -l)"
wait_s=$((started + 60 - $(date +%s)))
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
cpu1=$(unit_cpu_ns memtided.service)
# where the resident set is, mapping by mapping, for the results folder
cat "/proc/$pid/smaps" >"$RESULTS/memtided-smaps-60s.txt" 2>/dev/null
value footprint_vmrss_60s_kib "$(status_kb VmRSS)"
value footprint_vmhwm_60s_kib "$(status_kb VmHWM)"
value footprint_calm_cpu_s_per_hour "$(awk -v a="$cpu0" -v b="$cpu1" -v s="$(($(date +%s) - started))" \
        'BEGIN { printf "%.1f", (b - a) / 1e9 * 3600 / s }')"
systemctl stop memtided.service
finish

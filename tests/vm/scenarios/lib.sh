# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by every scenario (tests/vm/scenarios/<name>.sh). Scenarios run as root inside the
# guest, from the 9p share, with:
#   MEMTIDE_VM_RESULTS  directory for this scenario's result files (values.txt, logs, ...)
#   MEMTIDE_VM_SHARE    the share root (extra/ holds optional files from the host)
# Exit status: 0 passed, 77 skipped (with the reason printed), anything else failed.

set -u
RESULTS=${MEMTIDE_VM_RESULTS:-/tmp/memtide-vm-results}
SHARE=${MEMTIDE_VM_SHARE:-/run/memtide-vm}
mkdir -p "$RESULTS"
failures=0

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }

# value KEY VALUE: record a figure (values.txt) and print it.
value() {
        echo "$1=$2" >>"$RESULTS/values.txt"
        echo "VALUE $1=$2"
}

# check DESCRIPTION COMMAND...: run COMMAND, count a failure if it fails; never exits.
check() {
        local what=$1
        shift
        if "$@"; then
                echo "PASS: $what"
        else
                echo "FAIL: $what"
                failures=$((failures + 1))
        fi
}

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "SKIP: $*"; exit 77; }
# daemon_health: whether memtided restarted or was killed during the scenario (a restarted
# daemon starts with an empty history and a forecast without trend), from systemd's view of
# the unit; printed before a failing scenario ends.
daemon_health() {
        systemctl cat memtided.service >/dev/null 2>&1 || return 0
        echo "--- memtided.service: $(systemctl show -p NRestarts -p MainPID -p Result -p ExecMainStatus memtided.service |
                tr '\n' ' ')"
        journalctl -q -b -u memtided.service --no-pager 2>/dev/null |
                grep -E 'started:|[Ww]atchdog|Main process exited|Scheduled restart|core dump|dumped core|Failed with|Killing|oom' |
                tail -n 20
}

finish() {
        if [ "$failures" -gt 0 ]; then
                daemon_health
                echo "$failures check(s) failed"
                exit 1
        fi
        echo "all checks passed"
        exit 0
}

# Where memtide installed the programs: /usr/sbin and /usr/bin from the package (the guest
# runner checks that), /usr/local from a hand-made `run-vm.sh --tree` of a default-prefix build.
MEMTIDED=""
MEMTIDECTL=""
for d in /usr/sbin /usr/local/sbin /usr/libexec /usr/local/libexec /usr/bin /usr/local/bin; do
        [ -z "$MEMTIDED" ] && [ -x "$d/memtided" ] && MEMTIDED=$d/memtided
        [ -z "$MEMTIDECTL" ] && [ -x "$d/memtidectl" ] && MEMTIDECTL=$d/memtidectl
done

# need_memtide: skip unless the daemon, the CLI and the unit are installed in the guest.
need_memtide() {
        [ -n "$MEMTIDED" ] || skip "memtided not installed in guest"
        [ -n "$MEMTIDECTL" ] || skip "memtidectl not installed in guest"
        systemctl cat memtided.service >/dev/null 2>&1 || skip "memtided.service not installed in guest"
        if [ -z "${MEMTIDE_MESSAGE_ACTION_KILL:-}" ]; then
                echo "FAIL: the journal MESSAGE_IDs did not reach the guest (extra/message-ids.env from daemon/log.h)"
                exit 1
        fi
}

# memtided_answers: GetStatus over the system bus succeeds.
memtided_answers() {
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager GetStatus >/dev/null 2>&1
}

# memtided_status KEY: one figure of GetStatus (its "data"), empty when it cannot be read.
memtided_status() {
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager GetStatus --json=short 2>/dev/null |
                python3 -c 'import json,sys
v=json.loads(sys.stdin.read() or "{}").get("data",[{}])[0].get(sys.argv[1],{}).get("data")
print("" if v is None else v)' "$1" 2>/dev/null
}

# start_memtided [MODE]: start the unit, wait until it answers on the system bus, then switch
# it to MODE (default enforce, as the shipped configuration starts it: the scenarios test real
# outcomes, whatever a drop-in of theirs left) with SetMode. The mode it came up in is left in
# MEMTIDED_STARTED_MODE.
start_memtided() {
        local mode=${1:-enforce} out
        systemctl start memtided.service || {
                fail "systemctl start memtided"
                journalctl -q -b -u memtided.service --no-pager | tail -n 20
                return 1
        }
        if ! wait_for 60 memtided_answers; then
                fail "memtided never answered GetStatus on the system bus"
                busctl call org.memtide1 /org/memtide1 org.memtide1.Manager GetStatus 2>&1 | head -n 3
                busctl list --no-pager 2>&1 | grep -i memtide || echo "org.memtide1 is not on the bus"
                ls /usr/share/dbus-1/system.d /etc/dbus-1/system.d /usr/local/share/dbus-1/system.d 2>/dev/null | grep -i memtide ||
                        echo "no memtide bus policy installed (…/dbus-1/system.d/org.memtide1.conf)"
                journalctl -q -b -u memtided.service --no-pager | tail -n 10
                return 1
        fi
        MEMTIDED_STARTED_MODE=$(memtided_status mode)
        if ! out=$(busctl call org.memtide1 /org/memtide1 org.memtide1.Manager SetMode s "$mode" 2>&1); then
                fail "SetMode $mode: $out"
                return 1
        fi
        log "memtided running in $mode mode"
}

# unit_cpu_ns UNIT: the unit's CPUUsageNSec, 0 when systemd does not account it.
unit_cpu_ns() {
        local v
        v=$(systemctl show -p CPUUsageNSec --value "$1" 2>/dev/null)
        [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.5 s until it succeeds; 1 on timeout.
wait_for() {
        local limit=$1 end
        shift
        end=$(( $(date +%s) + limit ))
        while ! "$@"; do
                [ "$(date +%s)" -ge "$end" ] && return 1
                sleep 0.5
        done
        return 0
}

# now_ms: monotonic-ish milliseconds (uptime), for durations inside the guest.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# kernel_oom_kills: "Out of memory: Killed process" lines in the kernel log so far.
kernel_oom_kills() { dmesg | grep -c 'Out of memory: Killed process' || true; }

# sysctl_snapshot FILE: the vm.* sysctls memtide may tune, one "name=value" per line.
sysctl_snapshot() {
        local k
        for k in watermark_scale_factor min_free_kbytes swappiness overcommit_memory \
                overcommit_ratio compaction_proactiveness extfrag_threshold vfs_cache_pressure \
                watermark_boost_factor; do
                [ -r "/proc/sys/vm/$k" ] && echo "vm.$k=$(cat "/proc/sys/vm/$k")"
        done >"$1"
}

# save_history NAME: the running memtided's `memtidectl history --json` to
# $RESULTS/history-NAME.json, for the rung table over all scenarios (tests/vm/rung-table.sh).
save_history() {
        [ -n "$MEMTIDECTL" ] && systemctl -q is-active memtided.service || return 0
        "$MEMTIDECTL" history --json >"$RESULTS/history-$1.json" 2>/dev/null || rm -f "$RESULTS/history-$1.json"
}

# The daemon's journal MESSAGE_IDs (MEMTIDE_MESSAGE_ACTION_KILL, ...), extracted from
# daemon/log.h by run-scenario.sh.
if [ -r "$SHARE/extra/message-ids.env" ]; then
        # shellcheck disable=SC1091
        . "$SHARE/extra/message-ids.env"
fi

# memtided_match: a journalctl match for the running memtided's own entries (its _PID; a
# restarted daemon is another process). Empty, and a failure, when memtided does not run.
# (A cursor taken before the workload proved unreliable in the guest: journalctl sometimes
# resolved it to a later entry and the count came out short.)
memtided_match() {
        local pid
        pid=$(systemctl show -p MainPID --value memtided.service 2>/dev/null)
        [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
        echo "_PID=$pid"
}

# journal_json SELECTOR MATCH...: entries matching SELECTOR (e.g. from memtided_match) and
# every MATCH, as JSON lines. Refuses (no output, failure) an empty SELECTOR.
journal_json() {
        local sel=$1
        shift
        [ -n "$sel" ] || return 1
        journalctl --no-pager -q -o json "$sel" "$@" 2>/dev/null
}

# unit_ms UNIT: the transient unit's main process start, in ms since boot (monotonic).
unit_ms() { echo $(( $(systemctl show -p ExecMainStartTimestampMonotonic --value "$1") / 1000 )); }

# cgroup_of_unit UNIT: the unit's cgroup directory (empty if gone).
cgroup_of_unit() {
        local cg
        cg=$(systemctl show -p ControlGroup --value "$1" 2>/dev/null)
        [ -n "$cg" ] && echo "/sys/fs/cgroup$cg"
}

# json_find_kill_of NAME: reads JSON on stdin (any shape); true if one object mentions NAME
# in its own fields and has a key or value "kill" (any case) there too; prints that object.
json_find_kill_of() { python3 "$(dirname "${BASH_SOURCE[0]}")/json-find-kill.py" "$1"; }

# --- workloads shared by the memtide scenarios and the baseline (no memtide) -----------------

# leak_with_heartbeat RATE_MIB LIMIT_S: an innocent service beating every 100 ms and a leaker
# service allocating RATE_MIB MiB/s until something ends it (or LIMIT_S passes: a failure).
# Sets: leak_seconds (start to end, s with one decimal), leak_peak_mib, leak_result (the unit's
# Result: "signal" when killed by a signal, "oom-kill" when the kernel OOM killer hit it),
# leak_oom_kills (kernel "Out of memory: Killed process" lines meanwhile), innocent_alive (0/1),
# innocent_gap_ms (longest heartbeat gap). Leaves both units for the caller to inspect and stop
# with leak_cleanup.
LEAKER=memtide-vm-leaker
INNOCENT=memtide-vm-innocent
leak_with_heartbeat() {
        local rate=$1 limit=$2 beat=/run/memtide-vm-heartbeat cg t0 t1 end cur cur_kb peak_kb=0 oom0 gap_us
        oom0=$(kernel_oom_kills)
        rm -f "$beat"
        systemd-run --quiet --unit=$INNOCENT -p MemoryAccounting=yes \
                memtide-vm-helper heartbeat "$beat" 100 || fail "cannot start $INNOCENT"
        sleep 2
        systemd-run --quiet --unit=$LEAKER -p MemoryAccounting=yes \
                memtide-vm-helper leak "$rate" || fail "cannot start $LEAKER"
        t0=$(now_ms)
        cg=$(cgroup_of_unit $LEAKER)
        log "leaker in ${cg#/sys/fs/cgroup} at $rate MiB/s"
        end=$(( $(date +%s) + limit ))
        while systemctl is-active -q $LEAKER; do
                # The cgroup may vanish mid-read (cat prints the value, then fails): keep the
                # first line if it is a number, else 0.
                cur=$(cat "$cg/memory.current" 2>/dev/null)
                cur=${cur%%$'\n'*}
                [[ $cur =~ ^[0-9]+$ ]] || cur=0
                cur_kb=$((cur / 1024))
                [ "$cur_kb" -gt "$peak_kb" ] && peak_kb=$cur_kb
                if [ "$(date +%s)" -ge "$end" ]; then
                        fail "the leaker still runs after $limit s"
                        break
                fi
                sleep 0.2
        done
        t1=$(now_ms)
        sleep 1
        leak_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
        leak_peak_mib=$((peak_kb / 1024))
        leak_result=$(systemctl show -p Result --value $LEAKER)
        leak_oom_kills=$(( $(kernel_oom_kills) - oom0 ))
        innocent_alive=0
        systemctl is-active -q $INNOCENT && innocent_alive=1
        gap_us=$(sed -n 's/.*max_gap_usec=\([0-9]*\).*/\1/p' "$beat" 2>/dev/null)
        innocent_gap_ms=$(( ${gap_us:-0} / 1000 ))
        value seconds_to_end_of_leak "$leak_seconds"
        value leaker_peak_mib "$leak_peak_mib"
        value leaker_result "$leak_result"
        value kernel_oom_kills "$leak_oom_kills"
        value innocent_alive "$innocent_alive"
        value innocent_max_gap_ms "$innocent_gap_ms"
}
leak_cleanup() {
        systemctl stop $INNOCENT $LEAKER 2>/dev/null
        systemctl reset-failed $INNOCENT $LEAKER 2>/dev/null
}

# free_2m_blocks: free blocks of order >= 9 (2 MiB with 4 KiB pages), all zones, from buddyinfo.
free_2m_blocks() {
        awk '{ n = 0; for (o = 9; o + 5 <= NF; o++) n += $(o + 5) * 2 ^ (o - 9); t += n } END { print t + 0 }' /proc/buddyinfo
}

# frag_phase NAME SETTLE_S PROBE_PERCENT: reset (no hugepages, caches dropped, memory
# compacted), fragment 85% of MemAvailable with a checkerboard held by a service, wait SETTLE_S,
# then probe: a THP fault probe over PROBE_PERCENT of MemAvailable at that moment (no madvise:
# no synchronous compaction under defrag=madvise, so it gets what free 2 MiB blocks there are)
# and a hugetlb request for the free memory less 128 MiB in 2 MiB pages (the kernel compacts
# for it; asking for more would take the memory everything else needs). None of them takes
# MemAvailable within 64 MiB of memtided's AvailableReserve= (10 % of MemTotal, the line the
# threshold daemons kill at, where a decline with no swap is a leak to be ended): each keeps
# that much (keep_mib) out of its size, since the scenario measures compaction, not a kill.
# Sets frag_thp_kb, frag_hugetlb and frag_survived (1 when the checkerboard service was still
# running at the end).
frag_phase() {
        local name=$1 settle=$2 probe_pct=$3 unit=memtide-vm-frag-$1 avail_kb frag_mib probe keep_mib
        frag_thp_kb=0 frag_hugetlb=0 frag_survived=0
        mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
        echo 0 >/proc/sys/vm/nr_hugepages
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo 1 >/proc/sys/vm/compact_memory
        sleep 2
        avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
        keep_mib=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 10 / 1024 + 64 ))
        frag_mib=$(( avail_kb * 85 / 100 / 1024 ))
        [ "$frag_mib" -le $(( avail_kb / 1024 - keep_mib )) ] || frag_mib=$(( avail_kb / 1024 - keep_mib ))
        systemd-run --quiet --unit="$unit" -p MemoryAccounting=yes -p OOMScoreAdjust=-900 \
                memtide-vm-helper checkerboard "$frag_mib" || { fail "cannot start the checkerboard"; return 1; }
        if ! wait_for 180 sh -c "journalctl -q -u $unit | grep -q 'checkerboard ready'"; then
                fail "$name: the checkerboard never got ready"
                systemctl stop "$unit"
                return 1
        fi
        log "$name: checkerboard of $frag_mib MiB ready, settling $settle s"
        value "free_2m_blocks_after_fragmenting_$name" "$(free_2m_blocks)"
        sleep "$settle"
        value "free_2m_blocks_before_request_$name" "$(free_2m_blocks)"
        cat /proc/buddyinfo >"$RESULTS/buddyinfo-$name.txt"
        cat /sys/kernel/debug/extfrag/unusable_index >"$RESULTS/unusable-index-$name.txt" 2>/dev/null
        probe=$(( ($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) / 1024 - keep_mib) * probe_pct / 100 ))
        [ "$probe" -gt 0 ] || probe=0
        value "thp_probe_mib_$name" "$probe"
        cp /proc/vmstat "$RESULTS/vmstat-before-probe-$name.txt"
        cat /proc/sys/vm/min_free_kbytes /sys/kernel/mm/transparent_hugepage/enabled \
                /sys/kernel/mm/transparent_hugepage/defrag >"$RESULTS/thp-settings-$name.txt" 2>&1
        frag_thp_kb=$(memtide-vm-helper thp "$probe" | sed -n 's/^thp_kb=\([0-9]*\).*/\1/p')
        frag_thp_kb=${frag_thp_kb:-0}
        cp /proc/vmstat "$RESULTS/vmstat-after-probe-$name.txt"
        # What the kernel did meanwhile: THP faults served and fallen back, compaction by
        # kcompactd or in the fault path, kswapd.
        local k d
        while read -r k d; do
                value "probe_${k}_$name" "$d"
        done < <(awk -v keys="thp_fault_alloc thp_fault_fallback compact_stall compact_success compact_daemon_wake
                        compact_daemon_migrate_scanned compact_migrate_scanned pgscan_kswapd pgscan_direct
                        kswapd_high_wmark_hit_quickly kswapd_low_wmark_hit_quickly thp_collapse_alloc" '
                FNR == NR { before[$1] = $2; next }
                { after[$1] = $2 }
                END { n = split(keys, k); for (i = 1; i <= n; i++) print k[i], after[k[i]] - before[k[i]] }' \
                "$RESULTS/vmstat-before-probe-$name.txt" "$RESULTS/vmstat-after-probe-$name.txt")
        local ask=$(( ($(awk '/^MemFree:/ { print $2 }' /proc/meminfo) / 1024 - (keep_mib > 128 ? keep_mib : 128)) / 2 ))
        [ "$ask" -gt 0 ] || ask=0
        value "hugetlb_asked_$name" "$ask"
        echo "$ask" >/proc/sys/vm/nr_hugepages
        frag_hugetlb=$(cat /proc/sys/vm/nr_hugepages)
        echo 0 >/proc/sys/vm/nr_hugepages
        systemctl -q is-active "$unit" && frag_survived=1
        systemctl stop "$unit" 2>/dev/null
        value "thp_kb_$name" "$frag_thp_kb"
        value "hugetlb_pages_$name" "$frag_hugetlb"
        value "checkerboard_survived_$name" "$frag_survived"
}

# cache_churn SECONDS: three files of a third of memory each, read over and over by a service
# for SECONDS. Sets churn_rc (the service's exit status); records reclaim and PSI figures.
cache_churn() {
        local secs=$1 unit=memtide-vm-churn dir=/var/tmp/memtide-churn file_mib i scan0 steal0 psi0
        file_mib=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 / 3 ))
        mkdir -p "$dir"
        for i in 1 2 3; do
                dd if=/dev/zero of="$dir/f$i" bs=1M count=$file_mib status=none || fail "cannot write $dir/f$i"
        done
        sync
        scan0=$(( $(vmstat_field pgscan_kswapd) + $(vmstat_field pgscan_direct) ))
        steal0=$(( $(vmstat_field pgsteal_kswapd) + $(vmstat_field pgsteal_direct) ))
        psi0=$(psi_some_total)
        systemd-run --quiet --wait --unit=$unit -p MemoryAccounting=yes /bin/sh -c \
                "end=\$((\$(date +%s) + $secs)); n=0; while [ \$(date +%s) -lt \$end ]; do
                        for f in $dir/f1 $dir/f2 $dir/f3; do cat \$f >/dev/null; n=\$((n + 1)); done
                 done; echo reads=\$n"
        churn_rc=$?
        value churn_seconds "$secs"
        value churn_file_mib_each "$file_mib"
        value pgscan $(( $(vmstat_field pgscan_kswapd) + $(vmstat_field pgscan_direct) - scan0 ))
        value pgsteal $(( $(vmstat_field pgsteal_kswapd) + $(vmstat_field pgsteal_direct) - steal0 ))
        value psi_some_stall_ms $(( ($(psi_some_total) - psi0) / 1000 ))
        rm -rf "$dir"
}
vmstat_field() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
psi_some_total() { sed -n 's/^some .*total=\([0-9]*\).*/\1/p' /proc/pressure/memory; }

# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the comparison scenario (compare.sh): each workload runs twice in the same boot,
# once under memtided (its unit, Mode=enforce, every other key at its shipped default) and
# once under earlyoom (Debian's package, its default configuration),
# with an innocent service holding 150 MiB and beating every 100 ms beside it. Both rows of
# figures are printed; the assertions compare memtided with earlyoom of the same boot:
#
#   exhaustion workloads: memtided ends the leak itself (its kill entry, no kernel OOM kill,
#   not earlyoom), no later than earlyoom did plus COMPARE_SLACK_MS (the leak's time: from its
#   process's start to its exit, as systemd recorded them); the innocent's worst
#   heartbeat gap over the episode (the leak's start to 1 s after its end) at most
#   max(150 ms, earlyoom's); PSI "full" growth over the episode at most
#   max(1 s, earlyoom's); memtided's sampling never later than 250 ms past its interval while
#   it acted (the longest lateness of the episode);
#   benign workloads: neither daemon throttles nor kills anything.
#
# The figures of each run go to values.txt as compare_<workload>_<daemon>_<figure>.
#
# Under TCG the leaker's pace differs between two episodes of the same workload (the guest's
# speed varies with the host), so each row also gives what the leak had reached when it was
# ended (the leaker's memory.peak) and its mean pace: a daemon that ends the leak at a smaller
# size and still later in seconds met a slower leak. The daemon that runs first alternates from
# one workload to the next, so neither always meets the guest just after boot.

. "$(dirname "$0")/lib.sh"

COMPARE_SLACK_MS=${MEMTIDE_VM_COMPARE_SLACK_MS:-500}
MEM_MIB=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
CMP_INNOCENT=memtide-cmp-innocent
CMP_LEAKER=memtide-cmp-leaker
CMP_READER=memtide-cmp-reader
CMP_BEAT=/run/memtide-cmp-heartbeat
CMP_SWAP=/var/tmp/memtide-cmp-swap
CMP_WS=/var/tmp/memtide-cmp-ws

pct() { echo $((MEM_MIB * $1 / 100)); }
# guest_stalls: how many times the guest's kernel has reported a CPU stuck (soft lockup) or an
# RCU stall since boot. Under TCG these come from the emulator starving the guest, not from
# the daemon under test; each row says how many fell in its episode.
guest_stalls() { dmesg 2>/dev/null | grep -cE 'soft lockup|rcu_preempt self-detected stall' || true; }
ms_now() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
psi_full_us() { sed -n 's/^full .*total=\([0-9]*\).*/\1/p' /proc/pressure/memory; }
# memtided_status_u KEY: one unsigned figure of GetStatus, -1 when it cannot be read.
memtided_status_u() {
        local v
        v=$(memtided_status "$1")
        [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo -1
}

# Stop the workload, drop what the kernel cached, compact: each run starts from a calm guest.
# With "launder" (the start of an episode), also touch the free memory once (cmp_launder).
cmp_reset() {
        systemctl stop $CMP_LEAKER $CMP_INNOCENT $CMP_READER 2>/dev/null
        systemctl reset-failed $CMP_LEAKER $CMP_INNOCENT $CMP_READER 2>/dev/null
        swapoff -a 2>/dev/null
        rm -f "$CMP_SWAP"
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo 1 >/proc/sys/vm/compact_memory
        [ "${1:-}" = launder ] && cmp_launder
        sleep 3
}

# Touch the guest's free memory once, then give it back. Under TCG a page that held code
# qemu translated (the page cache just dropped held the text of every program the scenario
# ran) is written through qemu's slow path until its translations are invalidated: the first
# process to fault such pages in pays for it. An episode's innocent and leaker met that
# unevenly (the leaker's kernel time ran at 18 s per 100 MiB at the start of one episode and
# 0.6 s later in the same episode; the innocent's 150 MiB took 1 s in one episode and 31 s in
# another), which moved the leak's end by seconds either way whatever daemon ran. No daemon
# runs here (the next one starts after the reset), and what is touched stays above the
# kernel's watermarks: MemFree less 10 % of RAM.
cmp_launder() {
        local free_mib
        free_mib=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
        [ "$((free_mib - $(pct 10)))" -gt 64 ] || return 0
        systemd-run --quiet --wait --unit=memtide-cmp-launder -p MemoryAccounting=yes \
                memtide-vm-helper program launder "grow:$((free_mib - $(pct 10))):max" >/dev/null 2>&1
        systemctl reset-failed memtide-cmp-launder 2>/dev/null
}

# The innocent's beat file shows a beat once it holds its memory (it fills it first): the
# leak starts beside an innocent that beats, not one still faulting its memory in.
cmp_innocent_beats() {
        local b
        b=$(sed -n 's/^beats=\([0-9]*\) .*/\1/p' "$CMP_BEAT" 2>/dev/null)
        [ "${b:-0}" -ge 5 ]
}

cmp_daemon_start() {
        case $1 in
        memtided)
                systemctl set-property --runtime memtided.service CPUAccounting=yes >/dev/null 2>&1
                # an experiment's keys (MEMTIDE_VM_COMPARE_CONF, the text of a drop-in), said in
                # the log; unset, the shipped configuration
                rm -f /etc/memtide/policy.d/90-compare.conf
                if [ -n "${MEMTIDE_VM_COMPARE_CONF:-}" ]; then
                        mkdir -p /etc/memtide/policy.d
                        printf '%s\n' "$MEMTIDE_VM_COMPARE_CONF" >/etc/memtide/policy.d/90-compare.conf
                        log "memtided with a drop-in: $(tr '\n' ' ' <<<"$MEMTIDE_VM_COMPARE_CONF")"
                fi
                start_memtided enforce || return 1
                # the package's own configuration enforces: no SetMode is needed to protect
                [ -n "${MEMTIDE_VM_COMPARE_CONF:-}" ] ||
                        check "memtided as installed starts in enforce mode (${MEMTIDED_STARTED_MODE:-?})" \
                                test "${MEMTIDED_STARTED_MODE:-}" = enforce
                ;;
        earlyoom)
                systemctl set-property --runtime earlyoom.service CPUAccounting=yes >/dev/null 2>&1
                systemctl start earlyoom.service || { fail "systemctl start earlyoom"; return 1; }
                wait_for 10 systemctl -q is-active earlyoom.service || { fail "earlyoom did not start"; return 1; }
                ;;
        esac
}

cmp_daemon_stop() {
        [ "$1" = memtided ] && save_history "memtided-$(date +%s%N)"
        systemctl stop "$1.service" 2>/dev/null
}

# The reader of hotws: a file working set of 40 % of RAM, written once, re-read at 40 MiB/s by
# its own service; returns once the working set is in the page cache.
cmp_start_reader() {
        memtide-vm-helper pagecache read "$CMP_WS" "$(pct 40)" 1 >/dev/null 2>&1   # write it once
        systemd-run --quiet --unit=$CMP_READER -p MemoryAccounting=yes \
                memtide-vm-helper pagecache read "$CMP_WS" "$(pct 40)" 100000 40 ||
                fail "cannot start $CMP_READER"
        sleep 10
}

# The workload of one name: its setup (swap, a file working set) and the leaker's command.
# Sets CMP_KIND (exhaust or benign) and CMP_CAP (seconds).
cmp_workload() {
        case $1 in
        runaway)
                CMP_KIND=exhaust CMP_CAP=150
                CMP_CMD=(memtide-vm-helper program runaway "grow:inf:${MEMTIDE_VM_RUNAWAY_RATE:-100}") ;;
        slow)
                CMP_KIND=exhaust CMP_CAP=300
                CMP_CMD=(memtide-vm-helper program slow "grow:inf:${MEMTIDE_VM_SLOW_RATE:-15}") ;;
        phased)
                CMP_KIND=exhaust CMP_CAP=300
                # the second climb at a pace the TCG guest holds (it reaches 21-24 MiB/s when
                # asked for 50, and a leak that runs as fast as the guest allows ends later in the
                # slower of two episodes whoever ends it)
                CMP_CMD=(memtide-vm-helper program phased "grow:$(pct 40):50" hold:20
                         "grow:inf:${MEMTIDE_VM_PHASED_RATE:-16}") ;;
        hotws)
                CMP_KIND=exhaust CMP_CAP=300
                cmp_start_reader
                CMP_CMD=(memtide-vm-helper program hotws grow:inf:30) ;;
        swapthrash)
                # memtided ended it in 44-64 s; earlyoom never did within 360 s, and its
                # PSI figure only grows with the episode, so 120 s decides the comparison
                CMP_KIND=exhaust CMP_CAP=120
                dd if=/dev/zero of="$CMP_SWAP" bs=1M count="$(pct 50)" status=none && chmod 600 "$CMP_SWAP" &&
                        mkswap -q "$CMP_SWAP" >/dev/null && swapon "$CMP_SWAP" || fail "cannot set up the swapfile"
                CMP_CMD=(memtide-vm-helper program swapthrash thrash:30) ;;
        spike)
                CMP_KIND=benign CMP_CAP=240
                local p
                p=$(pct 65)
                CMP_CMD=(memtide-vm-helper program spike "grow:$p:150" hold:20 free hold:5 "grow:$p:150" hold:20 free hold:5
                         "grow:$p:150" hold:20 free hold:5) ;;
        *)
                fail "no workload $1"; return 1 ;;
        esac
}

# cmp_probe WORKLOAD DAEMON (MEMTIDE_VM_COMPARE_PROBE set; run in the background): over the
# leak's first 20 s, every 0.5 s, the leaker's state, minor faults and CPU ticks
# (/proc/PID/stat fields 3, 10, 14, 15), its wait channel and kernel stack, the guest's CPU
# line, load and the vmstat counters of faults, reclaim and compaction, and the busiest
# processes, in probe-WORKLOAD-DAEMON-EPOCH.txt. It forks every round: for finding where an
# episode's time goes, not for the figures the checks use.
cmp_probe() {
        local out lp i
        out="$RESULTS/probe-$1-$2-$(date +%s).txt"
        lp=$(systemctl show -p MainPID --value $CMP_LEAKER)
        for i in $(seq 1 40); do
                {
                        echo "== $i ${EPOCHREALTIME} leaker $lp"
                        cut -d' ' -f3,10,14,15 "/proc/$lp/stat"
                        cat "/proc/$lp/wchan"; echo
                        head -n 8 "/proc/$lp/stack"
                        head -n 1 /proc/stat
                        cat /proc/loadavg
                        grep -E '^(pgfault|pgmajfault|pgalloc_normal|pgalloc_dma32|pgfree|nr_free_pages|allocstall_normal|allocstall_movable|pgscan_kswapd|pgscan_direct|pgsteal_kswapd|workingset_refault_file|compact_stall|compact_migrate_scanned|thp_fault_alloc|drop_pagecache) ' /proc/vmstat |
                                tr '\n' ' '
                        echo
                        ps -eo pid,stat,pcpu,time,comm --sort=-pcpu | head -n 6
                } >>"$out" 2>&1
                sleep 0.5
        done
}

# cmp_probe_sys WORKLOAD DAEMON (MEMTIDE_VM_COMPARE_PROBE set; run in the background from the
# daemon's start): for 150 s, every second, the uptime, the guest's CPU line, the vmstat counters
# of faults, reclaim, compaction and THP, MemFree and Cached, and the CPU ticks (utime, stime) of
# every process that used any, in sys-WORKLOAD-DAEMON-EPOCH.txt. It forks nothing per round.
cmp_probe_sys() {
        local out i f line comm rest pid u s key val
        out="$RESULTS/sys-$1-$2-$(date +%s).txt"
        for i in $(seq 1 150); do
                {
                        read -r line </proc/uptime; echo "== $i $line"
                        read -r line </proc/stat; echo "$line"
                        while read -r key val; do
                                case $key in
                                pgfault|pgmajfault|pgscan_kswapd|pgscan_direct|pgsteal_kswapd|pgsteal_direct|allocstall_normal|allocstall_movable|compact_stall|compact_migrate_scanned|compact_free_scanned|compact_isolated|thp_fault_alloc|thp_fault_fallback|thp_collapse_alloc|workingset_refault_file|pgpgin|pgpgout|nr_free_pages|nr_file_pages|pgactivate|pgdeactivate|pgrefill)
                                        printf '%s=%s ' "$key" "$val" ;;
                                esac
                        done </proc/vmstat
                        echo
                        for f in /proc/[0-9]*/stat; do
                                { read -r line <"$f"; } 2>/dev/null || continue
                                pid=${line%% *}; comm=${line#*(}; comm=${comm%)*}; rest=${line##*) }
                                read -r _ _ _ _ _ _ _ _ _ _ _ u s _ <<<"$rest"
                                [ "$((u + s))" -gt 0 ] && echo "p $pid $comm $u $s"
                        done
                } >>"$out" 2>&1
                sleep 1
        done
}

# cmp_leaker_running PID: whether the leaker still runs, its main process PID there and not a
# zombie; without a pid, systemd's word for it.
cmp_leaker_running() {
        local st
        if [[ ${1:-} =~ ^[1-9][0-9]*$ ]]; then
                { read -r st </proc/"$1"/stat; } 2>/dev/null || return 1
                st=${st##*) }
                [ "${st%% *}" != Z ]
                return
        fi
        [ "$(systemctl show -p SubState --value $CMP_LEAKER 2>/dev/null)" = running ]
}

# cmp_run WORKLOAD DAEMON: one episode; its figures in CMP_* and values.txt.
cmp_run() {
        local w=$1 daemon=$2 t0 t1 psi0 cpu0 oom0 cg peak_kb=0 cur gap_us sel="" since
        CMP_SECONDS=0 CMP_POLLED_S=0 CMP_GAP_MS=0 CMP_PSI_MS=0 CMP_CPU_MS=0 CMP_ENDED_BY=none CMP_THROTTLES=0 CMP_KILLS=0
        CMP_LATE_MS=0 CMP_WARN_LEAD_S=none CMP_ACTION_LEAD_S=none CMP_PEAK_MIB=0 CMP_PACE=0
        CMP_SAMPLES=none CMP_GAP_AT_S=none CMP_GAP_ALL_MS=0 CMP_KILL_AT_S=none CMP_PSI_END_MS=0 CMP_PSI_FIRST_S=none
        CMP_RESTARTS=0 CMP_STALLS=0
        local stalls0 samples0=-1 restarts0 psi_line psi_prev psi_end tr0 series=() lpid nap

        cmp_reset launder
        cmp_daemon_start "$daemon" || return 1
        [ "$daemon" = memtided ] && sel=$(memtided_match)
        [ -n "${MEMTIDE_VM_COMPARE_PROBE:-}" ] && cmp_probe_sys "$w" "$daemon" &
        since=$(date '+%Y-%m-%d %H:%M:%S')
        rm -f "$CMP_BEAT" "$CMP_BEAT.gaps"
        systemd-run --quiet --unit=$CMP_INNOCENT -p MemoryAccounting=yes \
                memtide-vm-helper heartbeat "$CMP_BEAT" 100 150 || fail "cannot start $CMP_INNOCENT"
        wait_for 120 cmp_innocent_beats || fail "$w/$daemon: the innocent does not beat within 120 s"
        sleep 2
        cmp_workload "$w" || return 1
        oom0=$(kernel_oom_kills)
        stalls0=$(guest_stalls)
        psi0=$(psi_full_us)
        cpu0=$(unit_cpu_ns "$daemon.service")
        restarts0=$(systemctl show -p NRestarts --value "$daemon.service" 2>/dev/null)
        [ "$daemon" = memtided ] && samples0=$(memtided_status_u samples)
        t0=$(ms_now)
        tr0=${EPOCHREALTIME/./}
        psi_prev=$psi0 psi_end=$psi0
        # RemainAfterExit: the unit stays (substate "exited") once its process has gone, with
        # systemd's record of when it started and exited; a SIGTERM death counts as a clean
        # exit for a service, and the transient unit would be collected at once
        systemd-run --quiet --unit=$CMP_LEAKER -p MemoryAccounting=yes -p RemainAfterExit=yes "${CMP_CMD[@]}" ||
                fail "cannot start $CMP_LEAKER"
        cg=$(cgroup_of_unit $CMP_LEAKER)
        lpid=$(systemctl show -p MainPID --value $CMP_LEAKER 2>/dev/null)
        [ -n "${MEMTIDE_VM_COMPARE_PROBE:-}" ] && cmp_probe "$w" "$daemon" &
        # The poll forks nothing but what it must: it runs beside the workload on the guest's
        # two vCPUs (one host thread under TCG), and a round of systemctl, cat and awk took
        # tens of milliseconds of the CPU the innocent and the daemon wait for. The leak runs
        # while its main process does (a pid read once; systemctl only where that failed); the
        # time between rounds is a read with a timeout on a pipe nobody writes to.
        exec {nap}<> <(:)
        while cmp_leaker_running "$lpid"; do
                # the unit's cgroup may not be known yet right after systemd-run
                [ -d "$cg" ] || cg=$(cgroup_of_unit $CMP_LEAKER)
                # memory.peak keeps the high-water mark between two polls of a stalled guest
                cur=
                { read -r cur <"$cg/memory.peak" || read -r cur <"$cg/memory.current"; } 2>/dev/null
                [[ $cur =~ ^[0-9]+$ ]] || cur=0
                [ $((cur / 1024)) -gt "$peak_kb" ] && peak_kb=$((cur / 1024))
                # PSI full as the leak goes: each step of 50 ms or more with its time, and the
                # total at the end
                { read -r _; read -r psi_line; } </proc/pressure/memory 2>/dev/null
                psi_line=${psi_line##*total=}
                if [[ $psi_line =~ ^[0-9]+$ ]]; then
                        psi_end=$psi_line
                        if [ $((psi_line - psi_prev)) -ge 50000 ]; then
                                series+=("$(( (${EPOCHREALTIME/./} - tr0) / 1000 )) $(( (psi_line - psi0) / 1000 ))")
                                psi_prev=$psi_line
                        fi
                fi
                if [ $(( (${EPOCHREALTIME/./} - tr0) / 1000000 )) -ge "$CMP_CAP" ]; then
                        # memtided must end every exhaustion; earlyoom that has not ended it is
                        # a figure of the comparison (its row says "ended by none"), and the
                        # episode stops here
                        if [ "$CMP_KIND" = exhaust ] && [ "$daemon" = memtided ]; then
                                fail "$w/$daemon: the leak still runs after $CMP_CAP s"
                        elif [ "$CMP_KIND" = exhaust ]; then
                                log "$w/$daemon: the leak still runs after $CMP_CAP s; stopping it"
                        fi
                        break
                fi
                read -r -t 0.1 -u "$nap" _ || :
        done
        exec {nap}<&-
        t1=$(ms_now)
        sleep 1
        # The leak's time from systemd's own record of its process: exec to exit (CLOCK_MONOTONIC
        # µs), where both are known; the poll above sees the end only at its next round (a round
        # took 0.1-0.4 s under TCG when it forked systemctl and cat). A leak still running at
        # the cap, or a unit already collected: the poll's figure.
        local ts_start ts_exit
        ts_start=$(systemctl show -p ExecMainStartTimestampMonotonic --value $CMP_LEAKER 2>/dev/null)
        ts_exit=$(systemctl show -p ExecMainExitTimestampMonotonic --value $CMP_LEAKER 2>/dev/null)
        CMP_POLLED_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
        CMP_SECONDS=$CMP_POLLED_S
        if [[ ${ts_start:-} =~ ^[1-9][0-9]*$ ]] && [[ ${ts_exit:-} =~ ^[1-9][0-9]*$ ]] && [ "$ts_exit" -gt "$ts_start" ]; then
                CMP_SECONDS=$(awk -v a="$ts_start" -v b="$ts_exit" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
        fi
        CMP_PEAK_MIB=$((peak_kb / 1024))
        CMP_PACE=$(awk -v p="$CMP_PEAK_MIB" -v s="$CMP_SECONDS" 'BEGIN { printf "%.1f", (s > 0 ? p / s : 0) }')
        # The innocent's longest gap over the episode: from the leak's start to 1 s after its
        # end (the victim's exit), from the heartbeat's log of every gap over 110 ms (none
        # there: every gap of the episode was 110 ms or less); when it ended, in seconds from
        # the leak's start (CLOCK_MONOTONIC, as the journal's __MONOTONIC_TIMESTAMP). The
        # longest gap since the innocent started, the daemon's start-up and the workload's
        # set-up included, is kept as gap_all_ms.
        gap_us=$(sed -n 's/.*max_gap_usec=\([0-9]*\).*/\1/p' "$CMP_BEAT" 2>/dev/null)
        CMP_GAP_ALL_MS=$(( ${gap_us:-0} / 1000 ))
        read -r CMP_GAP_MS CMP_GAP_AT_S < <(awk -v a="$t0" -v b="$(ms_now)" '
                { end = $1 / 1000; start = end - $2 / 1000
                  if (end > a && start < b && $2 / 1000 > max) { max = $2 / 1000; at = (end - a) / 1000 } }
                END { if (max > 0) printf "%d %.1f\n", max, at; else print "110 none" }' "$CMP_BEAT.gaps" 2>/dev/null)
        CMP_GAP_MS=${CMP_GAP_MS:-0} CMP_GAP_AT_S=${CMP_GAP_AT_S:-none}
        CMP_PSI_MS=$(( ($(psi_full_us) - psi0) / 1000 ))
        # the part of it before the leak's end was seen (the approach; the rest is the victim's
        # exit and the refaults after it), and when the first 50 ms of it had accrued
        CMP_PSI_END_MS=$(( (psi_end - psi0) / 1000 ))
        [ "${#series[@]}" -gt 0 ] && CMP_PSI_FIRST_S=$(awk -v m="${series[0]%% *}" 'BEGIN { printf "%.1f", m / 1000 }')
        printf '%s\n' "${series[@]+"${series[@]}"}" >"$RESULTS/psi-full-$w-$daemon.txt"
        CMP_CPU_MS=$(( ($(unit_cpu_ns "$daemon.service") - cpu0) / 1000000 ))
        # a daemon that systemd restarted in the episode (its watchdog, a crash): its journal
        # selection and its figures cover only the first instance
        CMP_RESTARTS=$(( $(systemctl show -p NRestarts --value "$daemon.service" 2>/dev/null || echo 0) - ${restarts0:-0} ))
        CMP_RESULT=$(systemctl show -p Result --value $CMP_LEAKER)
        CMP_OOM=$(( $(kernel_oom_kills) - oom0 ))
        CMP_STALLS=$(( $(guest_stalls) - stalls0 ))
        if [ "$daemon" = memtided ]; then
                local kills throttles first_level first_action kill_t late
                kills=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_KILL" | grep -F "$CMP_LEAKER" |
                        grep -c '"MEMTIDE_STATUS":"done"' || true)
                # a kill's escalation (SIGKILL after SIGTERM, or the victim's exit) has its own
                # record, with the reason "escalation": one kill, not two
                CMP_KILLS=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_KILL" | grep -F '"MEMTIDE_STATUS":"done"' |
                            grep -vc '"MEMTIDE_REASON":"escalation"' || true)
                CMP_THROTTLES=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_THROTTLE" |
                                grep -c '"MEMTIDE_STATUS":"done"' || true)
                [ "$kills" -gt 0 ] && CMP_ENDED_BY=memtided
                # the longest lateness while acting; 0 when memtided does not report it
                late=$(memtided_status max_sample_lateness_acting_usec)
                [[ $late =~ ^[0-9]*$ ]] && CMP_LATE_MS=$(( ${late:-0} / 1000 )) || CMP_LATE_MS=-1
                # the samples memtided took in the episode: its CPU is about their number times
                # the cost of one
                local samples1
                samples1=$(memtided_status_u samples)
                [ "$samples0" -ge 0 ] && [ "$samples1" -ge "$samples0" ] && CMP_SAMPLES=$((samples1 - samples0))
                # lead times: the first level change (the Warning signal goes out in the same
                # tick) and the first gentle action (tune or reclaim) before the kill
                first_level=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_FORECAST_LEVEL" | head -n 1 |
                        python3 -c 'import json,sys; l=sys.stdin.read(); print(json.loads(l)["__MONOTONIC_TIMESTAMP"] if l else "")')
                first_action=$( (journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_SYSCTL";
                                 journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_RECLAIM") |
                        python3 -c 'import json,sys
t=[int(json.loads(l)["__MONOTONIC_TIMESTAMP"]) for l in sys.stdin if l.strip()]
print(min(t) if t else "")')
                kill_t=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_KILL" | grep -F "$CMP_LEAKER" | head -n 1 |
                        python3 -c 'import json,sys; l=sys.stdin.read(); print(json.loads(l)["__MONOTONIC_TIMESTAMP"] if l else "")')
                [ -n "$kill_t" ] && CMP_KILL_AT_S=$(awk -v k="$kill_t" -v a="$t0" 'BEGIN { printf "%.1f", k / 1e6 - a / 1000 }')
                if [ -n "$kill_t" ] && [ -n "$first_level" ]; then
                        CMP_WARN_LEAD_S=$(awk -v k="$kill_t" -v f="$first_level" 'BEGIN { printf "%.1f", (k - f) / 1e6 }')
                fi
                if [ -n "$kill_t" ] && [ -n "$first_action" ]; then
                        CMP_ACTION_LEAD_S=$(awk -v k="$kill_t" -v f="$first_action" 'BEGIN { printf "%.1f", (k - f) / 1e6 }')
                fi
                journal_json "$sel" >"$RESULTS/journal-memtided-$w.json" 2>/dev/null
        else
                local ek
                # "sending SIGTERM to process N": a kill; its start-up banner "sending SIGTERM
                # when mem <= ..." is not one
                ek=$(journalctl -q --no-pager -u earlyoom.service --since "$since" |
                        grep -cE 'sending SIG[A-Z]+ to process' || true)
                CMP_KILLS=$ek
                [ "$ek" -gt 0 ] && CMP_ENDED_BY=earlyoom
                journalctl -q --no-pager -u earlyoom.service --since "$since" >"$RESULTS/journal-earlyoom-$w.txt" 2>&1
        fi
        [ "$CMP_OOM" -gt 0 ] && CMP_ENDED_BY=kernel
        cmp_daemon_stop "$daemon"
        local k v
        for k in SECONDS POLLED_S PEAK_MIB PACE GAP_MS GAP_AT_S GAP_ALL_MS PSI_MS PSI_END_MS PSI_FIRST_S CPU_MS SAMPLES ENDED_BY RESULT OOM THROTTLES KILLS KILL_AT_S LATE_MS WARN_LEAD_S ACTION_LEAD_S RESTARTS STALLS; do
                v=CMP_$k
                echo "compare_${w}_${daemon}_$(echo "$k" | tr 'A-Z' 'a-z')=${!v}" >>"$RESULTS/values.txt"
        done
        printf '%-10s %-9s ended %6ss (polled %ss) by %-8s peak %5s MiB (%5s MiB/s)  gap %5s ms (ended at %ss; %s ms since the innocent started)  PSI full %6s ms (%s ms before the end; from %ss)  CPU %6s ms  throttles %s kills %s restarts %s guest stalls %s' \
                "$w" "$daemon" "$CMP_SECONDS" "$CMP_POLLED_S" "$CMP_ENDED_BY" "$CMP_PEAK_MIB" "$CMP_PACE" "$CMP_GAP_MS" "$CMP_GAP_AT_S" "$CMP_GAP_ALL_MS" "$CMP_PSI_MS" \
                "$CMP_PSI_END_MS" "$CMP_PSI_FIRST_S" "$CMP_CPU_MS" \
                "$CMP_THROTTLES" "$CMP_KILLS" "$CMP_RESTARTS" "$CMP_STALLS"
        [ "$daemon" = memtided ] &&
                printf '  samples %s  late %s ms  kill at %ss  leads: warning %s s, tune/reclaim %s s' "$CMP_SAMPLES" "$CMP_LATE_MS" \
                        "$CMP_KILL_AT_S" "$CMP_WARN_LEAD_S" "$CMP_ACTION_LEAD_S"
        printf '\n'
        cmp_reset
}

# cmp_boot_settled: true when systemd runs no job but the runner's (a oneshot that holds
# multi-user.target) and those of targets.
cmp_boot_settled() {
        ! systemctl list-jobs --no-legend 2>/dev/null | awk '{ print $2 }' |
                grep -vqE '^(memtide-scenario\.service|.*\.target)$'
}

max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }

# compare WORKLOAD...: both daemons on each, then the assertions.
compare() {
        local w m_s m_gap m_psi m_by m_late m_thr m_kills m_warn m_act m_restarts e_s e_gap e_psi e_by e_kills
        need_memtide
        systemctl cat earlyoom.service >/dev/null 2>&1 || skip "earlyoom is not installed in the guest image"
        # the first episode should not meet the boot's own work: wait (60 s at most) until no
        # start job is queued but this scenario's runner and the targets waiting for it, then
        # a little more
        wait_for 60 cmp_boot_settled
        # No timer fires during an episode: the comparison's one boot runs for ~20 min, and
        # systemd-tmpfiles-clean.timer (15 min after boot) fired inside an episode, in the same
        # minute as a 21 s freeze of this single-threaded guest (RCU stall warnings).
        local timers
        timers=$(systemctl list-units --type=timer --state=active --no-legend --plain 2>/dev/null | awk '{ print $1 }')
        if [ -n "$timers" ]; then
                # shellcheck disable=SC2086
                systemctl stop $timers 2>/dev/null
                log "timers stopped for the comparison: $(echo $timers)"
        fi
        # One exhaustion with no daemon running, ended by the kernel's OOM killer (the warm-up
        # is its first choice, OOMScoreAdjust=1000). It touches all of the guest's memory, so
        # qemu has backed every guest page with host memory, and it runs the kernel's direct
        # reclaim, kswapd, compaction and OOM paths once: under TCG the first run of a code path
        # pays for its translation, and without this the first episode of a boot met a guest
        # several times slower than the later ones (62.9 s against 11.0 s for the same runaway
        # leak under the same daemon).
        # Where a workload re-reads a file working set (hotws), the warm-up exhausts memory
        # beside that reader too: the kernel's refault and workingset paths are then translated
        # before the first episode, which otherwise met them first (memtided's first hotws
        # episodes of a boot stalled 1.1-1.6 s, its later ones 0.4-1.0 s).
        [[ " $* " == *" hotws "* ]] && cmp_start_reader
        systemd-run --quiet --wait --unit=memtide-cmp-warmup -p OOMScoreAdjust=1000 -p MemoryAccounting=yes \
                memtide-vm-helper program warmup "grow:inf:200" >/dev/null 2>&1
        log "warm-up exhaustion over: $(kernel_oom_kills) kernel OOM kill(s) since boot"
        systemctl reset-failed memtide-cmp-warmup 2>/dev/null
        cmp_reset
        sleep 5
        echo "workload   daemon    figures (the leak's end from its start; the innocent's worst heartbeat gap; PSI full growth; daemon CPU)"
        local n=0 d order
        for w in "$@"; do
                # memtided first in the first, third, ... workload, earlyoom first in the others
                order="memtided earlyoom"
                [ $((n++ % 2)) = 1 ] && order="earlyoom memtided"
                for d in $order; do
                        cmp_run "$w" "$d" || continue 2
                        if [ "$d" = memtided ]; then
                                m_s=$CMP_SECONDS m_gap=$CMP_GAP_MS m_psi=$CMP_PSI_MS m_by=$CMP_ENDED_BY m_late=$CMP_LATE_MS
                                m_thr=$CMP_THROTTLES m_kills=$CMP_KILLS m_warn=$CMP_WARN_LEAD_S m_act=$CMP_ACTION_LEAD_S
                                m_restarts=$CMP_RESTARTS
                        else
                                e_s=$CMP_SECONDS e_gap=$CMP_GAP_MS e_psi=$CMP_PSI_MS e_by=$CMP_ENDED_BY e_kills=$CMP_KILLS
                        fi
                done
                check "$w: memtided ran the whole episode as one process ($m_restarts restarts)" test "$m_restarts" = 0
                if [ "$CMP_KIND" = benign ]; then
                        check "$w: memtided neither throttled nor killed ($m_thr throttles, $m_kills kills)" \
                                test "$m_thr" = 0 -a "$m_kills" = 0
                        check "$w: earlyoom killed nothing ($e_kills)" test "$e_kills" = 0
                        continue
                fi
                check "$w: memtided ended the leak itself (ended by $m_by)" test "$m_by" = memtided
                check "$w: memtided ended it no later than earlyoom did + ${COMPARE_SLACK_MS} ms (${m_s} s vs ${e_s} s)" \
                        awk -v m="$m_s" -v e="$e_s" -v s="$COMPARE_SLACK_MS" 'BEGIN { exit !(m * 1000 <= e * 1000 + s) }'
                check "$w: the innocent's worst gap ${m_gap} ms ≤ max(150, earlyoom's ${e_gap}) ms" \
                        test "$m_gap" -le "$(max 150 "$e_gap")"
                check "$w: PSI full ${m_psi} ms ≤ max(1000, earlyoom's ${e_psi}) ms" test "$m_psi" -le "$(max 1000 "$e_psi")"
                check "$w: sampling at most 250 ms late while acting (${m_late} ms)" test "$m_late" -ge 0 -a "$m_late" -le 250
                if [ "$w" = slow ]; then
                        # a slow leak is seen well ahead: the warning and a gentle action come 30 s
                        # or more before the kill
                        check "$w: the warning came ≥ 30 s before the kill (${m_warn} s)" \
                                awk -v x="$m_warn" 'BEGIN { exit !(x != "none" && x + 0 >= 30) }'
                        check "$w: a tune or reclaim action came ≥ 30 s before the kill (${m_act} s)" \
                                awk -v x="$m_act" 'BEGIN { exit !(x != "none" && x + 0 >= 30) }'
                fi
        done
        rm -f "$CMP_WS"
}

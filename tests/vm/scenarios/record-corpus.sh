#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# record-corpus: not a test. Makes recordings (traces) of memory workloads for tests/corpus/,
# one after another in one boot, each written by memtide-corpus-recorder to
# $MEMTIDE_VM_RESULTS/traces/<name>.trace.gz. Driven by tests/corpus/make-corpus.sh, which
# passes the list as extra/corpus-batch.txt, one recording a line:
#   <family> <name> <workload> [key=value]...
# (the format of tests/corpus/recordings.txt). The workloads and their keys are the run_*
# functions below. Between recordings the guest is reset: workload units stopped, swap off and
# swapfiles removed, zswap off, huge pages released, caches dropped, memory compacted,
# MemAvailable left to settle.
# Each recording: the recorder starts, 3 s later the innocent service (150 MiB, a heartbeat
# every 100 ms), 3 s later the workload. An exhaustion recording ends 10 s after the kernel's
# OOM kill (the first, or the last leaker's with until=all), a benign one 5 s after its
# workload ends; every one has a hard cap (cap=, seconds from the workload's start).
# MEMTIDE_VM_CORPUS_BUDGET_S (default 960): a recording whose cap does not fit in what is left
# of it is not started ("skipped budget" in status.txt, for the next boot).
# Writes status.txt: "<name> ok|failed|skipped <reason> <seconds>" per recording, and
# <name>.log (the units' journal). Exit 0 when every recording started was written.
. "$(dirname "$0")/lib.sh"

batch=$SHARE/extra/corpus-batch.txt
[ -r "$batch" ] || skip "no $batch (run through tests/corpus/make-corpus.sh)"
command -v memtide-corpus-recorder >/dev/null || skip "memtide-corpus-recorder is not on PATH"
budget=${MEMTIDE_VM_CORPUS_BUDGET_S:-960}
t_begin=$(date +%s)
traces=$RESULTS/traces
mkdir -p "$traces"
status=$RESULTS/status.txt
: >"$status"

CTL=/run/corpus-ctl
SWAPFILE=/var/tmp/corpus-swapfile
CACHEDIR=/var/tmp/corpus-cache
TMPFS=/run/corpus-tmpfs
UNITS="innocent spike build cache hold tmpfs plateau leaker leaker-a leaker-b leaker-c ballast thrasher frag hugepages"
mem_total_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
mem_total_mib=$((mem_total_kb / 1024))

# pct P: P % of MemTotal, in MiB.
pct() { echo $((mem_total_mib * $1 / 100)); }
avail_mib() { awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo; }
oom_count() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }

# mark LINE: an event line for the recorder (never blocks: the recorder holds the FIFO open).
mark() { [ -p "$CTL" ] && timeout 30 sh -c 'echo "$1" >"$2"' sh "$1" "$CTL"; }

# start UNIT [systemd-run options] -- COMMAND...: a transient workload service under
# system.slice; its stdout goes to the recorder (event lines), stderr to the journal.
start() {
        local unit=$1
        shift
        local opts=()
        while [ "$1" != -- ]; do opts+=("$1"); shift; done
        shift
        systemd-run --quiet --unit="$unit" -p MemoryAccounting=yes -p StandardOutput=file:$CTL \
                -p StandardError=journal "${opts[@]}" "$@"
}
active() { systemctl is-active -q "$1.service"; }

reset_guest() {
        local u a0 a1 i
        for u in $UNITS; do systemctl stop "$u.service" 2>/dev/null; done
        systemctl stop corpus-recorder.service 2>/dev/null
        systemctl reset-failed 2>/dev/null
        swapoff -a 2>/dev/null
        rm -f "$SWAPFILE"
        [ -w /sys/module/zswap/parameters/enabled ] && echo N >/sys/module/zswap/parameters/enabled
        echo 0 >/proc/sys/vm/nr_hugepages
        mountpoint -q "$TMPFS" && umount "$TMPFS"
        rm -rf "$CACHEDIR" /run/corpus-heartbeat "$CTL"
        echo madvise >/sys/kernel/mm/transparent_hugepage/defrag
        sync
        echo 3 >/proc/sys/vm/drop_caches
        echo 1 >/proc/sys/vm/compact_memory
        a0=$(avail_mib)
        for i in $(seq 15); do
                sleep 2
                a1=$(avail_mib)
                [ $((a1 - a0)) -lt 4 ] && [ $((a0 - a1)) -lt 4 ] && break
                a0=$a1
        done
        log "reset: MemAvailable ${a1} MiB"
}

# make_swap PERCENT ZSWAP: a swapfile of PERCENT % of MemTotal, zswap on if ZSWAP=1.
make_swap() {
        local mib
        mib=$(pct "$1")
        [ "$mib" -gt 0 ] || return 0
        dd if=/dev/zero of="$SWAPFILE" bs=1M count="$mib" status=none || return 1
        chmod 600 "$SWAPFILE"
        mkswap -q "$SWAPFILE" >/dev/null && swapon "$SWAPFILE" || return 1
        if [ "$2" = 1 ]; then
                [ -w /sys/module/zswap/parameters/enabled ] || { log "no zswap in this kernel"; return 1; }
                echo Y >/sys/module/zswap/parameters/enabled
        fi
        sync
        echo 3 >/proc/sys/vm/drop_caches
        sleep 2
}

# ---- the workloads: each starts its units and sets MAIN (the unit whose end ends a benign
# recording), LEAKERS (units whose OOM kill is expected), MODE (benign|exhaust|high) ----------

# spike peak=P rate=R|max hold=S cycles=C gap=S: allocate P % of MemTotal, hold, free, C times.
run_spike() {
        local mib steps=() c
        mib=$(pct "$peak")
        for ((c = 1; c <= cycles; c++)); do
                steps+=("grow:$mib:$rate" "hold:$hold" free)
                [ "$c" -lt "$cycles" ] && steps+=("hold:$gap")
        done
        start spike -- memtide-vm-helper program spike "${steps[@]}" hold:3
        MAIN=spike MODE=benign
}

# compile jobs=J min=MIB max=MIB life=MS secs=S
run_compile() {
        start build -- memtide-vm-helper compile "$jobs" "$min" "$max" "$life" "$secs"
        MAIN=build MODE=benign
}

# pagecache mode=read|write file=P (% MemTotal) secs=S [rate=MIB/s] [anon=MIB held meanwhile]
run_pagecache() {
        mkdir -p "$CACHEDIR"
        if [ "${anon:-0}" -gt 0 ]; then
                start hold -- memtide-vm-helper program hold "grow:$anon:max" hold:100000
                sleep 3
        fi
        start cache -- memtide-vm-helper pagecache "$mode" "$CACHEDIR/flood" "$(pct "$file")" "$secs" ${rate:+"$rate"}
        MAIN=cache MODE=benign
}

# tmpfs fill=P rate=MIB/s (0: max) hold=S cycles=C: files in a tmpfs, deleted after each hold.
run_tmpfs() {
        mkdir -p "$TMPFS"
        mount -t tmpfs -o size="$(pct 85)M" corpus "$TMPFS" || return 1
        start tmpfs -- memtide-vm-helper tmpfs-fill "$TMPFS" "$(pct "$fill")" "$rate" "$hold" "$cycles" 5
        MAIN=tmpfs MODE=benign
}

# plateau target=P rate=R hold=S [max=P | high=P]: growth that slows down (R to half the
# target, R/2 to 80 %, R/4 to the target) and stays there, optionally under a memcg limit.
run_plateau() {
        local t opts=()
        t=$(pct "$target")
        [ -n "${max:-}" ] && opts+=(-p MemoryMax="$(pct "$max")M")
        [ -n "${high:-}" ] && opts+=(-p MemoryHigh="$(pct "$high")M")
        start plateau "${opts[@]}" -- memtide-vm-helper program plateau "grow:$((t / 2)):$rate" \
                "grow:$((t * 8 / 10)):$(((rate + 1) / 2))" "grow:$t:$(((rate + 3) / 4))" "hold:$hold" free hold:3
        MAIN=plateau MODE=benign
}

# leak rate=R [swap=P zswap=0|1] [ballast=MIB] [ws=MIB]: one leaker until the kernel kills it;
# ballast: a service holding that much from the start; ws: a thrasher that keeps rewriting its
# whole heap of that size every second (a hot working set that competes with the leak).
run_leak() {
        if [ "${ballast:-0}" -gt 0 ]; then
                start ballast -- memtide-vm-helper program ballast "grow:$ballast:max" hold:100000
                sleep 3
        fi
        if [ "${ws:-0}" -gt 0 ]; then
                start thrasher -- memtide-vm-helper program thrasher "grow:$ws:max" touch:100000
                sleep 5
        fi
        start leaker -- memtide-vm-helper program leak "grow:inf:$rate"
        LEAKERS=leaker MODE=exhaust
}

# memcg rate=R (max=P | high=P) [after=S]: a leaker in a service with MemoryMax (memcg OOM) or
# MemoryHigh (throttled; the recording ends after= seconds after the leaker reaches it).
run_memcg() {
        local opts=()
        if [ -n "${max:-}" ]; then
                opts+=(-p MemoryMax="$(pct "$max")M")
                MODE=exhaust
        else
                opts+=(-p MemoryHigh="$(pct "$high")M")
                MODE=high
        fi
        start leaker "${opts[@]}" -- memtide-vm-helper program leak "grow:inf:$rate"
        LEAKERS=leaker
}

# phased rate=R first=P pause=S: grow to P % of MemTotal, pause, grow until killed.
run_phased() {
        start leaker -- memtide-vm-helper program leak "grow:$(pct "$first"):$rate" "hold:$pause" "grow:inf:$rate"
        LEAKERS=leaker MODE=exhaust
}

# multi rates=R1+R2[+R3]: one leaker per rate, started together.
run_multi() {
        local r n=0 names=(leaker-a leaker-b leaker-c)
        LEAKERS=""
        for r in ${rates//+/ }; do
                start "${names[$n]}" -- memtide-vm-helper program "${names[$n]//-/_}" "grow:inf:$r"
                LEAKERS+="${names[$n]} "
                n=$((n + 1))
        done
        MODE=exhaust
}

# frag size=P (% of MemAvailable) kind=hugetlb|thp step=N steps=K every=S [cache=MIB]
# [settle=S]: a checkerboard over P % of what is available (every other page freed), settle,
# optionally a page-cache fill, then K requests of N more huge pages.
run_frag() {
        local mib
        mib=$(( $(avail_mib) * size / 100 ))
        systemd-run --quiet --unit=frag -p MemoryAccounting=yes memtide-vm-helper checkerboard "$mib"
        mark "phase name=frag_start"
        if ! wait_for 240 sh -c "journalctl -q -u frag.service | grep -q 'checkerboard ready'"; then
                log "the checkerboard never got ready"
                return 1
        fi
        mark "phase name=frag_ready"
        sleep "${settle:-5}"
        if [ "${cache:-0}" -gt 0 ]; then
                mkdir -p "$CACHEDIR"
                dd if=/dev/zero of="$CACHEDIR/fill" bs=1M count="$cache" status=none
                mark "phase name=cache_filled"
        fi
        start hugepages -- memtide-vm-helper hugepages "$kind" "$step" "$steps" "$every" 5
        MAIN=hugepages MODE=benign
}

# ---- one recording -----------------------------------------------------------------------
record_one() {
        local family=$1 name=$2 workload=$3 kv params="" t0 t_end oom0 oom_t="" cap now reason="" rc=0
        local u last_leaker_gone="" high_t="" cg t_rec
        shift 3
        # Defaults, then the line's key=value pairs as variables.
        peak="" rate="" hold="" cycles=1 gap=10 jobs="" min="" max="" life="" secs="" mode="" file="" anon=""
        fill="" target="" high="" swap=0 zswap=0 ballast=0 ws=0 after=30 first="" pause="" rates="" until=first
        size="" kind="" step="" steps="" every="" cache=0 settle=5 cap=300
        for kv in "$@"; do
                case "$kv" in
                peak=*|rate=*|hold=*|cycles=*|gap=*|jobs=*|min=*|max=*|life=*|secs=*|mode=*|file=*|anon=*|\
                fill=*|target=*|high=*|swap=*|zswap=*|ballast=*|ws=*|after=*|first=*|pause=*|rates=*|until=*|\
                size=*|kind=*|step=*|steps=*|every=*|cache=*|settle=*|cap=*)
                        printf -v "${kv%%=*}" '%s' "${kv#*=}"
                        params+="${params:+,}${kv%%=*}:${kv#*=}"
                        ;;
                *) echo "$name failed bad-argument 0" >>"$status"; return 1 ;;
                esac
        done
        MAIN="" LEAKERS="" MODE=""
        reset_guest
        t_rec=$(date +%s)
        if [ "$swap" -gt 0 ] && ! make_swap "$swap" "$zswap"; then
                echo "$name failed swap 0" >>"$status"
                return 1
        fi
        log "recording $name ($family: $workload $*)"
        systemd-run --quiet --unit=corpus-recorder -p OOMScoreAdjust=-1000 -p Nice=-10 \
                memtide-corpus-recorder --control "$CTL" --meta "scenario=$family" \
                --meta "params=workload:$workload${params:+,$params}" \
                --meta "run=$(date -u +%Y%m%d-%H%M%S)-$name" --meta host=qemu-tcg --meta "name=$name" \
                --max-seconds $((cap + 60)) "$traces/$name.trace.gz"
        if ! wait_for 20 test -p "$CTL"; then
                echo "$name failed recorder 0" >>"$status"
                journalctl -q -u corpus-recorder.service --no-pager | tail -n 5
                return 1
        fi
        sleep 3
        systemd-run --quiet --unit=innocent -p MemoryAccounting=yes -p StandardOutput=file:$CTL \
                memtide-vm-helper heartbeat /run/corpus-heartbeat 100 150
        sleep 2
        mark "phase name=innocent_up"
        sleep 3
        oom0=$(oom_count)
        t0=$(date +%s)
        mark "phase name=workload_start"
        "run_$workload" || { reason=workload; rc=1; }
        t_end=$((t0 + cap))
        while [ "$rc" = 0 ]; do
                sleep 0.5
                now=$(date +%s)
                if [ "$now" -ge "$t_end" ]; then
                        reason=cap
                        [ "$MODE" = exhaust ] && rc=1
                        break
                fi
                if [ -z "$oom_t" ] && [ "$(oom_count)" != "$oom0" ]; then
                        oom_t=$now
                        log "OOM kill after $((now - t0)) s"
                fi
                case "$MODE" in
                benign)
                        if [ -n "$oom_t" ]; then
                                [ $((now - oom_t)) -ge 10 ] && { reason=oom; break; }
                        elif ! active "$MAIN"; then
                                sleep 5
                                reason=done
                                break
                        fi
                        ;;
                exhaust)
                        if [ "$until" = all ]; then
                                local alive=0
                                for u in $LEAKERS; do active "$u" && alive=1; done
                                if [ "$alive" = 0 ]; then
                                        [ -z "$last_leaker_gone" ] && last_leaker_gone=$now
                                        [ $((now - last_leaker_gone)) -ge 10 ] && { reason=oom; break; }
                                fi
                        elif [ -n "$oom_t" ] && [ $((now - oom_t)) -ge 10 ]; then
                                reason=oom
                                break
                        fi
                        ;;
                high)
                        cg=/sys/fs/cgroup/system.slice/leaker.service
                        if [ -z "$high_t" ] && [ "$(awk '$1 == "high" { print $2 }' "$cg/memory.events" 2>/dev/null)" -gt 0 ] 2>/dev/null; then
                                high_t=$now
                                mark "phase name=high_reached"
                        fi
                        [ -n "$high_t" ] && [ $((now - high_t)) -ge "$after" ] && { reason=high; break; }
                        [ -n "$oom_t" ] && [ $((now - oom_t)) -ge 10 ] && { reason=oom; break; }
                        ;;
                esac
        done
        mark "phase name=episode_end"
        for u in $UNITS; do
                active "$u" && mark "phase name=${u//-/_}_stop"
                systemctl stop "$u.service" 2>/dev/null
        done
        sleep 1
        systemctl stop corpus-recorder.service
        journalctl -q -b --no-pager -o short-monotonic --since "@$t_rec" -u corpus-recorder.service \
                $(for u in $UNITS; do echo "-u $u.service"; done) >"$traces/$name.log" 2>&1
        systemctl reset-failed 2>/dev/null
        if [ ! -s "$traces/$name.trace.gz" ]; then
                rc=1
                reason=${reason:+$reason,}no-trace
        fi
        echo "$name $([ "$rc" = 0 ] && echo ok || echo failed) ${reason:-none} $(( $(date +%s) - t0 )) oom=$(( $(oom_count) - oom0 ))" >>"$status"
        log "$name: $(tail -n 1 "$status")"
        return "$rc"
}

overall=0
while read -r family name workload rest; do
        case "$family" in ''|'#'*) continue ;; esac
        # The cap of this recording, for the budget: its own cap= or the default.
        c=$(sed -n 's/.*\bcap=\([0-9]*\).*/\1/p' <<<"$rest")
        c=${c:-300}
        left=$(( budget - ($(date +%s) - t_begin) ))
        if [ "$left" -lt $((c + 60)) ]; then
                echo "$name skipped budget 0" >>"$status"
                continue
        fi
        # shellcheck disable=SC2086
        record_one "$family" "$name" "$workload" $rest || overall=1
done <"$batch"
reset_guest
cat "$status"
exit "$overall"

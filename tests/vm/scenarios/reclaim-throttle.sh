#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# reclaim-throttle: the two rungs between tune and kill, each on the workload it is for, in one
# boot with memtided in enforce mode and every other key at its default.
#  1. Page cache up to memory.max: a writer fills a file of its own at 8 MiB/s in a service
#     with MemoryMax=256M, so its memory.current reaches memory.max made of page cache. There
#     the kernel reclaims that cache itself; nothing is exhausted, and memtided's memory.max
#     figure, crossed at full confidence, asks for the reclaim rung at most. Asserts: memtided
#     neither kills nor throttles the writer, and no decision about it names a rung above
#     reclaim; the writer ends successfully; no kernel OOM kill. Prints: the cgroup's peak
#     usage and page cache, its memory.events "max" count (the kernel's own reclaims at the
#     line) and memtided's reclaims of it.
#  2. A leak with swap, twice: a swapfile of half of MemTotal, a leak of 20 MiB/s beside an
#     innocent service beating every 100 ms. The leaked pages are never touched again: with
#     swap free they are a cold set that memory.reclaim or a lower memory.high pushes out.
#     a. Default policy: the tune rung raises swappiness within its bounds, then memtided takes
#        memory.reclaim from the leaker (the forecast's trend runs on through its own
#        reclaims: they give nothing of the leak back) until swap runs short, then kills it.
#        Asserts: swappiness raised, reclaims on the leaker, none decided after the kill.
#     b. A policy that allows the leaker no memory.reclaim (Rungs=observe tune throttle kill):
#        memtided lowers its memory.high before any kill, and never reclaims from it.
#     Both: no kernel OOM kill, the innocent lives. Prints: the reclaims, throttles and kills,
#     when the first throttle and kill came, the memory.high set.
# At the end every vm sysctl is back to its original after `systemctl stop memtided` (checked),
# swap is off and the files are gone.
. "$(dirname "$0")/lib.sh"
need_memtide

WRITER=memtide-vm-cachewriter
CACHE_FILE=/var/tmp/memtide-vm-cachewriter
SWAPFILE=/var/tmp/memtide-vm-swap
DROPIN=/etc/memtide/policy.d/90-reclaim-throttle.conf
cleanup() {
        rm -f "$DROPIN"
        systemctl stop $WRITER 2>/dev/null
        systemctl reset-failed $WRITER 2>/dev/null
        leak_cleanup
        swapoff "$SWAPFILE" 2>/dev/null
        rm -f "$CACHE_FILE" "$SWAPFILE"
}
trap cleanup EXIT

sysctl_snapshot "$RESULTS/sysctl-original.txt"
swappiness0=$(cat /proc/sys/vm/swappiness)
start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"
oom0=$(kernel_oom_kills)
mem_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)

# ladder_history SINCE_USEC SUFFIX KIND...: memtided's own (ladder) actions of those kinds, done
# or partial, reported since then on a target ending in SUFFIX, in report order, as
# "kind realtime_usec target old_value new_value monotonic_usec". realtime_usec is when the
# outcome was reported (a slow write's, when it returned); monotonic_usec is when it was decided.
ladder_history() {
        "$MEMTIDECTL" history --json 2>/dev/null | python3 -c '
import json, sys
since, suffix, kinds = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
for e in sorted(json.load(sys.stdin), key=lambda e: e.get("realtime_usec", 0)):
    if e.get("origin") == "bus" or e.get("status") not in ("done", "partial") or e.get("kind") not in kinds:
        continue
    if e.get("realtime_usec", 0) >= since and str(e.get("target", "")).endswith(suffix):
        print(e.get("kind"), e.get("realtime_usec", 0), e.get("target"), e.get("old_value", 0),
              e.get("new_value", 0), e.get("monotonic_usec", 0))
' "$@"
}

# actions NAME KIND...: the ladder's actions on a cgroup whose path ends in NAME.service, as
# "kind realtime_usec target value decided_monotonic_usec" lines.
actions() {
        local name=$1
        shift
        ladder_history 0 "$name.service" "$@" | awk '{ print $1, $2, $3, $5, $6 }'
}

# tunes_since USEC: the ladder's sysctl changes since then, "name old new" in time order.
tunes_since() { ladder_history "$1" "" sysctl | awk '{ print $3, $4, $5 }'; }

# throttle_first THROTTLE_USEC KILL_USEC: a throttle, and no kill or a later one
throttle_first() { [ -n "$1" ] && { [ -z "$2" ] || [ "$1" -le "$2" ]; }; }

# --- 1. page cache toward memory.max --------------------------------------------------------
t0=$(date +%s%N)
rm -f "$CACHE_FILE"
systemd-run --quiet --unit=$WRITER -p MemoryAccounting=yes -p MemoryMax=256M \
        memtide-vm-helper pagecache write "$CACHE_FILE" 600 80 8 || fail "cannot start $WRITER"
cg=$(cgroup_of_unit $WRITER)
log "cache writer in ${cg#/sys/fs/cgroup}, memory.max $(cat "$cg/memory.max" 2>/dev/null)"
near_usec=0 peak_mib=0 file_peak_mib=0 max_events=
end=$(( $(date +%s) + 150 ))
while systemctl is-active -q $WRITER && [ "$(date +%s)" -lt "$end" ]; do
        cur=$(cat "$cg/memory.current" 2>/dev/null)
        cur=${cur%%$'\n'*}
        [[ $cur =~ ^[0-9]+$ ]] || cur=0
        file=$(awk '$1 == "file" { print $2 }' "$cg/memory.stat" 2>/dev/null)
        ev=$(awk '$1 == "max" { print $2 }' "$cg/memory.events" 2>/dev/null)
        [ -n "$ev" ] && max_events=$ev
        [ $((cur >> 20)) -gt "$peak_mib" ] && peak_mib=$((cur >> 20))
        [ $((${file:-0} >> 20)) -gt "$file_peak_mib" ] && file_peak_mib=$((${file:-0} >> 20))
        # within a reclaim step (64 MiB) of memory.max: the line the writer would stall at
        if [ "$near_usec" = 0 ] && [ "$cur" -ge $(( (256 - 64) << 20 )) ]; then
                near_usec=$(( $(date +%s%N) / 1000 ))
                log "the writer's memory.current is within 64 MiB of memory.max"
        fi
        sleep 0.5
done
systemctl is-active -q $WRITER && fail "the cache writer still runs after 150 s"
writer_result=$(systemctl show -p Result --value $WRITER)
value writer_result "$writer_result"
value writer_peak_mib "$peak_mib"
value writer_file_peak_mib "$file_peak_mib"
value writer_memory_events_max "${max_events:-?}"
actions $WRITER reclaim throttle kill >"$RESULTS/writer-actions.txt"
cat "$RESULTS/writer-actions.txt"
n_reclaim=$(grep -c '^reclaim ' "$RESULTS/writer-actions.txt")
value writer_reclaims "$n_reclaim"
[ "$near_usec" != 0 ] && value writer_near_max_after_ms $(( (near_usec - t0 / 1000) / 1000 ))
journal_json "$sel" | python3 -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l).get("MESSAGE", "")
    if "cachewriter" in m and "rung " in m:
        print(m)' >"$RESULTS/writer-journal.txt"
head -n 4 "$RESULTS/writer-journal.txt"
check "the writer ended successfully ($writer_result)" test "$writer_result" = success
check "memtided's decisions about the writer ask for no rung above reclaim" \
        test "$(grep -c -E 'rung (throttle|kill)' "$RESULTS/writer-journal.txt")" = 0
check "memtided neither killed nor throttled the writer" \
        test "$(grep -c -E '^(kill|throttle) ' "$RESULTS/writer-actions.txt")" = 0
check "no kernel OOM kill while the cache filled memory.max" test "$(kernel_oom_kills)" = "$oom0"
systemctl reset-failed $WRITER 2>/dev/null
rm -f "$CACHE_FILE"
sync
echo 1 >/proc/sys/vm/drop_caches
sleep 10

# --- 2. a leak with swap, twice --------------------------------------------------------------
# leak_phase NAME: the 20 MiB/s leak beside the heartbeat (leak_with_heartbeat), then the
# ladder's actions on the leaker since the phase began in $RESULTS/leaker-actions-NAME.txt.
# Sets ft and fk (the first throttle's and kill's realtime µs, empty if none) and n_reclaim.
leak_phase() {
        local name=$1 t1
        t1=$(( $(date +%s%N) / 1000 ))
        leak_with_heartbeat 20 300
        tunes_since "$t1" >"$RESULTS/tunes-$name.txt"
        echo "$name: sysctls the tune rung moved:"; cat "$RESULTS/tunes-$name.txt"
        actions "$LEAKER" throttle kill reclaim | awk -v t="$t1" '$2 >= t' >"$RESULTS/leaker-actions-$name.txt"
        cat "$RESULTS/leaker-actions-$name.txt"
        ft=$(awk '$1 == "throttle" { print $2; exit }' "$RESULTS/leaker-actions-$name.txt")
        fk=$(awk '$1 == "kill" { print $2; exit }' "$RESULTS/leaker-actions-$name.txt")
        n_reclaim=$(grep -c '^reclaim ' "$RESULTS/leaker-actions-$name.txt")
        value "${name}_throttles" "$(grep -c '^throttle ' "$RESULTS/leaker-actions-$name.txt")"
        value "${name}_reclaims" "$n_reclaim"
        value "${name}_kills" "$(grep -c '^kill ' "$RESULTS/leaker-actions-$name.txt")"
        [ -n "$ft" ] && value "${name}_first_throttle_after_ms" $(( (ft - t1) / 1000 ))
        [ -n "$ft" ] && value "${name}_first_throttle_high_mib" \
                $(( $(awk '$1 == "throttle" { print $4; exit }' "$RESULTS/leaker-actions-$name.txt") >> 20 ))
        [ -n "$fk" ] && value "${name}_first_kill_after_ms" $(( (fk - t1) / 1000 ))
        check "$name: no kernel OOM kill" test "$leak_oom_kills" = 0
        check "$name: the innocent service lives" test "$innocent_alive" = 1
        leak_cleanup
        sleep 10     # swap back, the forecast calm again
}

swap_mib=$((mem_mib / 2))
if dd if=/dev/zero of="$SWAPFILE" bs=1M count="$swap_mib" status=none && chmod 600 "$SWAPFILE" &&
   mkswap -q "$SWAPFILE" >/dev/null && swapon "$SWAPFILE"; then
        log "swap on: $swap_mib MiB"
        sleep 10     # the forecast sees the swap before the leak

        # 2a. default policy: memory.reclaim pushes the leak out to swap ahead of the line
        leak_phase swapleak
        check "swapleak: memtided took memory.reclaim from the leaker" test "$n_reclaim" -ge 1
        sw=$(awk '$1 == "swappiness" { print $3; exit }' "$RESULTS/tunes-swapleak.txt")
        value swapleak_swappiness_set "${sw:-none}"
        check "swapleak: the tune rung raised swappiness within SwappinessMax (100) from $swappiness0" \
                test -n "$sw" -a "${sw:-0}" -gt "$swappiness0" -a "${sw:-0}" -le 100
        # decided after the kill (a reclaim still running at the kill is interrupted, and reported
        # when its write returns: it counts by when it was decided)
        dk=$(awk '$1 == "kill" { print $5; exit }' "$RESULTS/leaker-actions-swapleak.txt")
        check "swapleak: no throttle or reclaim decided after the kill" \
                test -z "$dk" -o "$(awk -v k="$dk" '$5 > k && $1 != "kill"' "$RESULTS/leaker-actions-swapleak.txt" | wc -l)" = 0

        # 2b. a policy that allows no memory.reclaim on the leaker (a service whose pages are
        # not to be pushed out ahead of need): the throttle rung is the step before the kill
        mkdir -p "${DROPIN%/*}"
        printf '[Global]\nMode=enforce\n[Policy "system.slice/%s.service"]\nRungs=observe tune throttle kill\n' \
                "$LEAKER" >"$DROPIN"
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager Reload >/dev/null 2>&1 || systemctl reload memtided.service
        sleep 2
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager SetMode s enforce >/dev/null 2>&1
        leak_phase noreclaim
        journal_json "$sel" MESSAGE_ID="${MEMTIDE_MESSAGE_ACTION_THROTTLE:-}" |
                python3 -c 'import json, sys
for l in sys.stdin:
    print(json.loads(l).get("MESSAGE", ""))' >"$RESULTS/throttle-journal.txt"
        head -n 3 "$RESULTS/throttle-journal.txt"
        check "noreclaim: memtided lowered the leaker's memory.high" test -n "$ft"
        check "noreclaim: the throttle came before any kill" throttle_first "$ft" "$fk"
        check "noreclaim: the policy held (no memory.reclaim of the leaker)" test "$n_reclaim" = 0
        rm -f "$DROPIN"
else
        fail "cannot set up a $swap_mib MiB swapfile"
fi
check "memtided still runs" systemctl is-active -q memtided.service
save_history reclaim-throttle
# every sysctl the ladder moved is back once memtided stops
systemctl stop memtided.service
sysctl_snapshot "$RESULTS/sysctl-end.txt"
check "every vm sysctl back to its original after systemctl stop" \
        diff "$RESULTS/sysctl-original.txt" "$RESULTS/sysctl-end.txt"
finish

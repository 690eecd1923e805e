#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rungs: the actions beside kills and throttles, each on a real workload, in one boot.
#  1. commit charge, default policy: a process reserves (never touches) more than CommitLimit;
#     memtided leaves overcommit_memory and overcommit_ratio alone.
#  2. dentry leak, default policy: a process stats millions of nonexistent paths; negative
#     dentries grow SReclaimable by hundreds of MiB while anonymous memory stays flat; memtided
#     names the dentry cache in a Warning signal and a journal entry (cache, objects, MiB/s,
#     share of memory) and drops nothing.
#  3. the same leak with DropCaches=2: memtided drops slab once the memory outside slab lasts
#     less than the reclaim horizon; SReclaimable falls; one drop only (RateLimitDropCaches).
#  4. unreclaimable slab: a process holds hundreds of thousands of eventfds (struct file in
#     SUnreclaim); memtided warns and says drop_caches cannot take it back.
#  5. commit charge with OvercommitMemory=2 and ratio bounds 50..100: memtided raises
#     overcommit_ratio within the bounds and switches to strict accounting; the reserving
#     process is refused (ENOMEM), nothing is OOM-killed; `memtidectl reset` restores both.
#  6. tune rung on a slow leak (6 MiB/s: the crossing minutes out): watermark_scale_factor
#     rises within its bounds before any reclaim, throttle or kill; the watermarks in
#     /proc/zoneinfo equal the ones libmemcore's reclaim model announced before the write;
#     no direct reclaim stall before kswapd scans (none at all when memtided's reclaim of the
#     leaker's cache kept kswapd idle).
# At the end `memtidectl history --json` goes to history-rungs.json (the rung table), memtided
# stops and every vm sysctl is back at its original.
# Prints: the slab figures (growth, warning, drop), the commit figures, the watermarks before
# and after, the lead of the tune action over the next one, and each phase's duration.
. "$(dirname "$0")/lib.sh"
need_memtide

[ -n "${MEMTIDE_MESSAGE_SLAB_LEAK:-}" ] || { echo "FAIL: no MEMTIDE_MESSAGE_SLAB_LEAK in daemon/log.h"; exit 1; }
dropin=/etc/memtide/policy.d/90-rungs.conf
mkdir -p /etc/memtide/policy.d
orig=$RESULTS/sysctl-original.txt
sysctl_snapshot "$orig"
cat "$orig"
t_start=$(now_ms)

meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
mib_of_kb() { echo $(( $1 / 1024 )); }
slab_objs() { awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo; }
phase_done() { value "phase_seconds_$1" $(( ($(now_ms) - $2) / 1000 )); }
# policy GLOBAL TUNABLES: the scenario's drop-in (with Mode=enforce, the shipped mode, which
# the drop-in keeps whatever the main file says), then a reload.
policy() {
        printf '[Global]\nMode=enforce\n%s\n[Tunables]\n%s\n' "$1" "$2" >"$dropin"
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager Reload >/dev/null 2>&1 || systemctl reload memtided.service
        sleep 2
        busctl call org.memtide1 /org/memtide1 org.memtide1.Manager SetMode s enforce >/dev/null 2>&1
}
entries() { journal_json "$sel" MESSAGE_ID="$1"; }
count_entries() { entries "$1" | wc -l; }
field() { python3 -c 'import json,sys
k=sys.argv[1]
for l in sys.stdin:
    try: print(json.loads(l).get(k, ""))
    except ValueError: pass' "$1"; }

printf '[Global]\nMode=enforce\n' >"$dropin"
start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"
busctl monitor --system --match "type='signal',interface='org.memtide1.Manager',member='Warning'" \
        >"$RESULTS/warning-signals.txt" 2>&1 &
monitor_pid=$!

# --- 1. commit charge under the default policy ---------------------------------------------
t0=$(now_ms)
om0=$(cat /proc/sys/vm/overcommit_memory) or0=$(cat /proc/sys/vm/overcommit_ratio)
limit_mib=$(mib_of_kb "$(meminfo_kb CommitLimit)")
value commit_limit_mib_default "$limit_mib"
value committed_mib_idle "$(mib_of_kb "$(meminfo_kb Committed_AS)")"
systemd-run --quiet --wait --unit=memtide-vm-reserve-default memtide-vm-helper reserve 64 400 $(( limit_mib * 12 / 10 )) \
        >/dev/null 2>&1
value reserve_default_result "$(systemctl show -p Result --value memtide-vm-reserve-default 2>/dev/null)"
journalctl -q --no-pager -u memtide-vm-reserve-default | tail -n 2
check "default policy: overcommit_memory untouched" test "$(cat /proc/sys/vm/overcommit_memory)" = "$om0"
check "default policy: overcommit_ratio untouched" test "$(cat /proc/sys/vm/overcommit_ratio)" = "$or0"
check "default policy: no overcommit entry in the journal" \
        test "$(entries "$MEMTIDE_MESSAGE_ACTION_SYSCTL" | grep -c '"MEMTIDE_TARGET":"overcommit')" = 0
phase_done commit_default "$t0"

# --- 2. dentry leak, default policy: warn only ---------------------------------------------
t0=$(now_ms)
negdir=/var/tmp/memtide-negative
rm -rf "$negdir"
mkdir -p "$negdir"
sr0=$(meminfo_kb SReclaimable) anon0=$(meminfo_kb AnonPages) d0=$(slab_objs dentry)
value sreclaimable_mib_before "$(mib_of_kb "$sr0")"
value anon_mib_before "$(mib_of_kb "$anon0")"
value dentry_objects_before "$d0"
systemd-run --quiet --unit=memtide-vm-dentries memtide-vm-helper dentries "$negdir" || fail "cannot start the dentry workload"
slab_warned() { entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | grep -q '"MEMTIDE_SLAB_CACHE":"dentry"'; }
if wait_for 240 slab_warned; then
        w=$(entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | grep '"MEMTIDE_SLAB_CACHE":"dentry"' | head -n 1)
        echo "$w" >"$RESULTS/slab-warning.json"
        value slab_warning_after_s $(( ($(now_ms) - t0) / 1000 ))
        value slab_warning_objects "$(field MEMTIDE_SLAB_OBJECTS <<<"$w")"
        value slab_warning_mib_per_s "$(field MEMTIDE_SLAB_MIB_PER_SEC <<<"$w")"
        value slab_warning_share_permyriad "$(field MEMTIDE_SLAB_SHARE_PERMYRIAD <<<"$w")"
        value slab_warning_decision "$(field MEMTIDE_DECISION <<<"$w")"
        echo "warning: $(field MESSAGE <<<"$w")"
        check "the warning says the cache is reclaimable" test "$(field MEMTIDE_SLAB_RECLAIMABLE <<<"$w")" = 1
        check "the warning carries objects, MiB/s and share" \
                test -n "$(field MEMTIDE_SLAB_OBJECTS <<<"$w")" -a -n "$(field MEMTIDE_SLAB_MIB_PER_SEC <<<"$w")" \
                -a -n "$(field MEMTIDE_SLAB_SHARE_PERMYRIAD <<<"$w")"
else
        fail "no slab leak entry naming dentry within 240 s"
        entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | tail -n 3 | cut -c1-600
fi
# let the leak reach its size under the default policy, then judge it
sleep 30
sr1=$(meminfo_kb SReclaimable) anon1=$(meminfo_kb AnonPages) d1=$(slab_objs dentry)
value sreclaimable_mib_grown "$(mib_of_kb "$sr1")"
value anon_mib_grown "$(mib_of_kb "$anon1")"
value dentry_objects_grown "$d1"
value slab_growth_mib $(( (sr1 - sr0) / 1024 ))
value slab_growth_mib_per_s "$(awk -v a="$sr0" -v b="$sr1" -v t=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.2f", (b - a) / 1024 / (t / 1000) }')"
check "SReclaimable grew by at least 100 MiB ($(( (sr1 - sr0) / 1024 )) MiB)" test $(( (sr1 - sr0) / 1024 )) -ge 100
check "anonymous memory stayed flat ($(( (anon1 - anon0) / 1024 )) MiB)" test $(( (anon1 - anon0) / 1024 )) -lt 64
check "the Warning signal named the dentry cache" grep -q 'slab dentry' "$RESULTS/warning-signals.txt"
check "default policy: no drop_caches" test "$(count_entries "$MEMTIDE_MESSAGE_ACTION_DROP_CACHES")" = 0
phase_done slab_default "$t0"

# --- 3. the same leak with DropCaches=2 ----------------------------------------------------
t0=$(now_ms)
# The reclaim horizon at 6 min: the dentries grow about 2.5 MiB/s under TCG, and the memory
# outside slab (~1 GiB) would need 5 more minutes to come within the default 2 min.
sr_peak=$(meminfo_kb SReclaimable)
policy "HorizonReclaim=${MEMTIDE_VM_SLAB_HORIZON:-6min}" "DropCaches=2"
dropped() { [ "$(count_entries "$MEMTIDE_MESSAGE_ACTION_DROP_CACHES")" -gt 0 ]; }
track_peak() { local v; v=$(meminfo_kb SReclaimable); [ "$v" -gt "$sr_peak" ] && sr_peak=$v; dropped; }
if wait_for 300 track_peak; then
        e=$(entries "$MEMTIDE_MESSAGE_ACTION_DROP_CACHES" | head -n 1)
        value drop_after_s $(( ($(now_ms) - t0) / 1000 ))
        value drop_status "$(field MEMTIDE_STATUS <<<"$e")"
        echo "drop: $(field MESSAGE <<<"$e")"
        sleep 3
        sr2=$(meminfo_kb SReclaimable)
        value sreclaimable_mib_peak "$(mib_of_kb "$sr_peak")"
        value sreclaimable_mib_after_drop "$(mib_of_kb "$sr2")"
        value dentry_objects_after_drop "$(slab_objs dentry)"
        value slab_growth_mib_at_drop $(( (sr_peak - sr0) / 1024 ))
        check "SReclaimable had grown by at least 200 MiB before the drop" test $(( (sr_peak - sr0) / 1024 )) -ge 200
        check "drop_caches done" test "$(field MEMTIDE_STATUS <<<"$e")" = done
        check "drop_caches level 2 (slab)" test "$(field MEMTIDE_NEW_VALUE <<<"$e")" = 2
        check "SReclaimable fell by half or more ($(mib_of_kb "$sr_peak") -> $(mib_of_kb "$sr2") MiB)" \
                test $((sr2 * 2)) -le "$sr_peak"
else
        fail "no drop_caches within 300 s with DropCaches=2"
        entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | tail -n 2 | field MESSAGE
fi
sleep 10
check "one drop only within RateLimitDropCaches" test "$(count_entries "$MEMTIDE_MESSAGE_ACTION_DROP_CACHES")" -le 1
systemctl stop memtide-vm-dentries
journalctl -q --no-pager -u memtide-vm-dentries | tail -n 1
rm -rf "$negdir"
phase_done slab_drop "$t0"

# --- 4. unreclaimable slab -------------------------------------------------------------------
t0=$(now_ms)
su0=$(meminfo_kb SUnreclaim)
n_unrecl0=$(entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | grep -c '"MEMTIDE_SLAB_RECLAIMABLE":"0"')
systemd-run --quiet --unit=memtide-vm-fds memtide-vm-helper fds 8000 900000 || fail "cannot start the fd workload"
unrecl_warned() { [ "$(entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | grep -c '"MEMTIDE_SLAB_RECLAIMABLE":"0"')" -gt "$n_unrecl0" ]; }
if wait_for 150 unrecl_warned; then
        w=$(entries "$MEMTIDE_MESSAGE_SLAB_LEAK" | grep '"MEMTIDE_SLAB_RECLAIMABLE":"0"' | tail -n 1)
        echo "warning: $(field MESSAGE <<<"$w")"
        value unreclaimable_cache "$(field MEMTIDE_SLAB_CACHE <<<"$w")"
        value unreclaimable_mib_per_s "$(field MEMTIDE_SLAB_MIB_PER_SEC <<<"$w")"
        check "unreclaimable growth: the decision says drop_caches cannot help" \
                test "$(field MEMTIDE_DECISION <<<"$w")" = unreclaimable
else
        fail "no warning about unreclaimable slab within 150 s"
fi
value sunreclaim_growth_mib $(( ($(meminfo_kb SUnreclaim) - su0) / 1024 ))
check "no drop_caches for unreclaimable slab" test "$(count_entries "$MEMTIDE_MESSAGE_ACTION_DROP_CACHES")" -le 1
systemctl stop memtide-vm-fds
phase_done slab_unreclaimable "$t0"

# --- 5. commit charge with OvercommitMemory=2 ----------------------------------------------
t0=$(now_ms)
policy "" $'OvercommitMemory=2\nOvercommitRatioMin=50\nOvercommitRatioMax=100'
oom0=$(kernel_oom_kills)
value committed_mib_before_reserve "$(mib_of_kb "$(meminfo_kb Committed_AS)")"
systemd-run --quiet --wait --unit=memtide-vm-reserve memtide-vm-helper reserve 16 32 $(( limit_mib * 4 )) >/dev/null 2>&1
rres=$(systemctl show -p Result --value memtide-vm-reserve 2>/dev/null)
rstatus=$(systemctl show -p ExecMainStatus --value memtide-vm-reserve 2>/dev/null)
refusal=$(journalctl -q --no-pager -u memtide-vm-reserve | grep 'reserve: refused' | tail -n 1)
echo "reserving process: Result=$rres status=$rstatus: $refusal"
value reserve_refused_after_mib "$(sed -n 's/.*refused after \([0-9]*\) MiB.*/\1/p' <<<"$refusal")"
value overcommit_ratio_set "$(cat /proc/sys/vm/overcommit_ratio)"
value overcommit_memory_set "$(cat /proc/sys/vm/overcommit_memory)"
value commit_limit_mib_set "$(mib_of_kb "$(meminfo_kb CommitLimit)")"
entries "$MEMTIDE_MESSAGE_ACTION_SYSCTL" | grep '"MEMTIDE_TARGET":"overcommit' | field MESSAGE
check "the reserving process was refused with ENOMEM (exit 10)" test "$rstatus" = 10
check "its refusal says ENOMEM" grep -q 'Cannot allocate memory' <<<"$refusal"
check "overcommit_memory is 2" test "$(cat /proc/sys/vm/overcommit_memory)" = 2
r=$(cat /proc/sys/vm/overcommit_ratio)
check "overcommit_ratio within 50..100 ($r)" test "$r" -ge 50 -a "$r" -le 100
check "no kernel OOM kill" test "$(kernel_oom_kills)" = "$oom0"
check "memtided still runs" systemctl is-active -q memtided.service
"$MEMTIDECTL" reset
sleep 1
check "memtidectl reset: overcommit_memory back to $om0" test "$(cat /proc/sys/vm/overcommit_memory)" = "$om0"
check "memtidectl reset: overcommit_ratio back to $or0" test "$(cat /proc/sys/vm/overcommit_ratio)" = "$or0"
policy "" ""
phase_done commit_strict "$t0"

# --- 6. tune rung on a slow leak -------------------------------------------------------------
t0=$(now_ms)
zone_wmarks() { awk '/^Node/ { n = $2; sub(",", "", n); z = $4 } $1 == "min" { mn = $2 } $1 == "low" { lo = $2 }
                     $1 == "high" { hi = $2 } $1 == "spanned" && z != "" { print n, z, mn, lo, hi; z = "" }' /proc/zoneinfo; }
# zoneinfo prints min/low/high before "spanned"; zones without memory print them too
zone_wmarks >"$RESULTS/watermarks-before.txt"
echo "watermarks before (node zone min low high):"; cat "$RESULTS/watermarks-before.txt"
wsf0=$(cat /proc/sys/vm/watermark_scale_factor) mfk0=$(cat /proc/sys/vm/min_free_kbytes)
ks0=$(vmstat_field pgscan_kswapd)
as0=$(awk '$1 ~ /^allocstall_/ { s += $2 } END { print s + 0 }' /proc/vmstat)
n_wm0=$(count_entries "$MEMTIDE_MESSAGE_WATERMARKS")
rate=${MEMTIDE_VM_SLOW_LEAK_MIB:-6}
# The page cache is written and synced before the leak starts (reclaim then has something to
# take in the leaker's cgroup), and the loop below reads only small /proc files: a journalctl
# each second would itself move MemAvailable up and down and hide the slow trend.
systemd-run --quiet --unit=memtide-vm-slowleak -p MemoryAccounting=yes /bin/sh -c \
        "dd if=/dev/zero of=/var/tmp/memtide-slowleak-cache bs=1M count=256 status=none; sync; sleep 15; exec memtide-vm-helper leak $rate" ||
        fail "cannot start the slow leak"
tl=$(now_ms)
# a recording of what memtided sampled, to replay the phase with `memtidectl simulate` (in its
# runtime directory, the one place its unit lets it write; a few hundred KiB)
"$MEMTIDECTL" record start /run/memtide/slow-leak.trace.gz --force >/dev/null ||
        log "memtidectl record start failed: the phase runs without a recording"
ks_ms="" as_ms="" wm_seen=0 fc_last=-1
end=$(( $(date +%s) + ${MEMTIDE_VM_SLOW_LEAK_LIMIT_S:-420} ))
while systemctl is-active -q memtide-vm-slowleak && [ "$(date +%s)" -lt "$end" ]; do
        [ -z "$ks_ms" ] && [ "$(vmstat_field pgscan_kswapd)" -gt "$ks0" ] && ks_ms=$(( $(now_ms) - tl ))
        [ -z "$as_ms" ] && [ "$(awk '$1 ~ /^allocstall_/ { s += $2 } END { print s + 0 }' /proc/vmstat)" -gt "$as0" ] &&
                as_ms=$(( $(now_ms) - tl ))
        # the first tune of the watermarks: zoneinfo right after it
        if [ "$wm_seen" = 0 ] && { [ "$(cat /proc/sys/vm/watermark_scale_factor)" != "$wsf0" ] ||
                                   [ "$(cat /proc/sys/vm/min_free_kbytes)" != "$mfk0" ]; }; then
                wm_seen=1
                zone_wmarks >"$RESULTS/watermarks-after.txt"
                wm_sysctls="watermark_scale_factor=$(cat /proc/sys/vm/watermark_scale_factor) min_free_kbytes=$(cat /proc/sys/vm/min_free_kbytes)"
        fi
        # the forecast of available memory every 10 s, for the record (one small bus call)
        el=$(( ($(now_ms) - tl) / 1000 ))
        if [ $((el / 10)) -gt "${fc_last:--1}" ]; then
                fc_last=$((el / 10))
                "$MEMTIDECTL" forecast --json >"$RESULTS/forecast-$(printf %04d "$el").json" 2>/dev/null
        fi
        sleep 1
done
echo "available-memory forecast during the slow leak (s since start, MiB available, state, eta s, MiB/s, trend age s, confidence %):"
python3 - "$RESULTS"/forecast-*.json <<'EOF2' | tee "$RESULTS/slow-leak-forecast.txt"
import json, os, sys
for f in sys.argv[1:]:
    try:
        x = json.load(open(f))
    except (OSError, ValueError):
        continue
    a = x.get("available_exhausted") or {}
    eta = a.get("eta_usec")
    print("%4s %6d %-11s %8s %6.2f %6.1f %6.2f" % (os.path.basename(f)[9:13].lstrip("0") or "0",
          (x.get("available_bytes") or 0) >> 20, a.get("state") or "?",
          "inf" if eta is None or eta >= 2**63 else "%d" % (eta // 1000000), -(a.get("rate_per_sec") or 0) / 2**20,
          (a.get("trend_usec") or 0) / 1e6, (a.get("confidence_permyriad") or 0) / 100))
EOF2
value slow_leak_seconds $(( ($(now_ms) - tl) / 1000 ))
"$MEMTIDECTL" record stop >/dev/null 2>&1
mv /run/memtide/slow-leak.trace.gz "$RESULTS/" 2>/dev/null
value slow_leak_result "$(systemctl show -p Result --value memtide-vm-slowleak)"
systemctl stop memtide-vm-slowleak 2>/dev/null
rm -f /var/tmp/memtide-slowleak-cache
value pgscan_kswapd_first_ms "${ks_ms:-none}"
value allocstall_first_ms "${as_ms:-none}"
# (with memtided's memory.reclaim of the leaker's page cache ahead of it, kswapd may not have
# had to scan at all before the kill: then there is no direct reclaim stall either)
check "no direct reclaim stall before kswapd scanned (kswapd ${ks_ms:-none} ms, allocstall ${as_ms:-none} ms)" \
        test -z "$as_ms" -o \( -n "$ks_ms" -a "${ks_ms:-0}" -le "${as_ms:-0}" \)
if [ "$wm_seen" = 1 ]; then
        e=$(entries "$MEMTIDE_MESSAGE_WATERMARKS" | head -n 1)
        field MEMTIDE_WATERMARKS <<<"$e" | tr ';' '\n' >"$RESULTS/watermarks-expected.txt"
        echo "sysctls after the first tune: $wm_sysctls; $(field MESSAGE <<<"$e")"
        echo "watermarks after (node zone min low high), /proc/zoneinfo:"; cat "$RESULTS/watermarks-after.txt"
        check "the watermarks in /proc/zoneinfo after the first tune equal libmemcore's what-if" \
                bash -c "test -s '$RESULTS/watermarks-expected.txt' && ! grep -vxFf '$RESULTS/watermarks-after.txt' '$RESULTS/watermarks-expected.txt'"
else
        fail "watermark_scale_factor and min_free_kbytes never moved during the slow leak"
fi
# the actions on the leak in the order they came: the first a tune within bounds
hist=$("$MEMTIDECTL" history --json 2>&1)
echo "$hist" >"$RESULTS/history-rungs.json"
python3 - "$RESULTS/history-rungs.json" "$(( $(date +%s%N) / 1000 - ($(now_ms) - tl) * 1000 ))" <<'EOF' >"$RESULTS/tune-order.txt"
import json, sys
# the responses to the leak (a compaction for fragmentation is not one)
acts = [a for a in json.load(open(sys.argv[1])) if a.get("realtime_usec", 0) >= int(sys.argv[2])
        and a.get("origin", "") != "bus" and a.get("status") in ("done", "partial")
        and a.get("kind") in ("sysctl", "reclaim", "throttle", "kill")]
first = acts[0] if acts else None
other = next((a for a in acts if a.get("kind") != "sysctl"), None)
print("first_kind=%s" % (first.get("kind") if first else "none"))
print("first_target=%s" % (first.get("target") if first else "none"))
print("first_new_value=%s" % (first.get("new_value") if first else "none"))
print("next_kind=%s" % (other.get("kind") if other else "none"))
if first and other:
    print("tune_lead_ms=%d" % ((other["realtime_usec"] - first["realtime_usec"]) // 1000))
EOF
cat "$RESULTS/tune-order.txt"
while IFS='=' read -r k v; do value "$k" "$v"; done <"$RESULTS/tune-order.txt"
# what the history held, when it held no response to the leak: its size and its kinds by status
if grep -qx 'first_kind=none' "$RESULTS/tune-order.txt"; then
        python3 - "$RESULTS/history-rungs.json" <<'EOF3'
import collections, json, sys
try:
    h = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("history: unreadable (%s)" % e)
    sys.exit(0)
print("history: %d entries" % len(h))
for (k, s, o), n in sorted(collections.Counter((a.get("kind"), a.get("status"), a.get("origin")) for a in h).items(),
                           key=lambda x: -x[1]):
    print("  %5d  %s %s (%s)" % (n, k, s, o))
EOF3
fi
check "the first action on the slow leak is a tune (a sysctl)" grep -qx 'first_kind=sysctl' "$RESULTS/tune-order.txt"
ft=$(sed -n 's/^first_target=//p' "$RESULTS/tune-order.txt") fv=$(sed -n 's/^first_new_value=//p' "$RESULTS/tune-order.txt")
case "$ft" in
watermark_scale_factor) check "watermark_scale_factor $wsf0 -> $fv within 10..200" test "$fv" -gt "$wsf0" -a "$fv" -le 200 ;;
min_free_kbytes) check "min_free_kbytes $mfk0 -> $fv within bounds" test "$fv" -gt "$mfk0" -a "$fv" -le 262144 ;;
*) fail "the first tune moved '$ft', not watermark_scale_factor or min_free_kbytes" ;;
esac
phase_done slow_leak "$t0"

# --- the end: stop, originals back ---------------------------------------------------------
kill "$monitor_pid" 2>/dev/null
journalctl --no-pager -q "$sel" >"$RESULTS/memtided-journal.txt" 2>&1
systemctl stop memtided.service
rm -f "$dropin"
sysctl_snapshot "$RESULTS/sysctl-end.txt"
check "every vm sysctl back at its original after systemctl stop" diff "$orig" "$RESULTS/sysctl-end.txt"
value scenario_seconds $(( ($(now_ms) - t_start) / 1000 ))
finish

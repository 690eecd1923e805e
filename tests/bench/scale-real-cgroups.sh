#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# scale-real-cgroups.sh BUNDLE [COUNTS]
#
# memtided's cost at scale on real cgroups: as root on a machine with a cgroup v2 hierarchy
# (the memory controller on it), creates COUNTS (default "200 2000 5000") empty cgroups in a
# subtree of its own, /sys/fs/cgroup/memtide-scale-PID, and runs the bundled memtided
# (bundle-binaries.sh) in dry-run on a root directory whose proc is this machine's /proc and
# whose sys/fs/cgroup is that subtree, so that it samples those cgroups only, the way it reads
# real ones (kept files, pread), with its BPF probes attached (--bpf), at 10 Hz. Beside it,
# over the same seconds, a process that only wakes at 10 Hz (the floor). Prints per count:
# CPU per sample, the floor, the work above it, the ratio to the first count, VmHWM and VmRSS.
# The subtree is removed at the end (also on failure or interrupt). Nothing else is written.
#
# MEMTIDE_SCALE_SECONDS: seconds measured per count (default 40; the whole run stays under
# 4 minutes with the defaults). Results also go to $OUT/scale-real-cgroups.txt when $OUT is
# set. Exits 77 when the machine cannot run it (not root, no cgroup v2 with memory), 1 on a
# failure.
set -u

if [ $# -lt 1 ]; then
        echo "usage: $0 BUNDLE [COUNTS]" >&2
        exit 2
fi
bundle=$(cd "$1" && pwd)
counts=${2:-"200 2000 5000"}
seconds=${MEMTIDE_SCALE_SECONDS:-40}
hz=10
cg=/sys/fs/cgroup

skip() {
        echo "SKIP: $*"
        exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root (creates cgroups, loads BPF)"
[ "$(stat -fc %T "$cg" 2>/dev/null)" = cgroup2fs ] ||
        skip "$cg is not a cgroup v2 mount ($(stat -fc %T "$cg" 2>/dev/null || echo missing)): real v2 cgroups are not available here"
grep -qw memory "$cg/cgroup.controllers" 2>/dev/null || skip "the memory controller is not on the cgroup v2 hierarchy at $cg"
for b in memtided wake-reference run.sh; do
        [ -x "$bundle/$b" ] || { echo "$0: $bundle/$b missing (tests/bench/bundle-binaries.sh OUTDIR)" >&2; exit 1; }
done

base=$cg/memtide-scale-$$
work=$(mktemp -d /tmp/memtide-scale.XXXXXX)
results=$work/results.txt
daemon_pid=
ref_pid=
added_memory=

cleanup() {
        [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
        [ -n "$ref_pid" ] && kill "$ref_pid" 2>/dev/null && wait "$ref_pid" 2>/dev/null
        if [ -d "$base" ]; then
                find "$base" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
                rmdir "$base" 2>/dev/null || echo "warning: could not remove $base" >&2
        fi
        [ -n "$added_memory" ] && echo "-memory" > "$cg/cgroup.subtree_control" 2>/dev/null
        if [ -n "${OUT:-}" ] && [ -f "$results" ]; then
                mkdir -p "$OUT" && cp "$results" "$OUT/scale-real-cgroups.txt"
                cp "$work"/memtided-*.log "$OUT/" 2>/dev/null
        fi
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() {
        echo "$*" | tee -a "$results"
}

if ! grep -qw memory "$cg/cgroup.subtree_control"; then
        echo "+memory" > "$cg/cgroup.subtree_control" || { echo "$0: cannot enable memory in $cg/cgroup.subtree_control" >&2; exit 1; }
        added_memory=1
fi
mkdir "$base" || exit 1
echo "+memory" > "$base/cgroup.subtree_control" || { echo "$0: cannot enable memory below $base" >&2; exit 1; }
mkdir -p "$work/root/sys/fs" "$work/run"
ln -s /proc "$work/root/proc"
ln -s "$base" "$work/root/sys/fs/cgroup"
printf '[Global]\nMode=dry-run\n' > "$work/memtided.conf"

status_kb() {
        awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}
cpu_ns() {
        awk '{ print $1 }' "/proc/$1/schedstat"
}

say "memtided on real cgroup v2 cgroups: $(uname -r), $(nproc) CPUs, $hz Hz, dry-run, BPF, $seconds s per count"
have=0
first_own=
first_total=
for n in $counts; do
        # grow the subtree to n cgroups (they are kept for the next, larger count)
        if [ "$have" -lt "$n" ]; then
                seq -f "$base/svc-%.0f.service" "$have" $((n - 1)) | xargs mkdir || exit 1
                have=$n
        fi
        log=$work/memtided-$n.log
        "$bundle/run.sh" memtided --root "$work/root" --config "$work/memtided.conf" --run-dir "$work/run" \
                --mode=dry-run --bpf --bus=none --interval 0.1 --max-cgroups $((n + 64)) 2> "$log" &
        daemon_pid=$!
        for _ in $(seq 100); do
                grep -q "started: root" "$log" && break
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        if ! grep -q "started: root" "$log"; then
                echo "$0: memtided did not start with $n cgroups:" >&2
                tail -20 "$log" >&2
                exit 1
        fi
        hwm_start=$(status_kb "$daemon_pid" VmHWM)
        sleep 3                                   # the first walk and readings
        "$bundle/run.sh" wake-reference wake "$seconds" "$hz" > "$work/ref.out" 2> "$work/ref.err" &
        ref_pid=$!
        c0=$(cpu_ns "$daemon_pid")
        sleep "$seconds"
        c1=$(cpu_ns "$daemon_pid")
        wait "$ref_pid"
        ref_pid=
        hwm=$(status_kb "$daemon_pid" VmHWM)
        rss=$(status_kb "$daemon_pid" VmRSS)
        kill "$daemon_pid"
        wait "$daemon_pid"
        rc=$?
        daemon_pid=
        floor_ns=$(sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p' "$work/ref.out")
        wakes=$(sed -n 's/.*wakes=\([0-9]*\).*/\1/p' "$work/ref.out")
        read -r line < <(awk -v c=$((c1 - c0)) -v s="$seconds" -v hz=$hz -v f="${floor_ns:-0}" -v w="${wakes:-0}" \
                -v ft="${first_total:-}" -v fo="${first_own:-}" -v n="$n" 'BEGIN {
                per = c / 1000 / (s * hz); floor = w > 0 ? f / 1000 / w : 0; own = per - floor
                printf "%.1f %.1f %.1f %s %s", per, floor, own, (ft == "" ? "1.0" : sprintf("%.1f", per / ft)),
                       (fo == "" || fo <= 0 ? "1.0" : sprintf("%.1f", own / fo)) }')
        read -r per floor own ratio ratio_own <<< "$line"
        [ -z "$first_total" ] && first_total=$per && first_own=$own
        bpf=$(grep -o 'BPF events: [0-9]* of [0-9]* probes attached\|BPF events unavailable' "$log" | head -1)
        say "  $n cgroups: $per us a sample, floor $floor us, own $own us (x$ratio, x$ratio_own above the floor" \
            "vs the first count); VmHWM at start $((hwm_start / 1024)).$(( (hwm_start % 1024) * 100 / 1024 )) MiB," \
            "then $((hwm / 1024)).$(( (hwm % 1024) * 100 / 1024 )) MiB; VmRSS $((rss / 1024)).$(( (rss % 1024) * 100 / 1024 )) MiB;" \
            "${bpf:-no BPF line}; exit $rc"
        [ "$rc" = 0 ] || { echo "$0: memtided exited $rc:" >&2; tail -20 "$log" >&2; exit 1; }
done
exit 0

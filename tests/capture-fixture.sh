#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# capture-fixture.sh OUTDIR — record the live kernel's memory files as a fixture tree:
#   OUTDIR/proc/{meminfo,vmstat,buddyinfo,pagetypeinfo,zoneinfo,slabinfo}
#   OUTDIR/proc/pressure/{memory,io,cpu}
#   OUTDIR/proc/sys/vm/{the tunables of snapshot.h, lowmem_reserve_ratio}
#   OUTDIR/proc/sys/kernel/osrelease, OUTDIR/KERNEL (uname -r)
#   OUTDIR/sys/kernel/debug/extfrag/{extfrag_index,unusable_index} (root; mounts debugfs if it
#     is not mounted and unmounts it afterwards; skipped with a message otherwise)
#   OUTDIR/CONSISTENT when the capture is consistent (see below), OUTDIR/CAPTURE (how it went)
#
# Consistency: the files that change with every allocation are read together in a tight loop
# with shell builtins (no fork between two files, a round takes about a millisecond). A round is
# kept only when the next round finds the same free counts: buddyinfo whole, and from
# zoneinfo, meminfo and vmstat the free pages, boost, watermarks, managed pages and the file LRU
# sizes. Then nothing was allocated or freed from the buddy lists while the round was read, and
# the known-answer tests may demand exact equality. After MAX_ROUNDS rounds without two equal
# ones, the last round is written without CONSISTENT.
#
# Reads only; writes no sysctl, triggers no compaction or reclaim.

set -u
set -o pipefail

MAX_ROUNDS=${MAX_ROUNDS:-200}

usage() {
        echo "usage: $0 OUTDIR" >&2
        exit 2
}
[ $# -eq 1 ] || usage
out=$1
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
        echo "$0: $out exists and is not empty, refusing to mix captures" >&2
        exit 1
fi
mkdir -p "$out/proc/pressure" "$out/proc/sys/vm" "$out/proc/sys/kernel" || exit 1

# Tunables listed in libmemcore/sources/snapshot.h (MC_VM_TUNABLES) plus lowmem_reserve_ratio.
TUNABLES="min_free_kbytes watermark_scale_factor watermark_boost_factor swappiness overcommit_memory
overcommit_ratio overcommit_kbytes compaction_proactiveness extfrag_threshold vfs_cache_pressure
nr_hugepages zone_reclaim_mode percpu_pagelist_high_fraction lowmem_reserve_ratio"

# Files read in every round, in this order. Relative to /.
ROUND_FILES="proc/buddyinfo proc/zoneinfo proc/pagetypeinfo proc/meminfo proc/vmstat"

debugfs_mounted_here=0
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
        if [ "$debugfs_mounted_here" = 1 ]; then
                umount /sys/kernel/debug 2>/dev/null || echo "$0: could not unmount debugfs" >&2
        fi
}
trap cleanup EXIT

extfrag=0
if [ "$(id -u)" = 0 ]; then
        if [ ! -d /sys/kernel/debug/extfrag ]; then
                if ! mountpoint -q /sys/kernel/debug 2>/dev/null; then
                        if mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null; then
                                debugfs_mounted_here=1
                        fi
                fi
        fi
        if [ -r /sys/kernel/debug/extfrag/extfrag_index ]; then
                extfrag=1
                ROUND_FILES="$ROUND_FILES sys/kernel/debug/extfrag/extfrag_index sys/kernel/debug/extfrag/unusable_index"
        else
                echo "$0: no debugfs extfrag files (CONFIG_DEBUG_FS or CONFIG_COMPACTION off?), skipping them"
        fi
else
        echo "$0: not root, skipping debugfs extfrag files and slabinfo"
fi

# Read a whole file into the variable named $2 with builtins only. Empty and 1 when it cannot
# be read (pagetypeinfo is root-only).
slurp() {
        local -n _v=$2
        _v=
        [ -r "/$1" ] || return 1
        { IFS= read -r -d '' _v <"/$1"; } 2>/dev/null
        return 0
}

# The figures two rounds must agree on, from the round's variables.
fingerprint() {
        local f
        printf '%s' "${R[proc/buddyinfo]}"
        while IFS= read -r f; do
                case "$f" in
                *"pages free"* | *" boost "* | *" min "* | *" low "* | *" high "* | *" managed "* | *nr_free_pages* | \
                        *nr_zone_active_file* | *nr_zone_inactive_file* | *nr_active_file* | *nr_inactive_file* | \
                        *nr_slab_reclaimable*)
                        printf '%s\n' "$f" ;;
                esac
        done <<<"${R[proc/zoneinfo]}"
        while IFS= read -r f; do
                case "$f" in
                MemFree:* | "Active(file):"* | "Inactive(file):"* | KReclaimable:* | SReclaimable:*) printf '%s\n' "$f" ;;
                esac
        done <<<"${R[proc/meminfo]}"
        while IFS= read -r f; do
                case "$f" in
                "nr_free_pages "* | "nr_active_file "* | "nr_inactive_file "* | "nr_slab_reclaimable "* | \
                        "nr_kernel_misc_reclaimable "*)
                        printf '%s\n' "$f" ;;
                esac
        done <<<"${R[proc/vmstat]}"
}

declare -A R MISSING
read_round() {
        local f v
        for f in $ROUND_FILES; do
                if slurp "$f" v; then
                        R[$f]=$v
                else
                        R[$f]=
                        MISSING[$f]=1
                fi
        done
}

prev=
consistent=0
round=0
while [ $round -lt "$MAX_ROUNDS" ]; do
        round=$((round + 1))
        read_round
        fp=$(fingerprint)
        if [ -n "$prev" ] && [ "$fp" = "$prev" ]; then
                consistent=1
                break
        fi
        prev=$fp
done

for f in $ROUND_FILES; do
        if [ -n "${MISSING[$f]:-}" ]; then
                echo "$0: /$f not readable, left out"
                continue
        fi
        mkdir -p "$out/$(dirname "$f")"
        printf '%s' "${R[$f]}" >"$out/$f"
done

# Slow or root-only files, and files that do not move with allocations: read once, right after.
if [ "$(id -u)" = 0 ] && [ -r /proc/slabinfo ]; then
        cat /proc/slabinfo >"$out/proc/slabinfo"
fi
for p in memory io cpu; do
        [ -r "/proc/pressure/$p" ] && cat "/proc/pressure/$p" >"$out/proc/pressure/$p"
done
for t in $TUNABLES; do
        if [ -r "/proc/sys/vm/$t" ]; then
                cat "/proc/sys/vm/$t" >"$out/proc/sys/vm/$t"
        fi
done
cat /proc/sys/kernel/osrelease >"$out/proc/sys/kernel/osrelease"
uname -r >"$out/KERNEL"

{
        echo "captured: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -r)"
        echo "rounds: $round (max $MAX_ROUNDS)"
        echo "consistent: $consistent"
        echo "extfrag: $extfrag"
} >"$out/CAPTURE"

if [ $consistent = 1 ]; then
        echo "two consecutive rounds agreed (buddyinfo and the free/watermark/LRU counts of zoneinfo, meminfo, vmstat) after $round rounds" >"$out/CONSISTENT"
        echo "$0: consistent capture in $out after $round rounds"
else
        echo "$0: no two consecutive rounds agreed in $MAX_ROUNDS rounds: $out written WITHOUT CONSISTENT" >&2
fi
exit 0

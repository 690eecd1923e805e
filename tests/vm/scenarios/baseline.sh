#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# baseline: the memtide scenarios' workloads in the bare guest, without memtide, so that their
# machinery is proven before the daemon exists and their figures have a reference.
# Asserts: the leak ends by the kernel OOM killer ("Out of memory: Killed process" logged, the
# unit's Result oom-kill) with the innocent service alive; the fragmentation workload lowers the
# free 2 MiB blocks; the page-cache churn runs to its end with real reclaim (pgsteal > 0) and no
# OOM kill. Prints the same figures as leak-kill, fragmentation-hugepages and cache-churn.
. "$(dirname "$0")/lib.sh"
if [ -n "$MEMTIDED" ] && systemctl is-active -q memtided.service; then
        systemctl stop memtided.service
fi

leak_with_heartbeat "${MEMTIDE_VM_LEAK_RATE_MIB:-64}" "${MEMTIDE_VM_LEAK_LIMIT_S:-400}"
check "without memtided the kernel OOM killer ends the leak" test "$leak_oom_kills" -ge 1
check "the leaker's Result is oom-kill (got $leak_result)" test "$leak_result" = oom-kill
check "the innocent service survived" test "$innocent_alive" = 1
dmesg | grep 'Out of memory: Killed process' | tail -n 2
leak_cleanup

before=$(free_2m_blocks)
value free_2m_blocks_idle "$before"
frag_phase without "${MEMTIDE_VM_FRAG_SETTLE_S:-30}" "${MEMTIDE_VM_THP_PROBE_PERCENT:-50}"
after=$(sed -n 's/^free_2m_blocks_after_fragmenting_without=//p' "$RESULTS/values.txt")
check "the checkerboard fragments free memory (2 MiB blocks $before -> $after)" test "${after:-0}" -lt "$before"

oom0=$(kernel_oom_kills)
cache_churn "${MEMTIDE_VM_CHURN_S:-45}"
check "the churn service ended successfully (rc $churn_rc)" test "$churn_rc" = 0
check "the churn reclaimed page cache" test "$(sed -n 's/^pgsteal=//p' "$RESULTS/values.txt")" -gt 0
check "no OOM kill during the churn" test "$(kernel_oom_kills)" = "$oom0"
finish

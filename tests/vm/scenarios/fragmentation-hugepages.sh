#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fragmentation-hugepages: fragment free memory (a checkerboard of anonymous pages over 85% of
# it), let the system settle, then ask for huge pages; once without memtided, once with it, in
# the same guest and with the same workload.
# Asserts: when the request comes, memtided has made clearly more free 2 MiB blocks than the
# kernel alone (half again as many, and 64 more); with it clearly more huge pages are obtained
# than without it (beyond a 10% noise margin), by a transparent-hugepage fault probe (which
# does not compact synchronously under the default defrag=madvise) or by a hugetlb request
# (vm.nr_hugepages) — unless the kernel's own proactive compaction ran during the probe without
# memtided (it starts once the probe itself pushes the node's fragmentation score over 90 and
# can then even the probe out), in which case with memtided must not get fewer; memtided did it
# by compacting (journal entries) and killed nothing (the checkerboard's service survives).
# Prints: THP kB and hugetlb pages obtained with and without, the free 2 MiB blocks after
# fragmenting and before each request, and memtided's compaction entries.
. "$(dirname "$0")/lib.sh"
need_memtide

settle_s=${MEMTIDE_VM_FRAG_SETTLE_S:-30}
probe_pct=${MEMTIDE_VM_THP_PROBE_PERCENT:-80}

systemctl stop memtided.service 2>/dev/null
frag_phase without "$settle_s" "$probe_pct"
thp_without=$frag_thp_kb huge_without=$frag_hugetlb surv_without=$frag_survived

start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"
frag_phase with "$settle_s" "$probe_pct"
thp_with=$frag_thp_kb huge_with=$frag_hugetlb surv_with=$frag_survived
compacts=$(journal_json "$sel" MESSAGE_ID="${MEMTIDE_MESSAGE_ACTION_COMPACT:-}" | wc -l)
kills=$(journal_json "$sel" MESSAGE_ID="${MEMTIDE_MESSAGE_ACTION_KILL:-}" | wc -l)
value memtide_compact_entries "$compacts"
value memtide_kill_entries "$kills"
journalctl --no-pager -q "$sel" >"$RESULTS/memtided-journal.txt" 2>&1
save_history fragmentation
systemctl stop memtided.service

echo "huge pages obtained: THP $thp_without kB without memtided, $thp_with kB with;" \
        "hugetlb $huge_without without, $huge_with with"
# "More" means more than run-to-run noise (a few 2 MiB blocks either way between two phases):
# at least 10% of the THP probe, or 10% (and 8 pages) more hugetlb pages.
thp_margin_kb=$(( $(sed -n 's/^thp_probe_mib_with=//p' "$RESULTS/values.txt") * 1024 / 10 ))
huge_margin=$(( huge_without / 10 > 8 ? huge_without / 10 : 8 ))
value thp_gain_kb $((thp_with - thp_without))
value hugetlb_gain $((huge_with - huge_without))
blocks_without=$(sed -n 's/^free_2m_blocks_before_request_without=//p' "$RESULTS/values.txt")
blocks_with=$(sed -n 's/^free_2m_blocks_before_request_with=//p' "$RESULTS/values.txt")
blocks_margin=$(( ${blocks_without:-0} / 2 > 64 ? ${blocks_without:-0} / 2 : 64 ))
check "more free 2 MiB blocks when the request comes with memtided ($blocks_with vs $blocks_without, needs +$blocks_margin)" \
        test $(( ${blocks_with:-0} - ${blocks_without:-0} )) -ge "$blocks_margin"
kernel_scanned=$(sed -n 's/^probe_compact_migrate_scanned_without=//p' "$RESULTS/values.txt")
if [ $((thp_with - thp_without)) -ge "$thp_margin_kb" ] || [ $((huge_with - huge_without)) -ge "$huge_margin" ]; then
        echo "PASS: more huge pages with memtided (THP +$((thp_with - thp_without)) kB, margin $thp_margin_kb;" \
                "hugetlb +$((huge_with - huge_without)), margin $huge_margin)"
elif [ "${kernel_scanned:-0}" -gt 0 ] && [ $((thp_with + thp_margin_kb)) -ge "$thp_without" ] &&
     [ $((huge_with + huge_margin)) -ge "$huge_without" ]; then
        echo "PASS: not fewer huge pages with memtided (THP $thp_with vs $thp_without kB, hugetlb $huge_with vs" \
                "$huge_without); the kernel's proactive compaction ran during the probe without memtided" \
                "($kernel_scanned pages scanned) and evened it out"
else
        fail "not clearly more huge pages with memtided: THP $thp_with vs $thp_without kB (needs +$thp_margin_kb)," \
                "hugetlb $huge_with vs $huge_without (needs +$huge_margin); kernel compaction during the" \
                "probe without memtided: ${kernel_scanned:-0} pages scanned"
fi
check "memtided compacted (journal entries with its compaction MESSAGE_ID)" test "$compacts" -gt 0
check "memtided killed nothing" test "$kills" = 0
check "the checkerboard survived both phases" test "$surv_without$surv_with" = 11
check "no kernel OOM kill" test "$(kernel_oom_kills)" = 0
finish

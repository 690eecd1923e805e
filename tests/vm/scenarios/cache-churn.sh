#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cache-churn: benign page-cache churn, files as large as memory read over and over.
# Asserts: with memtided running, nothing is killed or throttled (no kill or throttle journal
# entry, no kernel OOM kill, the churn service ends successfully, memtided still runs).
# Prints: pages scanned/stolen, PSI memory some-stall during the churn, and memtided's journal
# entries by action kind.
. "$(dirname "$0")/lib.sh"
need_memtide

start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"
oom0=$(kernel_oom_kills)
cache_churn "${MEMTIDE_VM_CHURN_S:-45}"
check "the churn service ended successfully (rc $churn_rc)" test "$churn_rc" = 0
check "no kernel OOM kill" test "$(kernel_oom_kills)" = "$oom0"

kills=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_KILL" | wc -l)
throttles=$(journal_json "$sel" MESSAGE_ID="${MEMTIDE_MESSAGE_ACTION_THROTTLE:-}" | wc -l)
value memtide_kill_entries "$kills"
value memtide_throttle_entries "$throttles"
check "memtided killed nothing" test "$kills" = 0
check "memtided throttled nothing" test "$throttles" = 0
for k in SYSCTL COMPACT DROP_CACHES RECLAIM; do
        id_var=MEMTIDE_MESSAGE_ACTION_$k
        value "memtide_${k,,}_entries" "$(journal_json "$sel" MESSAGE_ID="${!id_var:-}" | wc -l)"
done
check "memtided still runs" systemctl is-active -q memtided.service
save_history churn
finish

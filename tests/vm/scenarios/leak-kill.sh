#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# leak-kill: a runaway leak in a service while an innocent service keeps a heartbeat.
# Asserts: memtided kills the leaker before the kernel OOM killer acts (no "Out of memory:
# Killed process" in the kernel log, the unit's Result is not oom-kill); the innocent is still
# running; the journal holds memtide's structured kill entry (MESSAGE_ID of kills, status done)
# naming the leaker; `memtidectl history --json` over the system bus shows the kill. When
# memtided throttled the leaker first (memory.high lowered), it did not lift the limit again
# while the leaker kept pressing against it (no restore entry for the leaker).
# Prints: seconds from the leak's start to the kill, the leaker's peak memory, the innocent's
# longest heartbeat gap. (The baseline scenario shows the same workload without memtided.)
. "$(dirname "$0")/lib.sh"
need_memtide

start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"
# 64 MiB/s: about 20 s from start to exhaustion in a 1.5 GiB guest.
leak_with_heartbeat "${MEMTIDE_VM_LEAK_RATE_MIB:-64}" "${MEMTIDE_VM_LEAK_LIMIT_S:-300}"

check "the kernel OOM killer did not act" test "$leak_oom_kills" = 0
check "the leaker did not end by the kernel OOM killer (Result=$leak_result)" test "$leak_result" != oom-kill
check "the innocent service still runs" test "$innocent_alive" = 1

entries=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_KILL" | grep -F "$LEAKER" || true)
echo "$entries" | head -n 3 | cut -c1-600
check "the journal has memtide's kill entry for the leaker" test -n "$entries"
check "the kill entry says done" grep -q '"MEMTIDE_STATUS":"done"' <<<"$entries"

throttles=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_THROTTLE" | grep -cF "$LEAKER" || true)
restores=$(journal_json "$sel" MESSAGE_ID="$MEMTIDE_MESSAGE_ACTION_RESTORE" | grep -cF "$LEAKER" || true)
value leaker_throttles "$throttles"
check "a throttled leaker's memory.high was not lifted before the kill ($restores restore entries)" test "$restores" = 0

hist=$("$MEMTIDECTL" history --json 2>&1)
echo "$hist" >"$RESULTS/history-leak.json"
check "memtidectl history --json shows the kill of the leaker" json_find_kill_of $LEAKER <<<"$hist"

leak_cleanup
dmesg | tail -n 50 >"$RESULTS/dmesg-tail.txt"
finish

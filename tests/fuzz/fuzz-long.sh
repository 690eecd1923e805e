#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The long fuzzing run: every libFuzzer target of BUILD_DIR until it has executed RUNS inputs
# (default 10 000 000), one after the other, seeded and checked as tests/fuzz/run-fuzzers.sh
# does (it runs each one), then a table of the totals: executions, seconds, executions per
# second, peak RSS and the outcome. Exits non-zero if any target failed. CI runs the short
# run (run-fuzzers.sh 15); this one is for a machine that can spend hours on it.
#
#   tests/fuzz/fuzz-long.sh /tmp/build-fuzz                 # 10 M executions each
#   tests/fuzz/fuzz-long.sh /tmp/build-fuzz 1000000         # 1 M each
#   FUZZERS="config trace" tests/fuzz/fuzz-long.sh /tmp/build-fuzz
#
# Environment: as run-fuzzers.sh (FUZZERS, FUZZ_CORPUS_DIR, FUZZ_WORKDIR, FUZZ_ARGS).

set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "usage: $0 BUILD_DIR [RUNS]" >&2
        exit 2
fi
build=$1
runs=${2:-10000000}
case "$runs" in
        ''|*[!0-9]*) echo "RUNS must be a number" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
workdir=${FUZZ_WORKDIR:-$(mktemp -d /tmp/memtide-fuzz-long-XXXXXX)}
all="meminfo vmstat buddyinfo pagetypeinfo zoneinfo slabinfo psi u64 cgroup-limit cgroup-stat cgroup-events cgroup-procs trace
     config bus-args"
fuzzers=${FUZZERS:-$all}

status=0
total=0
rows=()
for f in $fuzzers; do
        start=$(date +%s)
        FUZZERS=$f FUZZ_RUNS=$runs FUZZ_WORKDIR=$workdir bash "$here/run-fuzzers.sh" 0 "$build" >/dev/null 2>&1
        rc=$?
        secs=$(( $(date +%s) - start ))
        log=$workdir/logs/$f.log
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
        rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" 2>/dev/null | tail -1)
        execs=${execs:-0}
        outcome=ok
        if [ $rc -ne 0 ]; then
                outcome="FAILED (log $log)"
                status=1
        elif [ "$execs" -lt "$runs" ]; then
                outcome="short of $runs"
                status=1
        fi
        total=$((total + execs))
        rows+=("$(printf '%-20s %12s %8s %10s %8s  %s' "fuzz-$f" "$execs" "$secs" "$((execs / (secs > 0 ? secs : 1)))" "${rss:-?}" "$outcome")")
        echo "${rows[-1]}"
done

echo
printf '%-20s %12s %8s %10s %8s  %s\n' target executions seconds "exec/s" "rss MB" outcome
printf '%s\n' "${rows[@]}"
printf '%-20s %12s\n' total "$total"
echo "logs and artifacts in $workdir"
exit $status

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run every libFuzzer target of BUILD_DIR for DURATION_SECONDS each, seeded with the matching
# files of tests/fixtures. Exits non-zero if any fuzzer crashed, leaked, timed out or broke a
# parser contract; the inputs that did so are kept under $FUZZ_WORKDIR/artifacts.
#
#   tests/fuzz/run-fuzzers.sh 20 /tmp/build-fuzz
#   FUZZ_CORPUS_DIR=~/memtide-corpus tests/fuzz/run-fuzzers.sh 3600 /tmp/build-fuzz   # keep corpora
#   FUZZERS="zoneinfo pagetypeinfo" tests/fuzz/run-fuzzers.sh 600 /tmp/build-fuzz       # a subset
#
# Environment: FUZZ_CORPUS_DIR (persistent corpora, one subdirectory per fuzzer; default: a
# temporary directory), FUZZ_WORKDIR (artifacts and logs; default: a temporary directory),
# FUZZERS (names without the fuzz- prefix), FUZZ_ARGS (extra libFuzzer flags), FUZZ_RUNS (stop
# each fuzzer after this many executions instead; DURATION_SECONDS 0 then means no time limit:
# tests/fuzz/fuzz-long.sh uses it).

set -u

if [ $# -ne 2 ]; then
        echo "usage: $0 DURATION_SECONDS BUILD_DIR" >&2
        exit 2
fi
duration=$1
build=$2
case "$duration" in
        ''|*[!0-9]*) echo "DURATION_SECONDS must be a number" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=$src/tests/fixtures
dict=$src/tests/fuzz/procfs.dict
workdir=${FUZZ_WORKDIR:-$(mktemp -d /tmp/memtide-fuzz-XXXXXX)}
corpora=${FUZZ_CORPUS_DIR:-$workdir/corpus}
all="meminfo vmstat buddyinfo pagetypeinfo zoneinfo slabinfo psi u64 cgroup-limit cgroup-stat cgroup-events cgroup-procs trace
     config bus-args"
fuzzers=${FUZZERS:-$all}

# The fixture files each fuzzer starts from (find -path patterns below tests/fixtures).
seeds_for() {
        case "$1" in
                meminfo)        echo "*/proc/meminfo" ;;
                vmstat)         echo "*/proc/vmstat" ;;
                buddyinfo)      echo "*/proc/buddyinfo" ;;
                pagetypeinfo)   echo "*/proc/pagetypeinfo" ;;
                zoneinfo)       echo "*/proc/zoneinfo" ;;
                slabinfo)       echo "*/proc/slabinfo" ;;
                psi)            echo "*/proc/pressure/* */memory.pressure" ;;
                u64)            echo "*/proc/sys/vm/*" ;;
                cgroup-limit)   echo "*/memory.current */memory.max */memory.high */memory.low */memory.min */memory.swap.current" ;;
                cgroup-stat)    echo "*/memory.stat" ;;
                cgroup-events)  echo "*/memory.events" ;;
                cgroup-procs)   echo "*/cgroup.procs" ;;
                trace)          ;;              # seeded from tests/fuzz/seeds/trace below
                config)         ;;              # seeded from conf/ below
                bus-args)       ;;              # inline seeds below
        esac
}

# The dictionary of a fuzzer: the procfs tokens, the configuration's, or none.
dict_for() {
        case "$1" in
                config)         echo "$src/tests/fuzz/config.dict" ;;
                bus-args)       echo "$src/tests/fuzz/bus-args.dict" ;;
                *)              echo "$dict" ;;
        esac
}

failed=()
mkdir -p "$workdir/artifacts" "$workdir/logs"
for f in $fuzzers; do
        bin=$build/tests/fuzz/fuzz-$f
        if [ ! -x "$bin" ]; then
                echo "fuzz-$f: not built in $build (configure with CC=clang -Dfuzzers=true)" >&2
                failed+=("$f(missing)")
                continue
        fi
        corpus=$corpora/$f
        mkdir -p "$corpus" "$workdir/artifacts/$f"
        n=0
        for pat in $(seeds_for "$f"); do
                while IFS= read -r -d '' file; do
                        cp "$file" "$corpus/seed-$(echo "$file" | md5sum | cut -c1-12)"
                        n=$((n + 1))
                done < <(find "$fixtures" -type f -path "$pat" -print0)
        done
        if [ "$f" = trace ]; then
                for file in "$src"/tests/fuzz/seeds/trace/*; do
                        cp "$file" "$corpus/seed-$(basename "$file")"
                        n=$((n + 1))
                done
        fi
        if [ "$f" = config ]; then
                while IFS= read -r -d '' file; do
                        cp "$file" "$corpus/seed-$(basename "$file")"
                        n=$((n + 1))
                done < <(find "$src/conf" -type f \( -name '*.conf' -o -name '*.conf.example' \) -print0)
        fi
        if [ "$f" = bus-args ]; then
                # first byte: odd SetMode(kind), even RunAction(kind NUL target)
                printf '\001enforce' > "$corpus/seed-mode"
                printf '\000sysctl\000vm.swappiness=10' > "$corpus/seed-sysctl"
                printf '\000compact\000node0' > "$corpus/seed-compact"
                printf '\000drop-caches\0002' > "$corpus/seed-drop"
                printf '\000kill\000/system.slice/a.service' > "$corpus/seed-kill"
                n=$((n + 5))
        fi
        if [ "$f" = cgroup-procs ]; then
                printf '1\n' > "$corpus/seed-one"
                printf '1\n2\n300\n' > "$corpus/seed-three"
                n=$((n + 2))
        fi
        echo "== fuzz-$f: ${duration}s, $n seeds, corpus $corpus"
        # shellcheck disable=SC2086
        "$bin" -max_total_time="$duration" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
                -dict="$(dict_for "$f")" -print_final_stats=1 \
                -artifact_prefix="$workdir/artifacts/$f/" ${FUZZ_ARGS:-} "$corpus" \
                > "$workdir/logs/$f.log" 2>&1
        rc=$?
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$workdir/logs/$f.log" | sed 's/^/   /'
        if [ $rc -ne 0 ]; then
                echo "   FAILED (exit $rc), log: $workdir/logs/$f.log" >&2
                grep -E 'ERROR|contract broken|SUMMARY' "$workdir/logs/$f.log" | head -5 >&2
                failed+=("$f")
        fi
done

if [ ${#failed[@]} -gt 0 ]; then
        echo "fuzzers that failed: ${failed[*]} (artifacts in $workdir/artifacts)" >&2
        exit 1
fi
echo "all fuzzers ran ${duration}s without a crash (logs in $workdir/logs)"
exit 0

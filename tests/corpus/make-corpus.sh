#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Make the recordings of the trace corpus in the test guest (tests/corpus/README.md).
#
# Usage: make-corpus.sh [options] [NAME|FAMILY]...
#   NAME|FAMILY     recordings to make (names or families of recordings.txt; default: all)
#   --redo          make them even if their trace is already there (replaced only if it passes)
#   --list          print the selected recordings and whether their trace exists; run nothing
#   --build DIR     the meson build directory (default: <source>/build)
#   --budget S      guest seconds of recordings per boot (default 960; a boot stays under ~20 min)
#   --max-boots N   stop after N boots (default 12)
#   --tries N       attempts per recording (default 2)
#   --work DIR      where boot results and failed traces are kept (default <build>/corpus-work)
#
# Each boot runs tests/vm/scenarios/record-corpus.sh with as many pending recordings as fit
# in the budget (the guest skips the rest, which go to the next boot); it holds the guests' lock
# (the image cache's .run.lock, as tests/vm/run-scenario.sh does) only while it boots, so
# other guests get their turn in between. A trace is kept as <family>/<name>.trace.gz when
# `memtidectl simulate` reads it and check-trace.py finds what its family expects: an OOM kill
# (leak-noswap, leak-swap, memcg-max, phased, multi), none (spike, compile, pagecache, tmpfs,
# plateau, memcg-high), hugepages events (frag), the peak or rate asked for.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$src/build
redo=0
list=0
budget=960
max_boots=12
tries=2
work=""
select=()
while [ $# -gt 0 ]; do
        case "$1" in
        --redo) redo=1; shift ;;
        --list) list=1; shift ;;
        --build) build=$2; shift 2 ;;
        --budget) budget=$2; shift 2 ;;
        --max-boots) max_boots=$2; shift 2 ;;
        --tries) tries=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        -h|--help) sed -n '4,24p' "$0"; exit 0 ;;
        -*) echo "make-corpus.sh: unknown option $1" >&2; exit 2 ;;
        *) select+=("$1"); shift ;;
        esac
done
work=${work:-$build/corpus-work}
helper=$build/tests/vm/memtide-vm-helper
recorder=$build/tests/corpus/memtide-corpus-recorder
memtidectl=$build/cli/memtidectl
for f in "$helper" "$recorder" "$memtidectl"; do
        [ -x "$f" ] || { echo "make-corpus.sh: $f not built (meson compile -C $build)" >&2; exit 1; }
done

# The selected lines of recordings.txt, in its order.
selected() {
        local family name rest s
        while read -r family name rest; do
                case "$family" in ''|'#'*) continue ;; esac
                if [ ${#select[@]} -gt 0 ]; then
                        for s in "${select[@]}"; do
                                if [ "$s" = "$name" ] || [ "$s" = "$family" ]; then
                                        echo "$family $name $rest"
                                        break
                                fi
                        done
                else
                        echo "$family $name $rest"
                fi
        done <"$here/recordings.txt"
}

mapfile -t lines < <(selected)
if [ ${#lines[@]} = 0 ]; then
        echo "make-corpus.sh: nothing selected (names and families are in $here/recordings.txt)" >&2
        exit 2
fi
if [ "$list" = 1 ]; then
        for l in "${lines[@]}"; do
                read -r family name _ <<<"$l"
                printf '%-12s %-34s %s\n' "$family" "$name" \
                        "$([ -f "$here/$family/$name.trace.gz" ] && echo present || echo missing)"
        done
        exit 0
fi

declare -A attempts=() done_=()
for l in "${lines[@]}"; do
        read -r family name _ <<<"$l"
        attempts[$name]=0
        if [ "$redo" = 0 ] && [ -f "$here/$family/$name.trace.gz" ]; then
                done_[$name]=1
        fi
done

image=$("$src/tests/vm/build-image.sh" --print-dir) || exit 1
cache=${MEMTIDE_VM_CACHE:-/var/cache/memtide-vm}
mkdir -p "$work"
t_all=$(date +%s)
boot=0
while [ "$boot" -lt "$max_boots" ]; do
        batch=$work/corpus-batch.txt
        : >"$batch"
        for l in "${lines[@]}"; do
                read -r family name _ <<<"$l"
                [ -n "${done_[$name]:-}" ] && continue
                [ "${attempts[$name]}" -ge "$tries" ] && continue
                echo "$l" >>"$batch"
        done
        [ -s "$batch" ] || break
        boot=$((boot + 1))
        results=$work/boot-$(date +%Y%m%d-%H%M%S)
        echo "make-corpus.sh: boot $boot, $(wc -l <"$batch") recordings pending, results in $results"
        # The host's load meanwhile: the guest runs on one host thread (TCG), and a busy host
        # shows up as stalls in the recordings.
        (while sleep 10; do echo "$(date +%s) $(cut -d' ' -f1-3 /proc/loadavg)"; done) >"$work/loadavg-$boot.txt" &
        load_pid=$!
        (
                exec 8>"$cache/.run.lock"
                flock -w 7200 8 || { echo "make-corpus.sh: the guest lock stayed busy" >&2; exit 1; }
                MEMTIDE_VM_CORPUS_BUDGET_S=$budget "$src/tests/vm/run-vm.sh" --image "$image" \
                        --bin "$helper" --bin "$recorder" --extra "$batch" --results "$results" \
                        --timeout $((budget + 420)) record-corpus >"$work/boot.log" 2>&1
        )
        kill "$load_pid" 2>/dev/null
        wait "$load_pid" 2>/dev/null
        grep -a -E 'recording |OOM kill| ok | failed |TIMEOUT' "$work/boot.log" | sed 's/^/  guest: /'
        status=$results/record-corpus/status.txt
        if [ ! -s "$status" ]; then
                echo "make-corpus.sh: the boot gave no status (see $work/boot.log, $results/serial.log)" >&2
                # Count it against every recording of the batch: a recording that hangs the guest
                # must not be retried forever.
                while read -r _ name _; do attempts[$name]=$((attempts[$name] + 1)); done <"$batch"
                continue
        fi
        started=0
        while read -r name result reason secs _; do
                family=$(awk -v n="$name" '$2 == n { print $1 }' "$batch")
                [ -n "$family" ] || continue
                [ "$result" = skipped ] && continue
                started=$((started + 1))
                attempts[$name]=$((attempts[$name] + 1))
                trace=$results/record-corpus/traces/$name.trace.gz
                if [ "$result" = ok ] && [ -s "$trace" ] && "$memtidectl" simulate "$trace" >/dev/null 2>&1 &&
                        "$here/check-trace.py" --expect family "$trace"; then
                        mkdir -p "$here/$family"
                        cp "$trace" "$here/$family/$name.trace.gz"
                        chmod 0644 "$here/$family/$name.trace.gz"
                        done_[$name]=1
                        echo "make-corpus.sh: kept $family/$name.trace.gz (${secs}s, $reason)"
                else
                        echo "make-corpus.sh: $name did not pass ($result $reason), attempt ${attempts[$name]} of $tries" >&2
                        [ -s "$trace" ] && "$here/check-trace.py" "$trace" >&2
                fi
        done <"$status"
        if [ "$started" = 0 ]; then
                echo "make-corpus.sh: the guest started no recording (budget $budget s too small?)" >&2
                break
        fi
done

missing=0
for l in "${lines[@]}"; do
        read -r family name _ <<<"$l"
        if [ -z "${done_[$name]:-}" ]; then
                echo "make-corpus.sh: missing: $family/$name" >&2
                missing=$((missing + 1))
        fi
done
echo "make-corpus.sh: $boot boots, $(( ($(date +%s) - t_all) / 60 )) min; $missing of ${#lines[@]} missing"
[ "$missing" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Entry point of the meson suite 'vm': one scenario per test, one guest boot per scenario.
#
# Usage: run-scenario.sh SCENARIO [--helper PATH] [--build-root DIR] [--timeout SEC]
#                                 [--fixture-out DIR] [--no-tree]
#   SCENARIO        name of tests/vm/scenarios/<SCENARIO>.sh
#   --helper        the memtide-vm-helper binary built by meson (put on the guest's PATH)
#   --build-root    meson build directory (default $MEMTIDE_BUILD_ROOT): the Debian packages
#                   of the source tree are built into BUILD/deb (tests/vm/build-deb.sh, once per
#                   source state) and installed in the guest with dpkg -i; results go below it
#   --timeout       hard limit for the guest (default 900 s)
#   --no-tree       install nothing in the guest (scenarios that do not need memtide); no
#                   package is built
#   --fixture-out   copy the scenario's results/<SCENARIO>/fixture tree to DIR (used by
#                   capture-idle-fixture to refresh tests/fixtures/guest-6.1-vm-idle)
#
# Skips (77) and says why when qemu-system-x86_64 is missing, or when neither a cached image
# nor debootstrap (and root) is there to make one. Fails when the packages cannot be built
# (debhelper or dpkg-dev missing, or the build failing): every scenario that is not --no-tree
# tests memtide as packaged, and never falls back to something else. Results stay in
# BUILD/meson-logs/vm/<SCENARIO>/ (serial.log, log, values.txt, journal.txt, dmesg.txt).
# Only one guest runs at a time on a machine (a lock in the image cache): the wait for it is
# bounded by MEMTIDE_VM_LOCK_WAIT seconds (default: the --timeout), after which the scenario
# fails; a longer wait needs meson test's --timeout-multiplier too.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scenario=""
helper=""
build=${MEMTIDE_BUILD_ROOT:-}
timeout_s=900
fixture_out=""
no_tree=0
while [ $# -gt 0 ]; do
        case "$1" in
        --helper) helper=$2; shift 2 ;;
        --build-root) build=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --fixture-out) fixture_out=$2; shift 2 ;;
        --no-tree) no_tree=1; shift ;;
        -*) echo "run-scenario.sh: unknown option $1" >&2; exit 2 ;;
        *) scenario=$1; shift ;;
        esac
done
[ -n "$scenario" ] || { echo "usage: run-scenario.sh SCENARIO [options]" >&2; exit 2; }
[ -f "$here/scenarios/$scenario.sh" ] || { echo "run-scenario.sh: no scenario $scenario" >&2; exit 2; }

export PATH=$PATH:/usr/sbin:/sbin
cache=${MEMTIDE_VM_CACHE:-/var/cache/memtide-vm}

# --- what the machine must have ---------------------------------------------------------------
missing=()
command -v "${QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 || missing+=("${QEMU:-qemu-system-x86_64} (apt-get install qemu-system-x86)")
command -v debootstrap >/dev/null 2>&1 || missing+=("debootstrap (apt-get install debootstrap)")
command -v mkfs.ext4 >/dev/null 2>&1 || missing+=("mkfs.ext4 (apt-get install e2fsprogs)")
if [ ${#missing[@]} -gt 0 ]; then
        echo "SKIP: the vm suite needs: ${missing[*]}"
        exit 77
fi

image=$("$here/build-image.sh" --print-dir)
rc=$?
case $rc in
0) ;;
77) echo "SKIP: no guest image (see above)"; exit 77 ;;
*) echo "FAIL: building the guest image failed (rc $rc)"; exit 1 ;;
esac
echo "guest image: $image"
sed -n -e '/^packages:/q' -e 's/^/  /p' "$image/manifest.txt"

# --- the memtide packages -----------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/memtide-vm-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=${MEMTIDE_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
debs=()
if [ "$no_tree" = 1 ]; then
        echo "memtide packages: none (--no-tree)"
else
        # Built once per source state: the next scenario of the same tree reuses them.
        debdir=${build:+$build/deb}
        debdir=${debdir:-$work/deb}
        if ! "$here/build-deb.sh" --source "$src" "$debdir" >"$work/debs.list"; then
                echo "FAIL: the memtide Debian packages could not be built (see above); the guest" \
                        "scenarios install memtide from them"
                exit 1
        fi
        while read -r d; do
                # The -dbgsym packages stay on the host.
                case "$d" in *-dbgsym_*) ;; *.deb) debs+=("$d") ;; esac
        done <"$work/debs.list"
        if [ ${#debs[@]} = 0 ]; then
                echo "FAIL: build-deb.sh produced no package"
                exit 1
        fi
        echo "memtide packages: $(for d in "${debs[@]}"; do basename "$d"; done | tr '\n' ' ')"
fi

# --- one guest at a time ------------------------------------------------------------------------
mkdir -p "$cache"
exec 8>"$cache/.run.lock"
lock_wait=${MEMTIDE_VM_LOCK_WAIT:-$timeout_s}
if ! flock -w "$lock_wait" 8; then
        echo "FAIL: another guest held $cache/.run.lock for $lock_wait s"
        exit 1
fi

results=${build:-$work}/meson-logs/vm/$scenario
[ -n "$build" ] || results=$work/results
args=(--image "$image" --results "$results" --timeout "$timeout_s")
for d in "${debs[@]+"${debs[@]}"}"; do args+=(--deb "$d"); done
[ -n "$helper" ] && args+=(--bin "$helper")
# The repository's fixture capture script, when there is one, for capture-idle-fixture.
[ -f "$src/tests/capture-fixture.sh" ] && args+=(--extra "$src/tests/capture-fixture.sh")
# The journal MESSAGE_IDs as the daemon defines them, for the scenarios' journal checks.
if [ -f "$src/daemon/log.h" ]; then
        sed -n 's/^#define \(MEMTIDE_MESSAGE_[A-Z_]*\) *"\([0-9a-f]\{32\}\)".*/\1=\2/p' \
                "$src/daemon/log.h" >"$work/message-ids.env"
        args+=(--extra "$work/message-ids.env")
fi

"$here/run-vm.sh" "${args[@]}" "$scenario"
rc=$?
echo "--- $scenario (rc $rc): guest output ---"
cat "$results/$scenario/log" 2>/dev/null
echo "--- timing ---"
cat "$results/host-timing.txt" 2>/dev/null
echo "results in $results"

if [ -n "$fixture_out" ] && [ "$rc" = 0 ]; then
        if [ -d "$results/$scenario/fixture" ]; then
                rm -rf "$fixture_out"
                mkdir -p "$(dirname "$fixture_out")"
                cp -a "$results/$scenario/fixture" "$fixture_out"
                echo "fixture copied to $fixture_out"
        else
                echo "FAIL: the scenario produced no fixture directory"
                rc=1
        fi
fi
exit "$rc"

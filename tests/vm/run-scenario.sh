#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Entry point of the meson suite 'vm': one scenario per test, one guest boot per scenario.
#
# Usage: run-scenario.sh SCENARIO [--helper PATH] [--build-root DIR] [--timeout SEC]
#                                 [--fixture-out DIR] [--no-tree]
#   SCENARIO        name of tests/vm/scenarios/<SCENARIO>.sh
#   --helper        the memtide-vm-helper binary built by meson (put on the guest's PATH)
#   --build-root    meson build directory to install into the guest (default
#                   $MEMTIDE_BUILD_ROOT); installed with `meson install --destdir`
#   --timeout       hard limit for the guest (default 900 s)
#   --no-tree       install nothing in the guest (scenarios that do not need memtide)
#   --fixture-out   copy the scenario's results/<SCENARIO>/fixture tree to DIR (used by
#                   capture-idle-fixture to refresh tests/fixtures/guest-6.1-vm-idle)
#
# Skips (77) and says why when qemu-system-x86_64 is missing, or when neither a cached image
# nor debootstrap (and root) is there to make one. Results stay in
# BUILD/meson-logs/vm/<SCENARIO>/ (serial.log, log, values.txt, journal.txt, dmesg.txt).
# Only one guest runs at a time on a machine (a lock in the image cache).

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

# --- the memtide tree ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/memtide-vm-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"
if [ "$no_tree" = 1 ]; then
        echo "memtide tree: none (--no-tree)"
elif [ -n "$build" ] && [ -f "$build/meson-private/coredata.dat" ]; then
        # Not --no-rebuild: `meson test` builds only what the tests depend on, and the guest needs
        # everything that installs (the shared libmemcore, man pages, units). The guest tests run
        # alone (is_parallel: false), so this ninja run has the build directory to itself.
        if ! meson install -C "$build" --destdir "$tree" --quiet >"$work/install.log" 2>&1; then
                cat "$work/install.log"
                echo "FAIL: meson install --destdir of $build failed"
                exit 1
        fi
        prefix=$(meson introspect --buildoptions "$build" 2>/dev/null |
                python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))' 2>/dev/null)
        echo "memtide tree: $(find "$tree" -type f | wc -l) files from $build (prefix ${prefix:-?})"
        if [ -n "$prefix" ] && [ "$prefix" != /usr ]; then
                echo "note: prefix is $prefix, not /usr: the guest gets the programs there (the guest" \
                        "runner adds /usr/local/share/dbus-1/system.d to the system bus's policy dirs)"
        fi
else
        echo "note: no meson build directory given: the guest gets no memtide tree"
fi

# --- one guest at a time ------------------------------------------------------------------------
mkdir -p "$cache"
exec 8>"$cache/.run.lock"
if ! flock -w "$timeout_s" 8; then
        echo "FAIL: another guest held $cache/.run.lock for $timeout_s s"
        exit 1
fi

results=${build:-$work}/meson-logs/vm/$scenario
[ -n "$build" ] || results=$work/results
args=(--image "$image" --tree "$tree" --results "$results" --timeout "$timeout_s")
[ -n "$helper" ] && args+=(--bin "$helper")
# The repository's fixture capture script, when there is one, for capture-idle-fixture.
src=${MEMTIDE_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}
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

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# capture-idle-fixture: run the repository's tests/capture-fixture.sh in the idle guest (as
# root, so debugfs extfrag is included) and leave the tree in $RESULTS/fixture, from where
# `run-scenario.sh capture-idle-fixture --fixture-out tests/fixtures/guest-6.1-vm-idle` copies it.
# Not part of the meson suite: it refreshes a fixture, it tests nothing.
. "$(dirname "$0")/lib.sh"

script=$SHARE/extra/capture-fixture.sh
[ -f "$script" ] || skip "tests/capture-fixture.sh is not in the repository"
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
sleep "${MEMTIDE_VM_IDLE_S:-10}"
out=$RESULTS/fixture
rm -rf "$out"
bash "$script" "$out" || { fail "capture-fixture.sh failed"; finish; }
check "the fixture has /proc/meminfo" test -s "$out/proc/meminfo"
check "the fixture has debugfs extfrag" test -s "$out/sys/kernel/debug/extfrag/extfrag_index"
find "$out" -type f | wc -l | sed 's/^/files: /'
finish

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# compare-leaks: memtided against earlyoom (compare-lib.sh) on a runaway leak (~100 MiB/s), a
# slow leak (~15 MiB/s: the warning and a tune or reclaim action also come 30 s or more before
# the kill), a phased leak (to 40 % of RAM, a 20 s pause, on at ~16 MiB/s until stopped) and a
# benign spike to 65 % of RAM held 20 s and freed, three times (nobody throttles or kills).
. "$(dirname "$0")/compare-lib.sh"
# shellcheck disable=SC2086
compare ${MEMTIDE_VM_COMPARE_LEAKS:-runaway slow phased spike}
finish

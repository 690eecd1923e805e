#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# compare: memtided against earlyoom (compare-lib.sh), in one boot, on
#   runaway     a leak of ~100 MiB/s;
#   slow        a leak of ~15 MiB/s (the warning and a tune or reclaim action also come 30 s or
#               more before the kill);
#   phased      a leak to 40 % of RAM, a 20 s pause, then on at ~16 MiB/s until stopped;
#   hotws       a leak beside a service that re-reads a file working set of 40 % of RAM at
#               40 MiB/s;
#   swapthrash  a swapfile of half of RAM and a leaker that rewrites its whole heap every second
#               while it grows;
#   spike       a benign spike to 65 % of RAM held 20 s and freed, three times (nobody throttles
#               or kills).
# MEMTIDE_VM_COMPARE names the workloads to run, in order (default: all six).
. "$(dirname "$0")/compare-lib.sh"
# shellcheck disable=SC2086
compare ${MEMTIDE_VM_COMPARE:-runaway slow phased hotws swapthrash spike}
finish

#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# compare-pressure: memtided against earlyoom (compare-lib.sh) on a leak beside a service that
# re-reads a file working set of 40 % of RAM at 40 MiB/s, and on swap thrash (a swapfile of half
# of RAM, a leaker that rewrites its whole heap every second while it grows).
. "$(dirname "$0")/compare-lib.sh"
# shellcheck disable=SC2086
compare ${MEMTIDE_VM_COMPARE_PRESSURE:-hotws swapthrash}
finish

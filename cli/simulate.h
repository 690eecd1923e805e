/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `memtidectl simulate`: offline replay of trace files through the forecaster and the policy
 * (no daemon, no bus), and the side-by-side evaluation of memtide against the baselines.
 *
 *   memtidectl simulate TRACE [--config FILE] [--json] [--all]
 *   memtidectl simulate --eval TRACE... [--horizon SECONDS]... [--json] [--every N] [--plot DIR]
 *
 * Returns an exit code (memtidectl(1)): 0 success, 2 bad usage, 3 a trace or the configuration
 * could not be read or replayed, 1 anything else.
 */

int verb_simulate(int argc, char *argv[]);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `memtidectl simulate`: offline replay of trace files through the forecaster and the policy
 * (no daemon, no bus), and the side-by-side evaluation of memtide against the baselines.
 *
 *   memtidectl simulate TRACE [--config FILE] [--json] [--all]
 *   memtidectl simulate --eval TRACE... [--horizon SECONDS]... [--json] [--every N]
 *
 * Returns an exit code: 0 success, 1 a trace could not be read or replayed, 2 bad usage.
 */

int verb_simulate(int argc, char *argv[]);
